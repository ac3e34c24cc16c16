"""The nearest current features of a point layer, by exact distance on the WGS 84 ellipsoid.

The KNN operator (``geom <-> point``) walks a GiST index of the features' points in order but
measures planar degrees, which are not metres (a degree of longitude is shorter than one of
latitude away from the equator). So the walk measures each feature it meets with
``ST_DistanceSpheroid`` on WGS 84, and goes on until the answer is *proven*: a feature ``m``
metres away lies within ``m / (fewest metres a planar degree spans nearby)`` planar degrees, so
once the walk has passed that many degrees for the ``k`` nearest it has met, nothing it has not
met can be nearer. The walk is the database function ``nearest_candidates`` (migration 0007), so
it takes one round trip and stops where each point needs: after about ``k`` features inside the
province, after dozens (up to a few hundred) outside it, where every candidate is about as far.
Python ranks what it returns; only when the filters (open now, outside lockdown) leave too few
answers does it ask for a longer walk.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

import orjson
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, TextClause, text
from sqlalchemy.orm import Session

from boundaries.queries import COUNTRY_LEVEL
from epimap.db import fetch_rows
from epimap.knn import MAX_LATITUDE, METRES_PER_DEGREE_LAT_MIN, METRES_PER_DEGREE_LON_EQUATOR, SAFETY
from layers.catalog import Layer
from layers.hours import VIETNAM, open_at_minute

MAX_CANDIDATES = 20_000  # the longest walk: past it open_now/exclude_lockdown give up looking further
# The layers that block access (the catalogue's ``blocks_access``, e.g. lockdown zones) are written
# into the statement, not bound: a prepared statement's generic plan must know they are small layers
# (a parameter there plans a sequential scan of every feature).  ``nearest_candidates`` walks; this
# adds each feature's "inside a zone in force" flag and publication time.
_KNN_TEMPLATE = """
WITH zone AS MATERIALIZED (
    SELECT z.geom FROM feature z
    WHERE z.valid_to_pub IS NULL AND z.layer_id IN ({blockers})
      AND z.props ->> 'valid_from' <= :day
      AND (z.props ->> 'valid_to' IS NULL OR z.props ->> 'valid_to' >= :day)
)
SELECT w.source_id, w.props::text AS props, w.approximate, ST_X(w.geom) AS lon, ST_Y(w.geom) AS lat,
       w.distance_m, w.covered,
       EXISTS (SELECT 1 FROM zone z WHERE ST_Intersects(z.geom, w.geom)) AS in_lockdown,
       (SELECT p.created_at FROM publication p WHERE p.id = w.valid_from_pub) AS updated
FROM nearest_candidates(:layer, :lon, :lat, :k, :cap) w
"""
_LAYER_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")  # the catalogue's ids: safe as SQL literals


def knn_sql(blockers: Sequence[str]) -> str:
    """Return the KNN statement flagging sites inside the current areas of the ``blockers`` layers."""
    if not all(_LAYER_ID.fullmatch(b) for b in blockers):
        raise ValueError(f"not layer ids: {blockers!r}")
    return _KNN_TEMPLATE.format(blockers=", ".join(f"'{b}'" for b in sorted(blockers)) or "NULL")


@lru_cache(maxsize=16)
def _knn(blockers: tuple[str, ...]) -> TextClause:
    return text(knn_sql(blockers))
_SOURCE_ID, _DISTANCE, _COVERED, _IN_LOCKDOWN = 0, 5, 6, 7  # the KNN statement's columns


def knn_params(layer_id: str, lon: float, lat: float, k: int, day: str) -> dict[str, Any]:
    """Return the KNN statement's parameters: a walk proving the ``k`` nearest, zones in force on ``day``."""
    return {"layer": layer_id, "lon": lon, "lat": lat, "k": k, "cap": MAX_CANDIDATES, "day": day}


def metres_per_degree_floor(lat: float, reach_m: float) -> float:
    """Fewest metres a planar degree can span within ``reach_m`` of latitude ``lat`` (a bound).

    ``epimap.knn.floor_sql`` is the same bound in SQL, as ``nearest_candidates`` uses it.

    >>> round(metres_per_degree_floor(0.0, 0.0))
    110563
    >>> round(metres_per_degree_floor(11.0, 50_000))
    109093
    """
    farthest = min(abs(lat) + reach_m / METRES_PER_DEGREE_LAT_MIN, MAX_LATITUDE)
    per_degree = min(METRES_PER_DEGREE_LAT_MIN,
                     METRES_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(farthest)))
    return per_degree * SAFETY


def _now() -> datetime:
    return datetime.now(VIETNAM)


def _site(row: tuple, public: tuple[str, ...], when: datetime) -> dict[str, Any]:
    source_id, props_text, approximate, lon, lat, metres, _, in_lockdown, updated = row
    stored = orjson.loads(props_text)
    props = {name: stored[name] for name in public if name in stored}
    hours = props.get("hours")
    return {
        "id": source_id, "lon": lon, "lat": lat, "props": props, "distance_m": metres,
        "approximate": bool(approximate), "updated": updated.astimezone(UTC), "in_lockdown": in_lockdown,
        "open_now": open_at_minute(hours, when) if isinstance(hours, str) else None,
    }


