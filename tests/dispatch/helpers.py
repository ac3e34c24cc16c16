"""Shared helpers for the requests tests: the demo's area, intakes, points either side of a border."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from dispatch.intake import Intake, take
from dispatch.routing import Area
from epimap.db import session_scope
from layers.catalog import default_catalog

AREA = Area("vn2021", "74")  # Bình Dương, the demo province
NOW = datetime(2021, 8, 16, 9, 0, tzinfo=UTC)
PHONE = "0912345678"
SERVICES = default_catalog().services


def intake(**fields: object) -> Intake:
    """Return an intake with usable defaults (food, named commune Hiệp Thành)."""
    values: dict = {"kind": "food", "description": "Gia đình 4 người cần gạo", "phone": PHONE,
                    "commune": "Phường Hiệp Thành"}
    values.update(fields)
    return Intake(**values)


def file_request(bind, at: datetime = NOW, **fields: object):
    """Take one request in through the store; return it."""
    with session_scope(bind) as session:
        return take(session, AREA, SERVICES, intake(**fields), actor="citizen", now=at)


def points_across_border(bind, a: str, b: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """Return a point in commune ``a`` and one in ``b``, each about 30 m from their shared border."""
    row = bind.execute(text(
        "WITH u AS (SELECT (SELECT geom FROM admin_unit WHERE boundary_set = 'vn2021' AND code = :a) AS ga,"
        "                  (SELECT geom FROM admin_unit WHERE boundary_set = 'vn2021' AND code = :b) AS gb),"
        " p AS (SELECT ga, gb,"
        "       ST_PointOnSurface(ST_Intersection(ST_Boundary(ga), ST_Buffer(gb, 0.00001))) AS on_border"
        " FROM u)"
        " SELECT ST_X(pa) AS xa, ST_Y(pa) AS ya, ST_X(pb) AS xb, ST_Y(pb) AS yb FROM ("
        "   SELECT ST_ClosestPoint(ST_Buffer(ga, -0.0003), on_border) AS pa,"
        "          ST_ClosestPoint(ST_Buffer(gb, -0.0003), on_border) AS pb FROM p) q"),
        {"a": a, "b": b}).one()
    return (row.xa, row.ya), (row.xb, row.yb)


def neighbour_of(bind, code: str) -> str:
    """Return the code of a commune sharing a border with the given one, in the same district."""
    return bind.execute(text(
        "SELECT b.code FROM admin_unit a JOIN admin_unit b ON b.boundary_set = a.boundary_set"
        " AND b.parent_code = a.parent_code AND b.code <> a.code AND ST_Touches(a.geom, b.geom)"
        " WHERE a.boundary_set = 'vn2021' AND a.code = :c ORDER BY b.code LIMIT 1"), {"c": code}).scalar_one()
