"""Locate staged rows in SQL: unit codes by point-in-polygon or commune name, ids and hashes."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator

from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.queries import COUNTRY_LEVEL
from ingest.coords import VIETNAM_BBOX
from layers.versions import Scope

NEAREST_UNIT_METRES = 1000  # a point in a gap between commune polygons goes to the nearest one
# A planar bound in degrees that every point within NEAREST_UNIT_METRES exceeds nowhere in Vietnam
# (up to 23.4° N), so the spatial index can narrow the geography test to nearby units.
NEAREST_UNIT_DEGREES = 2 * NEAREST_UNIT_METRES / 111_000 / math.cos(math.radians(VIETNAM_BBOX[3]))
PIECE_VERTICES = 64  # lowest-level units are cut into pieces this small for point-in-polygon

StagedLocation = tuple[int, str, str | None, bool, float, float]  # seq, id, unit code, approximate, lon, lat

_UNIT_CHAIN = """
CREATE TEMP TABLE unit_chain ON COMMIT DROP AS
WITH RECURSIVE chain AS (
    SELECT code AS leaf, code, parent_code, level FROM admin_unit
    WHERE boundary_set = :s AND level = :lowest
    UNION ALL
    SELECT c.leaf, p.code, p.parent_code, p.level FROM chain c
    JOIN admin_unit p ON p.boundary_set = :s AND p.code = c.parent_code AND p.level <> :country
)
SELECT leaf AS code, jsonb_object_agg(level, code) AS units FROM chain GROUP BY leaf
"""

_UNIT_PIECES = """
CREATE TEMP TABLE unit_piece ON COMMIT DROP AS
SELECT code, ST_Subdivide(geom, :vertices) AS geom FROM admin_unit
WHERE boundary_set = :s AND level = :lowest
"""

# The unit piece holding each staged row's point (the lowest code where pieces meet), joined from
# the pieces' side: each of a few hundred pieces walks an index of the staged points, so PostGIS
# tests one piece against its points in turn and keeps it prepared.  Probing the pieces once per
# point took twice as long (12.5 s against 6 s for 1,000,000 points, this index, the grouping and
# the table included), yet the planner prefers it: the LATERAL subquery, fenced by OFFSET 0,
# keeps the pieces outside.
_INSIDE = """
CREATE TEMP TABLE unit_inside ON COMMIT DROP AS
SELECT s.seq, min(p.code) AS code
FROM unit_piece p CROSS JOIN LATERAL (
    SELECT s.seq FROM ingest_staging s WHERE ST_Intersects(p.geom, {point}) OFFSET 0) s
GROUP BY s.seq
"""
# A staged row's point, of table ``{t}``: a point layer's geometry, a point on a polygon's surface.
_ROW_POINT = {False: "{t}.geom", True: "ST_PointOnSurface({t}.geom)"}

# One pass over the staged rows instead of an UPDATE per step (each rewrote every row): named rows
# take their unit's label point (or outline), other rows the unit holding them, else the nearest
# unit within NEAREST_UNIT_METRES inside the scope; rows outside the scope get their reason.
# Rows without an id get "name_key@unit_code" (numbered later where that repeats) and every row's
# content is hashed for the diff.
_LOCATED = """
CREATE TEMP TABLE ingest_located ON COMMIT DROP AS
SELECT l.*, coalesce(l.given_id, l.name_key || '@' || coalesce(l.unit_code, '')) AS source_id,
       md5(l.props::text || ST_AsEWKB(l.geom)::text || l.approximate::text) AS content_hash
