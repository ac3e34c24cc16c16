"""GeoReport v2's two formats: a JSON list or object, and XML with the specification's element names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

import orjson
from flask import Response

FORMATS = ("json", "xml")
MIMETYPES = {"json": "application/json", "xml": "text/xml"}
# A list's element name -> each item's (the specification's <attributes><attribute> …).
ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format",
         "services": "service", "service_requests": "request", "errors": "error"}


def xml_text(value: Any) -> str | None:
    """Return how a value is written inside an XML element (None: an empty element).

    >>> xml_text(False), xml_text(10.5), xml_text(None), xml_text(datetime(2021, 8, 16, 9))
    ('false', '10.5', None, '2021-08-16T09:00:00')
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _fill(parent: ElementTree.Element, name: str, value: Any) -> None:
    element = ElementTree.SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _fill(element, key, inner)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for inner in value:
            _fill(element, ITEMS.get(name, "item"), inner)
    else:
        element.text = xml_text(value)


def to_xml(root: str, body: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> bytes:
    """Return a document: a list under ``root`` (items named by :data:`ITEMS`), or one object as ``root``.

    >>> to_xml("services", [{"service_code": "food", "metadata": False}]).decode()[39:]
    '<services><service><service_code>food</service_code><metadata>false</metadata></service></services>'
    """
    element = ElementTree.Element(root)
    if isinstance(body, Mapping):
        for key, value in body.items():
            _fill(element, key, value)
    else:
        for item in body:
            _fill(element, ITEMS[root], item)
    return ElementTree.tostring(element, encoding="utf-8", xml_declaration=True)


def answer(fmt: str, root: str, body: Sequence[Mapping[str, Any]] | Mapping[str, Any],
           status: int = 200) -> Response:
    """Return the answer in the format asked (``root`` names the XML document's element)."""
    if fmt == "xml":
        data = to_xml(root, body)
    else:
        data = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    return Response(data, status=status, mimetype=MIMETYPES[fmt],
                    content_type=f"{MIMETYPES[fmt]}; charset=utf-8")


def format_of(path: str) -> str:
    """Return the format a URL asks for by its extension; JSON when it names none.

    >>> format_of("/open311/v2/services.xml"), format_of("/open311/v2/services"), format_of("/x.json")
    ('xml', 'json', 'json')
    """
    return "xml" if path.endswith(".xml") else "json"
