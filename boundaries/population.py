"""Estimate units' populations by area from another layer's populations (e.g. 2025 wards -> 2021 communes).

Each source polygon's population is shared among the units it overlaps in proportion to the overlap's
area (geodesic). Estimates are marked ``props.population_source = 'estimated'``; a unit with a real
figure (loaded with ``--population-field``) is never overwritten, and loading a real figure replaces
the unit's row, estimate mark included.

Then each level above is summed up: a unit without a real figure whose loaded units below all
have a population gets their sum, marked estimated when any of them is (a sum of official figures
is marked ``summed``), so a district's page and the province's per-100,000 rates have a figure too.
A unit with a child lacking a population gets none: a sum with a hole would read as the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.load import BoundaryError
from epimap.db import Bind, session_scope

ESTIMATED = "estimated"
SUMMED = "summed"  # the sum of its units' official figures
_DERIVED = (ESTIMATED, SUMMED)
_SUM = "sum of units below"  # the ``population_from`` of a sum


@dataclass(frozen=True)
class EstimateResult:
    """What an estimate did."""

    estimated: int  # units given an estimate
    summed: int  # units above them given their units' sum
    kept: int  # units of the level that keep a real figure
    without: int  # units of the level left with no population (no source polygon overlaps them)


def read_populations(path: Path, population_field: str) -> list[tuple[float, bytes]]:
    """Read (population, WKB polygon in EPSG:4326) pairs from a file, skipping blank populations."""
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds for an unreadable file
        raise BoundaryError(f"cannot read {path.name}: {str(exc).splitlines()[0]}") from exc
    if population_field not in frame.columns:
        raise BoundaryError(f"unknown field {population_field} in {path.name}")
    frame = frame.set_crs(4326) if frame.crs is None else frame.to_crs(4326)
    values = pd.to_numeric(frame[population_field], errors="coerce")
    pairs = zip(values, frame.geometry, strict=True)
    return [(float(v), shapely.to_wkb(shapely.make_valid(g))) for v, g in pairs
            if g is not None and not pd.isna(v) and v >= 0]


_ESTIMATE = text(
    """
    WITH est AS (
        SELECT u.code, sum(s.population * ST_Area(ST_Intersection(u.geom, s.geom)::geography)
                           / NULLIF(ST_Area(s.geom::geography), 0)) AS population
        FROM admin_unit u JOIN population_source s ON u.geom && s.geom AND ST_Intersects(u.geom, s.geom)
        WHERE u.boundary_set = :s AND u.level = :l
          AND (u.population IS NULL OR u.props ->> 'population_source' = :estimated)
        GROUP BY u.code
    )
    UPDATE admin_unit u SET population = round(est.population)::bigint,
        props = u.props || jsonb_build_object('population_source', CAST(:estimated AS text),
                                              'population_from', CAST(:source AS text))
    FROM est WHERE u.boundary_set = :s AND u.code = est.code AND est.population >= 0.5
    """
)


def estimate_populations(bind: Bind, path: Path, *, set_name: str, level: str,
                         population_field: str) -> EstimateResult:
    """Give the units of a level without a real population an estimate apportioned by area."""
    sources = read_populations(Path(path), population_field)
    with session_scope(bind) as session:
        session.execute(text("DROP TABLE IF EXISTS population_source"))
        session.execute(text("CREATE TEMP TABLE population_source (population double precision,"
                             " geom geometry(Geometry, 4326))"))
        session.execute(text("INSERT INTO population_source VALUES (:p, ST_GeomFromWKB(:g, 4326))"),
                        [{"p": p, "g": g} for p, g in sources])
        session.execute(text("CREATE INDEX ON population_source USING gist (geom)"))
        estimated = session.execute(_ESTIMATE, {"s": set_name, "l": level, "estimated": ESTIMATED,
                                                "source": Path(path).name}).rowcount
        row = session.execute(text(
            "SELECT count(*) FILTER (WHERE population IS NOT NULL AND props ->> 'population_source'"
            " IS DISTINCT FROM :estimated) AS kept, count(*) FILTER (WHERE population IS NULL) AS without"
            " FROM admin_unit WHERE boundary_set = :s AND level = :l"),
            {"s": set_name, "l": level, "estimated": ESTIMATED}).one()
        session.execute(text("DROP TABLE IF EXISTS population_source"))
        summed = sum_populations_up(session, set_name)
    return EstimateResult(estimated, summed, row.kept, row.without)


_SUM_LEVEL = text(
    """
    WITH sums AS (
        SELECT c.parent_code AS code, sum(c.population) AS population,
               bool_or(c.props ->> 'population_source' = :estimated) AS estimated
        FROM admin_unit c
        WHERE c.boundary_set = :s AND c.depth = :depth AND c.parent_code IS NOT NULL
        GROUP BY c.parent_code HAVING count(*) = count(c.population)
    )
    UPDATE admin_unit u SET population = sums.population,
        props = u.props || jsonb_build_object(
            'population_source', CASE WHEN sums.estimated THEN CAST(:estimated AS text)
                                      ELSE CAST(:summed AS text) END,
            'population_from', CAST(:sum AS text))
    FROM sums WHERE u.boundary_set = :s AND u.code = sums.code
      AND (u.population IS NULL OR u.props ->> 'population_source' = ANY(:derived))
    """
)


def sum_populations_up(session: Session, set_name: str) -> int:
    """Give each unit without a real population its units' sum, level by level upwards; return the count.

    Earlier sums are dropped first, so a unit whose units below no longer all have a figure has none.
    """
    session.execute(text(
        "UPDATE admin_unit SET population = NULL, props = props - 'population_source' - 'population_from'"
        " WHERE boundary_set = :s AND props ->> 'population_from' = :sum"), {"s": set_name, "sum": _SUM})
    depths = session.execute(text("SELECT DISTINCT depth FROM admin_unit WHERE boundary_set = :s"
                                  " ORDER BY depth DESC"), {"s": set_name}).scalars().all()
    params = {"s": set_name, "estimated": ESTIMATED, "summed": SUMMED, "derived": list(_DERIVED), "sum": _SUM}
    return sum(session.execute(_SUM_LEVEL, {**params, "depth": depth}).rowcount for depth in depths[:-1])