FROM (
SELECT s.seq, s.sheet, s.row_no, s.source_id AS given_id, s.name_key, s.commune_name, s.district_name,
       s.props, coalesce(s.geom, CASE WHEN :polygons THEN n.geom ELSE n.label_point END) AS geom,
       (n.code IS NOT NULL AND NOT :polygons) AS approximate,
       coalesce(c.units, '{}'::jsonb) AS units, u.code AS unit_code,
       coalesce(s.reject, CASE WHEN c.units ->> :scope_level IS DISTINCT FROM :scope THEN :outside END)
         AS reject
FROM ingest_staging s
LEFT JOIN admin_unit n ON s.geom IS NULL AND n.boundary_set = :s AND n.code = s.named_unit
LEFT JOIN unit_inside inside ON inside.seq = s.seq
LEFT JOIN LATERAL (
    SELECT a.code FROM admin_unit a, admin_unit sc
    WHERE inside.code IS NULL AND s.geom IS NOT NULL
      AND a.boundary_set = :s AND a.level = :lowest AND sc.boundary_set = :s
      AND sc.code = :scope AND ST_Intersects(sc.geom, s.geom)
      AND ST_DWithin(a.geom, s.geom, :degrees)  -- index prefilter: 50 s -> 0.04 s for 1,000 points
      AND ST_DWithin(a.geom::geography, s.geom::geography, :metres)
    ORDER BY a.geom <-> s.geom LIMIT 1) near ON true
CROSS JOIN LATERAL (SELECT coalesce(n.code, inside.code, near.code) AS code) u
LEFT JOIN unit_chain c ON c.code = u.code
) l
"""

# Accepted rows without an id whose name_key@unit_code repeats are numbered in row order: the
# second gets "#2" and so on.  Only the repeated keys are sorted (a hash aggregate finds them).
_NUMBER_REPEATS = """
UPDATE ingest_located l SET source_id = l.source_id || '#' || r.n
FROM (SELECT seq, row_number() OVER (PARTITION BY name_key, unit_code ORDER BY seq) AS n
      FROM ingest_located WHERE given_id IS NULL AND (name_key, unit_code) IN (
          SELECT name_key, unit_code FROM ingest_located WHERE given_id IS NULL
          GROUP BY name_key, unit_code HAVING count(*) > 1)) r
WHERE l.seq = r.seq AND r.n > 1
"""


def index_points(session: Session, polygons: bool) -> None:
    """Index the staged rows' points for :func:`locate`; call it before anything updates them.

    An index built after an UPDATE of the same table in the same transaction is invisible to that
    transaction (the update left HOT chains the index cannot vouch for to older snapshots).
    """
    point = _ROW_POINT[polygons].format(t="ingest_staging")
    session.execute(text(f"CREATE INDEX ON ingest_staging USING gist (({point}))"))
    if polygons:  # the planner's statistics of the indexed expression (``stage`` analysed the columns)
        session.execute(text("ANALYZE ingest_staging"))


def place_in_pieces(session: Session, polygons: bool) -> None:
    """Find the unit piece holding each staged row's point, into ``unit_inside`` (``_INSIDE``)."""
    session.execute(text(_INSIDE.format(point=_ROW_POINT[polygons].format(t="s"))))


def resolve_named_units(session: Session, resolve: Callable[[str, str | None], tuple[str | None, str | None]]
                        ) -> None:
    """Find the unit each row without geometry names; mark the rows whose names find none, with why.

    ``resolve(commune, district)`` returns the unit's code, or None and the reason.
    """
    pairs = session.execute(text(
        "SELECT DISTINCT commune_name, district_name FROM ingest_staging WHERE geom IS NULL")).all()
    if len(pairs) > 1:  # one index pass instead of a scan of the whole staging table per name
        session.execute(text("CREATE INDEX ON ingest_staging (commune_name) WHERE geom IS NULL"))
    rename_units(session, {(commune, district): resolve(commune, district) for commune, district in pairs})


def rename_units(session: Session, found: dict[tuple[str, str | None], tuple[str | None, str | None]]
                 ) -> None:
    """Give the rows without geometry of each (commune, district) its unit's code, or None and why."""
    for (commune, district), (code, why) in found.items():
        session.execute(text(
            "UPDATE ingest_staging SET named_unit = :code, reject = :why WHERE geom IS NULL"
            " AND commune_name = :c AND district_name IS NOT DISTINCT FROM :d"),
            {"c": commune, "d": district, "code": code, "why": why})


