"""The nearest current features of a point layer, by exact distance on the WGS 84 ellipsoid.

The KNN operator (``geom <-> point``) walks the partial GiST index ``feature_current_geom_idx``
but measures planar degrees, which are not metres (a degree of longitude is shorter than one
of latitude away from the equator).  So a generous candidate set is fetched by KNN, measured
with ``ST_DistanceSpheroid`` on WGS 84 and sorted by metres, and the answer is *proven* exact: every
feature outside the candidate set is at least ``R`` planar degrees away (the farthest
candidate), hence at least ``R × (fewest metres a degree spans nearby)`` metres away, so
answers nearer than that are certainly the nearest.  When the ``limit``-th answer (``d``
metres) is not, every feature that could beat it lies within ``r = d / (fewest metres per
degree)`` planar degrees: the KNN walk goes on, fourfold each time, until it passes ``r``, and
the candidates within ``r`` are ranked.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import shapely
from psycopg.rows import namedtuple_row
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from layers.catalog import Layer
from layers.hours import VIETNAM, cached_parse_hours, is_open

LOCKDOWN_LAYER = "lockdown_zones"  # written into KNN_SQL
MAX_CANDIDATES = 20_000  # past this open_now/exclude_lockdown give up looking further
# On the WGS 84 ellipsoid a degree of latitude spans at least 110,574.27 m (at the equator) and a
# degree of longitude at least 111,319.49 m × cos(latitude): along any path, a planar degree
# spans at least the smaller of the two over the latitudes the path crosses.
METRES_PER_DEGREE_LAT_MIN = 110_574.0
METRES_PER_DEGREE_LON_EQUATOR = 111_320.0
SAFETY = 0.9999  # covers the rounding of the two constants above and of floating point

# The lockdown layer is written into the statement, not bound: a prepared statement's generic
# plan must know it is a small layer (a parameter there plans a sequential scan of every feature).
# One flat KNN walk: the index hands over the ``n`` nearest in planar degrees, each measured in
# metres and checked against the zones in force; sorting by metres is left to Python.
WGS84 = 'SPHEROID["WGS 84",6378137,298.257223563]'
# ST_DistanceSpheroid on the geometries gives ST_Distance(geography)'s metres (the same
# ellipsoidal inverse) without casting every candidate to geography first.
KNN_SQL = """
WITH zone AS MATERIALIZED (
    SELECT z.geom FROM feature z
    WHERE z.valid_to_pub IS NULL AND z.layer_id = 'lockdown_zones'
      AND z.props ->> 'valid_from' <= :day
      AND (z.props ->> 'valid_to' IS NULL OR z.props ->> 'valid_to' >= :day)
)
SELECT f.source_id, f.props::text AS props, f.approximate, ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat,
       f.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS planar,
       ST_DistanceSpheroid(f.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), '{WGS84}') AS distance_m,
       EXISTS (SELECT 1 FROM zone z WHERE ST_Intersects(z.geom, f.geom)) AS in_lockdown,
       (SELECT p.created_at FROM publication p WHERE p.id = f.valid_from_pub) AS updated
