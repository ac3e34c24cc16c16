"""Layer downloads: ``/download/<layer>.<csv|xlsx|geojson>?unit=<code>&set=<set>&pub=<id>``.

Public layers for anyone; a restricted layer for a signed-in official, inside their unit only
(:mod:`portal.access`).  Public attributes only.  Without ``unit`` the whole layer; without ``pub`` its
current publication (``pub`` picks an older one of the same layer; such a download never changes
and is cached for a day).  Columns: the source id, the public attributes in catalogue order under
bilingual headers ("Tên / Name"), lon and lat (points) or WKT (polygons) in WGS 84, the unit codes
lowest level first, whether the location is approximate, and the publication.

Every download says which publication it holds, when and by which authority that was published,
under which legal reference and licence:

* CSV: UTF-8 with a BOM (Excel shows Vietnamese), the header row first, then the data: it opens
  with a plain ``pandas.read_csv(url)`` and in Excel as it is.  Phone numbers are written grouped
  ("0274 3822 222"), so neither reads them as numbers and drops their leading zero.  Its metadata
  is a CSV on the Web sidecar, ``<layer>.csv-metadata.json`` with the same query
  (:mod:`portal.share.csvw`), named by the CSV's ``Link: <…>; rel="describedby"`` header.
* XLSX: a "Dữ liệu" sheet with the table and a "Thông tin" sheet with the facts.
* GeoJSON: a FeatureCollection whose top-level ``metadata`` member holds them.

CSV and XLSX cells go through :mod:`ingest.sheets`, so no value runs as a formula.  CSV and
GeoJSON are streamed row by row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, request, stream_with_context, url_for

from boundaries.queries import COUNTRY_LEVEL, Unit, set_levels
from ingest.sheets import BOM, Cell, csv_lines, workbook_bytes
from layers.catalog import Layer
from layers.meta import layer_state
from layers.store import Publication, features, get_publication
from portal.access import readable_layer
from portal.catalog import current_catalog
from portal.database import db_session
from portal.errors import BadRequest, NotFound
from portal.http_policy import PINNED_MAX_AGE, cache_for
from portal.i18n import has_message, translate
from portal.maps.overlays import Overlay, public_overlays
from portal.public_url import base_url
from portal.share.common import fixed_language, iso_time, licence, local_time, portal_name
from portal.share.csvw import MEDIA_TYPE, table_metadata
from portal.units import unit_or_404

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}
_PHONE_GROUPS = {10: (4, 3, 3), 11: (4, 4, 3), 8: (4, 4)}  # mobile 0912 345 678, landline, 1900 hotline
_PUBLICATION = re.compile(r"[0-9]{1,18}")
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

bp = Blueprint("downloads", __name__)


@dataclass(frozen=True)
class Export:
    """One download: a layer at a publication, optionally inside a unit."""

    layer: Layer
    publication: Publication
    unit: Unit | None
    levels: tuple[str, ...]
    rows: list[dict[str, Any]]
    pinned: bool

    def columns(self) -> list[tuple[str, str]]:
        """Return (key, bilingual header) of every column, in order."""
        return [("source_id", "Mã / ID"),
                *((a.name, f"{a.label_vi} / {a.label_en}") for a in self.layer.attributes if a.public),
                *self.layer.kind.export_columns(),
                *((f"unit:{level}", _level_header(level)) for level in self.levels),
                ("approximate", "Vị trí gần đúng / Approximate"),
                ("publication", "Lần xuất bản / Publication")]

    def metadata(self) -> list[tuple[str, Cell]]:
        """Return the facts every format states, as (bilingual label, value)."""
        pub, layer, unit = self.publication, self.layer, self.unit
        where = f"{unit.name} ({unit.boundary_set}:{unit.code})" if unit else "Toàn bộ / Everywhere"
        return [
            ("Lớp / Layer", f"{layer.title_vi} / {layer.title_en} ({layer.id})"),
            ("Đơn vị / Unit", where),
            ("Lần xuất bản / Publication", pub.id),
            ("Thời điểm xuất bản / Published at", iso_time(pub.created_at)),
            ("Cơ quan ban hành / Issuing authority", authority()),
            ("Căn cứ pháp lý / Legal reference", pub.legal_ref or "—"),
            ("Số đối tượng / Features", len(self.rows)),
            ("Tọa độ / Coordinates", "WGS 84 (EPSG:4326)"),
            ("Giấy phép / Licence", licence()),
            ("Nguồn / Source", f"{portal_name()} {base_url()}"),
            ("Địa chỉ cố định / Permanent URL", self.permanent_url()),
        ]

    def pinned_params(self) -> dict[str, Any]:
        """Return the query naming this very download: its publication and unit."""
        params: dict[str, Any] = {"pub": self.publication.id}
        if self.unit:
            params.update(unit=self.unit.code, set=self.unit.boundary_set)
        return params

    def permanent_url(self) -> str:
        """Return the URL of this very download, pinned to its publication."""
        return url_for("downloads.download", layer_id=self.layer.id, fmt="csv", _external=True,
                       **self.pinned_params())

    def metadata_url(self) -> str:
        """Return the URL of this download's CSV on the Web metadata, pinned to its publication."""
        return url_for("downloads.csv_metadata", layer_id=self.layer.id, _external=True,
                       **self.pinned_params())

    def csvw(self) -> dict[str, Any]:
        """Return this download's CSV on the Web metadata (provenance, columns and their types)."""
        unit, pub = self.unit, self.publication
        return table_metadata(
            csv_url=self.permanent_url(), columns=self.columns(),
            attribute_types={a.name: a.type for a in self.layer.attributes},
            title=(self.layer.title_vi, self.layer.title_en),
            facts={"publisher": authority(), "legal_ref": pub.legal_ref, "issued": iso_time(pub.created_at),
                   "licence": licence(), "source": base_url(), "identifier": self.permanent_url(),
                   "publication": pub.id,
                   "unit": f"{unit.boundary_set}:{unit.code} {unit.name}" if unit else None,
                   "count": len(self.rows)})

    def csv_values(self, feature: dict[str, Any]) -> list[Cell]:
        """Return one feature's cells for the CSV: phone numbers grouped, so none loses its zero."""
        phones = {index for index, (key, _) in enumerate(self.columns()) if key in self.phone_keys()}
        return [spaced_phone(cell) if index in phones else cell
                for index, cell in enumerate(self.values(feature))]

    def phone_keys(self) -> set[str]:
        """Return the public attributes holding phone numbers."""
        return {a.name for a in self.layer.attributes if a.public and a.type == "phone"}

    def values(self, feature: dict[str, Any]) -> list[Cell]:
        """Return one feature's cells, in column order."""
        props, geometry, units = feature["props"], feature["geometry"], feature["units"] or {}
        return [feature["source_id"], *(_cell(props.get(a.name)) for a in self.layer.attributes if a.public),
                *self.layer.kind.export_place(geometry), *(units.get(level) for level in self.levels),
                bool(feature["approximate"]), feature["publication"]]

    def filename(self, fmt: str) -> str:
        """Return an ASCII file name: layer, unit and publication."""
        where = f"{self.unit.boundary_set}-{self.unit.code}" if self.unit else "all"
        return _FILENAME_UNSAFE.sub("_", f"{self.layer.id}_{where}_pub{self.publication.id}") + f".{fmt}"


