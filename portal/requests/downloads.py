"""Downloads of the public request counts: ``/download/citizen_requests.<csv|geojson>?unit=&set=``.

One row per commune and kind (CSV) or one point per commune at its label point (GeoJSON): open,
resolved and the median hours to resolve.  Never a request's point, text or caller.  Like the
layer downloads (:mod:`portal.share.downloads`): a UTF-8 CSV with a BOM and ``#`` metadata lines
(``pandas.read_csv(url, comment="#")``), a GeoJSON FeatureCollection with a ``metadata`` member.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, request

from boundaries.queries import Unit
from ingest.sheets import BOM, csv_lines, plain_text
from layers.catalog import Layer, Service
from portal.catalog import current_catalog
from portal.database import db_session
from portal.errors import NotFound
from portal.public_url import base_url
from portal.requests.counts import commune_counts, commune_totals, requests_layer
from portal.share.common import fixed_language, iso_time, licence, portal_name
from portal.units import unit_or_404

FORMATS = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}
COLUMNS = ("Mã xã / Commune code", "Xã / Commune", "Mã loại / Kind code", "Loại / Kind",
           "Đang mở / Open", "Đã giải quyết / Resolved", "Trung vị giờ giải quyết / Median hours to resolve",
           "Kinh độ xã / Commune lon", "Vĩ độ xã / Commune lat")
NOTE = ("Chỉ số lượng theo xã; không có thông tin cá nhân / Counts per commune only; no personal data;"
        " points are communes' label points")

bp = Blueprint("request_counts", __name__)


def _layer() -> Layer:
    layer = requests_layer(current_catalog())
    if layer is None:
        raise NotFound()
    return layer


def _unit() -> Unit:
    settings = current_app.config["SETTINGS"]
    code = (request.args.get("unit") or "").strip() or settings.default_unit
    return unit_or_404(db_session(), request.args.get("set") or settings.default_set, code)


def _metadata(layer: Layer, unit: Unit) -> list[tuple[str, str]]:
    return [("Lớp / Layer", f"{layer.title_vi} / {layer.title_en} ({layer.id})"),
            ("Đơn vị / Unit", f"{unit.name} ({unit.boundary_set}:{unit.code})"),
            ("Thời điểm / Generated at", iso_time(datetime.now(UTC)) or ""),
            ("Tọa độ / Coordinates", "WGS 84 (EPSG:4326)"),
            ("Giấy phép / Licence", licence()),
            ("Nguồn / Source", f"{portal_name()} {base_url()}"),
            ("Ghi chú / Note", NOTE)]


def _csv(layer: Layer, unit: Unit, services: dict[str, Service]) -> Iterator[str]:
    yield BOM
    for label, value in _metadata(layer, unit):
        yield "# " + plain_text(f"{label}: {value}").replace(",", ";") + "\r\n"
    yield from csv_lines([list(COLUMNS)])
    places = {t.code: t for t in commune_totals(db_session(), unit)}
    rows = []
    for count in commune_counts(db_session(), unit):
        place = places.get(count.commune_code)
        service = services.get(count.kind)
        rows.append([count.commune_code, count.commune_name, count.kind,
                     f"{service.title_vi} / {service.title_en}" if service else count.kind,
                     count.open, count.resolved, count.median_hours_to_resolve,
                     place.lon if place else None, place.lat if place else None])
    yield from csv_lines(rows)


def _geojson(layer: Layer, unit: Unit, services: dict[str, Service]) -> str:
    totals = commune_totals(db_session(), unit)
    metadata = {"layer": layer.id, "title": {"vi": layer.title_vi, "en": layer.title_en},
                "unit": {"set": unit.boundary_set, "code": unit.code, "name": unit.name},
                "count": len(totals), "crs": "EPSG:4326", "licence": licence(), "attribution": portal_name(),
                "source": base_url(), "note": NOTE}
    return json.dumps({"type": "FeatureCollection", "metadata": metadata,
                       "features": [t.feature(services) for t in totals]}, ensure_ascii=False)


@bp.route("/download/citizen_requests.<any(csv, geojson):fmt>")
def download(fmt: str) -> Response:
    """Send the request counts per commune and kind inside a unit, as CSV or GeoJSON."""
    fixed_language()
    layer, unit, services = _layer(), _unit(), current_catalog().services
    if fmt == "csv":
        response = Response("".join(_csv(layer, unit, services)).encode("utf-8"), content_type=FORMATS[fmt])
    else:
        response = Response(_geojson(layer, unit, services), content_type=FORMATS[fmt])
    filename = f"{layer.id}_{unit.boundary_set}-{unit.code}.{fmt}".replace("/", "_")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