def locate(session: Session, scope: Scope, polygons: bool, match_ids: bool = True
           ) -> list[tuple[int, str, str | None, str | None]]:
    """Give every staged row its unit codes, id and hash; return (seq, reason, commune, district, place)
    of the rejected.

    ``place`` is the row's location as "lat, lon" (a point on an area), when it has one.

    ``match_ids`` says whether current features may share the staged ids (else they are not indexed).
    """
    params = {"s": scope.boundary_set, "lowest": scope.lowest, "scope": scope.code,
              "scope_level": scope.level, "metres": NEAREST_UNIT_METRES, "degrees": NEAREST_UNIT_DEGREES,
              "vertices": PIECE_VERTICES, "polygons": polygons,
              "outside": "outside_province" if scope.code == scope.province else "out_of_scope",
              "country": COUNTRY_LEVEL}
    session.execute(text("DROP TABLE IF EXISTS unit_chain; DROP TABLE IF EXISTS unit_piece"))
    session.execute(text(_UNIT_CHAIN), params)
    session.execute(text(_UNIT_PIECES), params)
    session.execute(text("CREATE INDEX ON unit_piece USING gist (geom); ANALYZE unit_piece"))
    session.execute(text("DROP TABLE IF EXISTS unit_inside, ingest_located"))
    place_in_pieces(session, polygons)
    session.execute(text(_LOCATED), params)
    rows = session.execute(text(
        "DELETE FROM ingest_located WHERE reject IS NOT NULL"
        " RETURNING seq, reject, commune_name, district_name,"
        " round(ST_Y(ST_PointOnSurface(geom))::numeric, 6)::float8 || ', '"
        " || round(ST_X(ST_PointOnSurface(geom))::numeric, 6)::float8 AS place")).all()
    # Lookups by id from the current features (publish) stay index probes whatever the planner
    # believes about the feature table, instead of a scan of the staging table per feature.  Built
    # before the numbering updates ids: built after, this transaction could not use it.  A layer
    # without current features has nothing to look up (2 s saved for a million rows).
    if match_ids:
        session.execute(text("CREATE INDEX ON ingest_located (source_id)"))
    session.execute(text(_NUMBER_REPEATS))
    session.execute(text("DROP TABLE ingest_staging, unit_piece, unit_inside"))
    session.execute(text("ALTER TABLE ingest_located RENAME TO ingest_staging; ANALYZE ingest_staging"))
    return [(r.seq, r.reject, r.commune_name, r.district_name, r.place) for r in rows]


def located_districts(session: Session) -> list[tuple[str, str | None, list[int]]]:
    """Return each (district name a row gives, district its point lies in, rows) of the located rows.

    Rows placed by their commune's name are left out: their district was checked by name.
    """
    rows = session.execute(text(
        "SELECT district_name, units ->> 'district' AS code, array_agg(seq ORDER BY seq) AS seqs"
        " FROM ingest_staging WHERE district_name IS NOT NULL AND NOT approximate GROUP BY 1, 2"))
    return [(r.district_name, r.code, list(r.seqs)) for r in rows]


def unit_chains(session: Session) -> dict[str, dict[str, str]]:
    """Return each lowest-level unit's codes per level, from the table :func:`locate` made."""
    return {code: json.loads(units) for code, units in
            session.execute(text("SELECT code, units::text FROM unit_chain"))}


def staged_locations(session: Session, polygons: bool) -> Iterator[StagedLocation]:
    """Yield each staged row's (seq, id, unit code, approximate, lon, lat), streamed from the server.

    A polygon layer's rows give their point on the surface, or the point a named unit gave them.
    """
    point = ("CASE WHEN GeometryType(geom) = 'POINT' THEN geom ELSE ST_PointOnSurface(geom) END"
             if polygons else "geom")
    raw = session.connection().connection.driver_connection
    # Binary rows: numbers arrive as numbers, not text to parse (0.4 s less for a million rows).
    with raw.cursor(name="staged_locations", binary=True) as cursor:
        cursor.itersize = 20_000
        cursor.execute(f"SELECT seq, source_id, unit_code, approximate, ST_X(p), ST_Y(p)"  # noqa: S608
                       f" FROM ingest_staging, LATERAL (SELECT {point} AS p) q")
        yield from cursor