def spaced_phone(value: Cell) -> Cell:
    """Return a phone number of bare digits grouped as people write it (other values as they are).

    >>> spaced_phone("0912345678"), spaced_phone("02743822222"), spaced_phone("19009095")
    ('0912 345 678', '0274 3822 222', '1900 9095')
    >>> spaced_phone("115"), spaced_phone(None), spaced_phone("@SUM(1)")
    ('115', None, '@SUM(1)')
    """
    if not isinstance(value, str) or not value.isdigit() or len(value) not in _PHONE_GROUPS:
        return value
    parts, start = [], 0
    for size in _PHONE_GROUPS[len(value)]:
        parts.append(value[start:start + size])
        start += size
    return " ".join(parts)


def authority() -> str:
    """Return the authority issuing the data (the setting ``EPIMAP_SOURCE_AUTHORITY``)."""
    return current_app.config["SETTINGS"].source_authority


def _level_header(level: str) -> str:
    key = f"level_{level}"
    if not has_message(key):
        return f"Mã {level} / {level} code"
    return f"Mã {translate(key, 'vi').lower()} / {translate(key, 'en')} code"


def _cell(value: Any) -> Cell:
    if value is None or isinstance(value, str | int | float):
        return value
    return json.dumps(value, ensure_ascii=False)


def _export(layer_id: str) -> Export:
    session = db_session()
    readable = readable_layer(layer_id)
    layer = readable.layer
    settings = current_app.config["SETTINGS"]
    unit = None
    code = (request.args.get("unit") or "").strip()
    if code:
        unit = unit_or_404(session, request.args.get("set") or settings.default_set, code)
    raw = (request.args.get("pub") or "").strip()
    if raw and not _PUBLICATION.fullmatch(raw):
        raise BadRequest("Tham số pub phải là số lần xuất bản.",
                         "Parameter pub must be a publication number.")
    number = int(raw) if raw else layer_state(session, layer).publication
    publication = get_publication(session, layer, number) if number is not None else None
    if publication is None:
        raise NotFound(f"Lớp “{layer.title_vi}” chưa có lần xuất bản này.",
                       f"Layer '{layer.title_en}' has no such publication.")
    rows = features(session, layer, as_of=publication.id, unit=(unit.level, unit.code) if unit else None,
                    reader=readable.reader)
    levels = tuple(level for level in reversed(set_levels(session, publication.boundary_set))
                   if level != COUNTRY_LEVEL)  # features carry no country code: there is one
    return Export(layer, publication, unit, levels, rows, pinned=bool(raw))