FROM feature f
WHERE f.valid_to_pub IS NULL AND f.layer_id = :layer
ORDER BY f.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
LIMIT :n
""".replace("{WGS84}", WGS84)
# The hot path runs it on the driver (psycopg) itself: SQLAlchemy's statement and result layers
# cost as much Python time per request as the rest of the API together.
_KNN_DRIVER = re.sub(r"(?<!:):(\w+)", r"%(\1)s", KNN_SQL)


def candidate_count(limit: int) -> int:
    """How many KNN candidates to measure for ``limit`` answers (enlarged when not enough).

    A quarter more and a few: planar and metric order differ only where two candidates' distances
    are within ~1.2 % of each other (a degree of longitude is that much shorter than one of
    latitude at 11° N), so the ``limit``-th in metres is nearly always nearer than the farthest
    candidate; when it is not, the proof below fails and the walk goes on.  Every candidate costs
    a geodesic distance, a zone test and its attributes, so fewer is faster.

    >>> candidate_count(10), candidate_count(100)
    (17, 130)
    """
    return limit + limit // 4 + 5


def knn_params(layer_id: str, lon: float, lat: float, n: int, day: str) -> dict[str, Any]:
    """Return the parameters of ``KNN_SQL``: the ``n`` nearest candidates, zones in force on ``day``."""
    return {"layer": layer_id, "lon": lon, "lat": lat, "n": n, "day": day}


def metres_per_degree_floor(lat: float, reach_m: float) -> float:
    """Fewest metres a planar degree can span within ``reach_m`` of latitude ``lat`` (a bound).

    >>> round(metres_per_degree_floor(0.0, 0.0))
    110563
    >>> round(metres_per_degree_floor(11.0, 50_000))
    109093
    """
    farthest = min(abs(lat) + reach_m / METRES_PER_DEGREE_LAT_MIN, 89.9)
    per_degree = min(METRES_PER_DEGREE_LAT_MIN,
                     METRES_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(farthest)))
    return per_degree * SAFETY


def _now() -> datetime:
    return datetime.now(VIETNAM)


def _site(row: Any, public: tuple[str, ...], when: datetime) -> dict[str, Any]:
    stored = orjson.loads(row.props)
    props = {name: stored[name] for name in public if name in stored}
    hours = props.get("hours")
    return {
        "id": row.source_id, "lon": row.lon, "lat": row.lat, "props": props,
        "distance_m": row.distance_m, "approximate": bool(row.approximate),
        "updated": row.updated.astimezone(UTC), "in_lockdown": row.in_lockdown,
        "open_now": is_open(cached_parse_hours(hours), when) if isinstance(hours, str) else None,
    }


def _grown(n: int, farthest: float, radius: float | None) -> int:
    """Return how many candidates the next walk takes: enough to pass ``radius`` at the density
    the last walk saw (n grows with the area, the radius squared), with half as many again to
    spare; fourfold when there is no radius to reach (filters left too few answers).

    >>> _grown(17, 0.010, 0.0102), _grown(17, 0.010, None)
    (34, 68)
    """
    if radius is None or farthest <= 0:
        return n * 4
    return max(n * 2, math.ceil(n * 1.5 * (radius / farthest) ** 2))


def _walk(driver: Any, params: dict[str, Any]) -> list[Any]:
    """Return the KNN candidates, nearest first in planar degrees."""
    with driver.cursor(row_factory=namedtuple_row, binary=True) as cursor:
        return cursor.execute(_KNN_DRIVER, params).fetchall()


def nearby(db: Session | Connection, layer: Layer, lon: float, lat: float, limit: int, *,
           open_now: bool = False, exclude_lockdown: bool = False,
           at: datetime | None = None) -> list[dict[str, Any]]:
    """Return the ``limit`` nearest current features of a point layer, nearest first.

    Each is a dict: ``id``, ``lon``, ``lat``, ``props`` (public attributes only), ``distance_m``
    (geodesic, metres), ``approximate``, ``updated`` (the publication that last changed it),
    ``in_lockdown`` (inside a lockdown zone in force on ``at``'s day) and ``open_now``
    (True/False/None from its hours at ``at``; default now, in Việt Nam).  ``open_now`` keeps
    only sites known to be open, ``exclude_lockdown`` drops those in a lockdown zone.
    """
    if layer.geometry != "point":
        raise ValueError(f"layer {layer.id} is not a point layer")
    when = at if at is not None else _now()
    day = (when if when.tzinfo is None else when.astimezone(VIETNAM)).date().isoformat()
    driver = (db.connection() if isinstance(db, Session) else db).connection.driver_connection
    n, public = candidate_count(limit), layer.public_attributes
    radius: float | None = None  # once known: nothing farther (planar degrees) can be an answer
    while True:
        rows = _walk(driver, knn_params(layer.id, lon, lat, n, day))
        measured, farthest = len(rows), (rows[-1].planar if rows else 0.0)
        ranked = sorted((r for r in rows if (radius is None or r.planar <= radius)
                         and not (exclude_lockdown and r.in_lockdown)),
                        key=lambda r: (r.distance_m, r.source_id))
        kept: list[dict[str, Any]] = []
        for row in ranked:
            site = _site(row, public, when)
            if not open_now or site["open_now"] is True:
                kept.append(site)
                if len(kept) == limit:
                    break
        if measured < n:
            return kept  # every feature of the layer was walked
        if radius is not None and farthest > radius:
            return kept  # every feature within the radius was measured
        if radius is None and len(kept) == limit:
            metres = kept[-1]["distance_m"]
            floor = metres_per_degree_floor(lat, metres)
            if metres < farthest * floor:
                return kept  # nothing outside the candidates can be nearer
            radius = metres / floor  # anything nearer lies within this many planar degrees
        elif n >= MAX_CANDIDATES:  # open_now/exclude_lockdown left too few: the proven nearest only
            return [s for s in kept
                    if s["distance_m"] < farthest * metres_per_degree_floor(lat, s["distance_m"])]
        n = min(_grown(n, farthest, radius), MAX_CANDIDATES)


# ---------------------------------------------------------------------------- the portal's area


@dataclass(frozen=True)
class Area:
    """The top-level units of a boundary set, for "is this point near us at all?"."""

    set_name: str
    geometry: BaseGeometry | None


def load_area(db: Session | Connection, set_name: str) -> Area:
    """Read the union of a set's top-level units (None when the set has none)."""
    wkb = db.execute(text(
        "SELECT ST_AsBinary(ST_Union(geom)) FROM admin_unit WHERE boundary_set = :s AND depth = 0"),
        {"s": set_name}).scalar()
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
        "SELECT EXISTS (SELECT 1 FROM admin_unit WHERE boundary_set = :s AND depth = 0 AND"
        " ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, :m))"),
        {"s": area.set_name, "x": lon, "y": lat, "m": metres}).scalar())
