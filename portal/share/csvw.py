"""The CSV downloads' metadata as a W3C CSV on the Web sidecar (``<layer>.csv-metadata.json``).

The CSV itself is a plain table (header row first), so ``pandas.read_csv(url)`` and Excel open it as
it is; what it holds (layer, unit, publication, issuing authority, legal reference, licence, the
columns' titles and types) is described here, and the CSV names this file in a ``Link`` header
(``rel="describedby"``), as the CSVW primer recommends.  See https://www.w3.org/TR/tabular-metadata/.
"""

from __future__ import annotations

import re
from typing import Any

CONTEXT = "http://www.w3.org/ns/csvw"
MEDIA_TYPE = "application/csvm+json"
# Column datatypes by key (the rest are strings: ids, names, phone numbers and unit codes keep
# their leading zeros when read by a CSVW-aware tool).
_DATATYPES = {"lon": "number", "lat": "number", "approximate": "boolean", "publication": "integer"}
_ATTRIBUTE_TYPES = {"int": "integer", "float": "number"}
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def column_name(key: str) -> str:
    """Return a CSVW column name for an export column key.

    >>> column_name("unit:commune"), column_name("source_id")
    ('commune_code', 'source_id')
    """
    if key.startswith("unit:"):
        key = key[5:] + "_code"
    return _NAME_UNSAFE.sub("_", key)


def _datatype(key: str, attribute_types: dict[str, str]) -> str:
    return _DATATYPES.get(key) or _ATTRIBUTE_TYPES.get(attribute_types.get(key, ""), "string")


def _bilingual(vi: str, en: str) -> list[dict[str, str]]:
    return [{"@value": vi, "@language": "vi"}, {"@value": en, "@language": "en"}]


def table_metadata(*, csv_url: str, columns: list[tuple[str, str]], attribute_types: dict[str, str],
                   title: tuple[str, str], facts: dict[str, Any]) -> dict[str, Any]:
    """Return the CSVW metadata of one CSV download: its provenance and its columns' titles and types.

    ``facts`` holds ``publisher`` (the issuing authority), ``legal_ref``, ``issued``, ``licence``,
    ``source``, ``identifier`` (the pinned URL), ``publication``, ``unit`` and ``count``.
    """
    return {
        "@context": [CONTEXT, {"@language": "vi"}],
        "url": csv_url,
        "dc:title": _bilingual(*title),
        "dc:publisher": facts["publisher"],
        "dc:references": facts["legal_ref"],
        "dc:issued": {"@value": facts["issued"], "@type": "xsd:dateTime"},
        "dc:license": facts["licence"],
        "dc:source": facts["source"],
        "dc:identifier": facts["identifier"],
        "dc:coverage": facts["unit"],
        "dc:extent": facts["count"],
        "prov:wasGeneratedBy": {"rdfs:label": f"publication {facts['publication']}",
                                "dc:references": facts["legal_ref"]},
        "dialect": {"encoding": "utf-8", "header": True, "headerRowCount": 1},
        "tableSchema": {
            "columns": [{"name": column_name(key), "titles": header,
                         "datatype": _datatype(key, attribute_types)} for key, header in columns],
            "primaryKey": "source_id",
            "aboutUrl": "#{source_id}",
        },
    }