def _walk(db: Session | Connection, params: dict[str, Any], blockers: tuple[str, ...]) -> list[tuple]:
    """Return the features walked (:func:`knn_sql`), in no particular order, and the walk's end: a
    row without a feature (``source_id`` None) whose ``covered`` says how far the walk went.

    The hot path of ``/api/nearby``: run on the driver, rows as plain tuples."""
    return fetch_rows(db, _knn(blockers), params)


def nearby(db: Session | Connection, layer: Layer, lon: float, lat: float, limit: int, *,
           blockers: Sequence[str] = (), open_now: bool = False, exclude_lockdown: bool = False,
           at: datetime | None = None) -> list[dict[str, Any]]:
    """Return the ``limit`` nearest current features of a point layer, nearest first.

    Each is a dict: ``id``, ``lon``, ``lat``, ``props`` (public attributes only), ``distance_m``
    (geodesic, metres), ``approximate``, ``updated`` (the publication that last changed it),
    ``in_lockdown`` (inside a current area of a ``blockers`` layer, e.g. a lockdown zone, in force
    on ``at``'s day: the catalogue's ``access_blockers()``) and ``open_now``
    (True/False/None from its hours at ``at``; default now, in Việt Nam).  ``open_now`` keeps
    only sites known to be open, ``exclude_lockdown`` drops those in a lockdown zone.
    """
    if not layer.searchable:
        raise ValueError(f"layer {layer.id} is not searchable by distance")
    when = at if at is not None else _now()
    day = (when if when.tzinfo is None else when.astimezone(VIETNAM)).date().isoformat()
    minute = when.replace(second=0, microsecond=0)  # hours open and close on whole minutes
    public, k = layer.public_attributes, limit
    while True:
        rows = _walk(db, knn_params(layer.id, lon, lat, k, day), tuple(sorted(blockers)))
        covered = next(r[_COVERED] for r in rows if r[_SOURCE_ID] is None)  # all nearer were walked
        kept: list[dict[str, Any]] = []
        walked = (r for r in rows if r[_SOURCE_ID] is not None)
        for row in sorted(walked, key=itemgetter(_DISTANCE, _SOURCE_ID)):
            if row[_DISTANCE] >= covered * metres_per_degree_floor(lat, row[_DISTANCE]):
                break  # a feature not walked may be nearer than this one (and all after it)
            if exclude_lockdown and row[_IN_LOCKDOWN]:
                continue
            site = _site(row, public, minute)
            if not open_now or site["open_now"] is True:
                kept.append(site)
                if len(kept) == limit:
                    return kept
        if covered == math.inf or k >= MAX_CANDIDATES:
            return kept  # the whole layer was walked, or as much of it as we walk
        k = min(k * 4, MAX_CANDIDATES)  # the filters left too few: a longer walk


# ---------------------------------------------------------------------------- the portal's area


@dataclass(frozen=True)
class Area:
    """The top-level units of a boundary set, for "is this point near us at all?"."""

    set_name: str
    geometry: BaseGeometry | None


# The set's top units below the country that are filled in (have units below them): the country's
# other provinces are drawn on its map, but nothing is known inside them. A set of one level: all.
_AREA_UNITS = """
WITH top AS (
    SELECT u.geom, EXISTS (SELECT 1 FROM admin_unit c WHERE c.boundary_set = u.boundary_set
                           AND c.parent_code = u.code) AS filled
    FROM admin_unit u WHERE u.boundary_set = :s AND u.depth = (
        SELECT min(depth) FROM admin_unit WHERE boundary_set = :s AND level <> :country)
), area AS (SELECT geom FROM top WHERE filled OR NOT EXISTS (SELECT 1 FROM top WHERE filled))
"""


def load_area(db: Session | Connection, set_name: str) -> Area:
    """Read the union of a set's filled-in top-level units (None when the set has none)."""
    wkb = db.execute(text(_AREA_UNITS + "SELECT ST_AsBinary(ST_Union(geom)) FROM area"),  # noqa: S608
                     {"s": set_name, "country": COUNTRY_LEVEL}).scalar()
    geometry = shapely.from_wkb(bytes(wkb)) if wkb else None
    if geometry is not None:
        shapely.prepare(geometry)
    return Area(set_name, geometry)


def within_area(db: Session | Connection, area: Area, lon: float, lat: float, metres: float) -> bool:
    """Tell whether a point is within ``metres`` (geodesic) of the area's units.

    Decided in-process when the planar distance in degrees leaves no doubt (inside the area;
    clearly nearer or farther than any degree's length allows); otherwise PostGIS decides
    with ``ST_DWithin`` on geography.
    """
    if area.geometry is None:
        return False
    point = shapely.Point(lon, lat)
    if area.geometry.contains(point):
        return True
    degrees = area.geometry.distance(point)
    if degrees * 111_700 <= metres:  # no degree spans more than ~111.7 km: surely within
        return True
    if degrees * metres_per_degree_floor(lat, metres) > metres:
        return False
    return bool(db.execute(text(
        _AREA_UNITS + "SELECT EXISTS (SELECT 1 FROM area WHERE"  # noqa: S608
        " ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, :m))"),
        {"s": area.set_name, "x": lon, "y": lat, "m": metres, "country": COUNTRY_LEVEL}).scalar())