def _csv(export: Export) -> Iterator[str]:
    yield BOM
    yield from csv_lines([[header for _, header in export.columns()]])
    yield from csv_lines(export.csv_values(feature) for feature in export.rows)


def _xlsx(export: Export) -> bytes:
    table = [[header for _, header in export.columns()], *(export.values(f) for f in export.rows)]
    about = [["Mục / Item", "Giá trị / Value"], *([label, value] for label, value in export.metadata())]
    return workbook_bytes([("Dữ liệu", table), ("Thông tin", about)])


def _geojson(export: Export) -> Iterator[str]:
    pub, layer, unit = export.publication, export.layer, export.unit
    metadata = {
        "layer": layer.id, "title": {"vi": layer.title_vi, "en": layer.title_en},
        "publication": pub.id, "published_at": iso_time(pub.created_at),
        "unit": {"set": unit.boundary_set, "code": unit.code, "name": unit.name} if unit else None,
        "count": len(export.rows), "crs": "EPSG:4326", "licence": licence(), "attribution": portal_name(),
        "authority": authority(), "legal_ref": pub.legal_ref,
        "source": base_url(), "url": export.permanent_url().replace(".csv?", ".geojson?"),
        "fields": [{"name": a.name, "vi": a.label_vi, "en": a.label_en}
                   for a in layer.attributes if a.public],
    }
    yield ('{"type": "FeatureCollection", "metadata": ' + json.dumps(metadata, ensure_ascii=False)
           + ', "features": [\n')
    for index, feature in enumerate(export.rows):
        units = feature["units"] or {}
        properties = {**{a.name: feature["props"].get(a.name) for a in layer.attributes if a.public},
                      "approximate": bool(feature["approximate"]),
                      "publication": feature["publication"],
                      **{f"{level}_code": units.get(level) for level in export.levels}}
        item = {"type": "Feature", "id": feature["source_id"], "geometry": feature["geometry"],
                "properties": properties}
        yield ("," if index else "") + json.dumps(item, ensure_ascii=False) + "\n"
    yield "]}\n"


def _encoded(chunks: Iterator[str]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.encode("utf-8")


@bp.before_request
def _language() -> None:
    fixed_language()


@bp.route("/download/<layer_id>.<any(csv, xlsx, geojson):fmt>")
def download(layer_id: str, fmt: str) -> Response:
    """Send a public layer's features (in a unit, at a publication) as CSV, XLSX or GeoJSON."""
    export = _export(layer_id)
    if export.pinned:  # an older publication never changes; the current one does (the family's)
        cache_for(PINNED_MAX_AGE)
    if fmt == "xlsx":
        response = Response(_xlsx(export), mimetype=FORMATS[fmt])
    elif fmt == "csv":
        response = Response(stream_with_context(_encoded(_csv(export))), content_type=FORMATS[fmt])
        response.headers["Link"] = f'<{export.metadata_url()}>; rel="describedby"; type="{MEDIA_TYPE}"'
    else:
        response = Response(stream_with_context(_encoded(_geojson(export))), content_type=FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename(fmt)}"'
    return response


@bp.route("/download/<layer_id>.csv-metadata.json")
def csv_metadata(layer_id: str) -> Response:
    """Describe a CSV download (same query) as W3C CSV on the Web metadata: provenance and columns."""
    export = _export(layer_id)
    if export.pinned:
        cache_for(PINNED_MAX_AGE)
    body = json.dumps(export.csvw(), ensure_ascii=False, indent=1)
    return Response(body, content_type=f"{MEDIA_TYPE}; charset=utf-8")


def download_links(unit: Unit, overlays: list[Overlay] | None = None) -> list[dict[str, Any]]:
    """Return, per published public layer, its title, publication and download URLs inside a unit."""
    from portal.i18n import current_language

    if overlays is None:
        overlays = public_overlays(db_session(), current_catalog(), current_language())
    params = {"unit": unit.code}
    if unit.boundary_set != current_app.config["SETTINGS"].default_set:
        params["set"] = unit.boundary_set
    return [{"id": o.layer.id, "title": o.meta["title"], "publication": o.publication,
             "updated": local_time(o.meta["updated"]),
             "links": [(fmt, url_for("downloads.download", layer_id=o.layer.id, fmt=fmt, **params))
                       for fmt in FORMATS]}
            for o in sorted(overlays, key=lambda o: o.meta["title"])]
