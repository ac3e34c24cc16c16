"""Read administrative units: one unit, its ancestors and children, search by name, point lookup."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.names import UnitName, find_names, name_key, split_qualifiers

COUNTRY_LEVEL = "country"  # a set's root level, when it has one: the country of its provinces

MAX_DEPTH = 16  # more levels than any country has: a guard against a loop in the parents
UNIT_COLUMNS = (
    "boundary_set, code, level, depth, parent_code, kind, name, area_km2, population,"
    " coalesce(props ->> 'population_source' = 'estimated', false) AS population_estimated,"
    " ST_X(label_point) AS lon, ST_Y(label_point) AS lat"
)


@dataclass(frozen=True)
class Unit:
    """An administrative unit as pages and APIs show it."""

    boundary_set: str
    code: str
    level: str
    depth: int
    parent_code: str | None
    kind: str | None
    name: str
    area_km2: float
    population: int | None
    population_estimated: bool  # apportioned by area from another layer, not an official figure
    lon: float
    lat: float

    def as_dict(self) -> dict[str, Any]:
        """Return the unit as JSON-ready data."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def get_unit(session: Session, set_name: str, code: str) -> Unit | None:
    """Return one unit of a set, or None."""
    row = session.execute(
        text(f"SELECT {UNIT_COLUMNS} FROM admin_unit WHERE boundary_set = :s AND code = :c"),  # noqa: S608
        {"s": set_name, "c": code},
    ).mappings().first()
    return Unit(**row) if row else None


def ancestors(session: Session, unit: Unit) -> list[Unit]:
    """Return the unit's ancestors from the top level down (not the unit itself).

    One query walks up the parents (a request's routing asks this on every intake).
    """
    if not unit.parent_code:
        return []
    rows = session.execute(
        text(
            "WITH RECURSIVE up (c, pc, step) AS ("  # noqa: S608 - constant columns, bound values
            " SELECT code, parent_code, 1 FROM admin_unit WHERE boundary_set = :s AND code = :p"
            " UNION ALL"
            " SELECT a.code, a.parent_code, up.step + 1 FROM admin_unit a JOIN up"
            " ON a.boundary_set = :s AND a.code = up.pc WHERE up.step < :most)"
            f" SELECT {UNIT_COLUMNS} FROM up JOIN admin_unit ON boundary_set = :s AND code = up.c"
            " ORDER BY up.step"
        ),
        {"s": unit.boundary_set, "p": unit.parent_code, "most": MAX_DEPTH},
    ).mappings()
    chain: list[Unit] = []
    for row in rows:
        parent = Unit(**row)
        if parent in chain or parent == unit:  # a loop in the parents: stop where it closes
            break
        chain.insert(0, parent)
    return chain


def children(session: Session, unit: Unit) -> list[Unit]:
    """Return the unit's direct children, by name."""
    rows = session.execute(
        text(
            f"SELECT {UNIT_COLUMNS} FROM admin_unit WHERE boundary_set = :s AND parent_code = :c"  # noqa: S608
            " ORDER BY name_key, code"
        ),
        {"s": unit.boundary_set, "c": unit.code},
    ).mappings()
    return [Unit(**r) for r in rows]


def set_levels(session: Session, set_name: str) -> list[str]:
    """Return the ordered levels of a boundary set (empty when the set is unknown)."""
    row = session.execute(
        text("SELECT levels FROM boundary_set WHERE name = :s"), {"s": set_name}
    ).first()
    return list(row.levels) if row else []


def child_level(session: Session, unit: Unit) -> str | None:
    """Return the level below the unit's, or None for the lowest level."""
    levels = set_levels(session, unit.boundary_set)
    return levels[unit.depth + 1] if unit.depth + 1 < len(levels) else None


def outline_geojson(session: Session, unit: Unit, vertices_across: int = 600) -> dict:
    """Return the unit's outline as GeoJSON, simplified relative to its size so it stays small.

    Parts and holes too small to see at the unit's own scale are left out.
    """
    value = session.execute(
        text(
            """
            WITH unit AS (
                SELECT geom, GREATEST(ST_XMax(geom) - ST_XMin(geom),
                                      ST_YMax(geom) - ST_YMin(geom)) / :n AS tolerance
                FROM admin_unit WHERE boundary_set = :s AND code = :c
            ), parts AS (
                SELECT (ST_Dump(ST_SimplifyPreserveTopology(geom, tolerance))).geom AS part,
                       tolerance FROM unit
            )
            SELECT ST_AsGeoJSON(ST_Collect(ST_MakePolygon(ST_ExteriorRing(part))), 5) FROM parts
            WHERE ST_Area(part) > 16 * tolerance * tolerance
            """
        ),
        {"s": unit.boundary_set, "c": unit.code, "n": vertices_across},
    ).scalar_one()
    return json.loads(value) if value else {"type": "MultiPolygon", "coordinates": []}


def bounds(session: Session, unit: Unit) -> tuple[float, float, float, float]:
    """Return the unit's bounding box as (west, south, east, north)."""
    row = session.execute(
        text(
            "SELECT ST_XMin(b) AS w, ST_YMin(b) AS s, ST_XMax(b) AS e, ST_YMax(b) AS n"
            " FROM (SELECT ST_Extent(geom)::geometry AS b FROM admin_unit"
            " WHERE boundary_set = :s AND code = :c) q"
        ),
        {"s": unit.boundary_set, "c": unit.code},
    ).one()
    return (row.w, row.s, row.e, row.n)


def descendants_of(session: Session, set_name: str, code: str | None) -> list[UnitName]:
    """Return every unit below ``code`` (the whole set when None) as name candidates."""
    rows = session.execute(
        text(
            """
            WITH RECURSIVE tree AS (
                SELECT code, name, kind, parent_code, depth FROM admin_unit
                WHERE boundary_set = :s AND (CAST(:c AS text) IS NULL AND parent_code IS NULL
                                             OR parent_code = :c)
                UNION ALL
                SELECT u.code, u.name, u.kind, u.parent_code, u.depth FROM admin_unit u
                JOIN tree t ON u.boundary_set = :s AND u.parent_code = t.code
            )
            SELECT code, name, kind, parent_code FROM tree ORDER BY depth, code
            """
        ),
        {"s": set_name, "c": code},
    )
    return [UnitName(code=r.code, name=r.name, parent_code=r.parent_code, kind=r.kind) for r in rows]


def units_at_levels(session: Session, set_name: str, levels: tuple[str, ...]) -> dict[str, list[UnitName]]:
    """Return every unit of the given levels of a set as name candidates, by level."""
    rows = session.execute(
        text("SELECT code, name, kind, parent_code, level FROM admin_unit"
             " WHERE boundary_set = :s AND level = ANY(:levels) ORDER BY code"),
        {"s": set_name, "levels": list(levels)},
    )
    found: dict[str, list[UnitName]] = {level: [] for level in levels}
    for r in rows:
        found[r.level].append(UnitName(code=r.code, name=r.name, parent_code=r.parent_code, kind=r.kind))
    return found


def find_units(
    session: Session, set_name: str, query: str, *, within: str | None = None,
    parent_hint: str | None = None,
) -> list[Unit]:
    """Find units by name inside ``within`` (any depth), narrowed by a parent name given or written in."""
    if not name_key(query):
        return []
    candidates = descendants_of(session, set_name, within)
    parents = {c.code: c.name for c in candidates}
    if parent_hint or split_qualifiers(query)[1]:
        parents.update(_names_of(session, set_name, {c.parent_code for c in candidates} - parents.keys()))
    matches = find_names(query, candidates, parents, parent_hint=parent_hint)
    units = (get_unit(session, set_name, m.code) for m in matches)
    return [u for u in units if u is not None]


def _names_of(session: Session, set_name: str, codes: set[str | None]) -> dict[str, str]:
    rows = session.execute(
        text("SELECT code, name FROM admin_unit WHERE boundary_set = :s AND code = ANY(:codes)"),
        {"s": set_name, "codes": [c for c in codes if c]},
    )
    return {r.code: r.name for r in rows}


def unit_at(session: Session, set_name: str, level: str, lon: float, lat: float) -> Unit | None:
    """Return the unit of a level that contains a point."""
    row = session.execute(
        text(
            f"SELECT {UNIT_COLUMNS} FROM admin_unit WHERE boundary_set = :s AND level = :l"  # noqa: S608
            " AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) LIMIT 1"
        ),
        {"s": set_name, "l": level, "x": lon, "y": lat},
    ).mappings().first()
    return Unit(**row) if row else None
