"""Load a boundary file (GeoJSON, GeoPackage, Shapefile; any CRS) into ``admin_unit``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.names import fold, name_key, split_kind
from epimap.db import Bind, session_scope

SIMPLIFY_MID = 0.0003  # degrees, about 30 m: zooms 9-11
SIMPLIFY_LOW = 0.002  # degrees, about 200 m: zooms below 9


class BoundaryError(Exception):
    """A boundary file cannot be loaded; the message says why in one line."""


@dataclass(frozen=True)
class FieldMap:
    """Which attribute of the file holds what."""

    code: str
    name: str
    kind: str | None = None
    parent: str | None = None
    population: str | None = None


@dataclass(frozen=True)
class LoadResult:
    """What a load did."""

    boundary_set: str
    level: str
    units: int
    parent_level: str | None
    orphans: list[str]


def read_units(path: Path, fields: FieldMap) -> gpd.GeoDataFrame:
    """Read a boundary file as one valid (multi)polygon per unit code, in EPSG:4326."""
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds for an unreadable file
        raise BoundaryError(f"cannot read {path.name}: {str(exc).splitlines()[0]}") from exc
    if frame.empty:
        raise BoundaryError(f"{path.name} has no features")
    missing = [f for f in _named_fields(fields) if f not in frame.columns]
    if missing:
        available = ", ".join(c for c in frame.columns if c != "geometry")
        raise BoundaryError(f"unknown field {', '.join(missing)} in {path.name}; fields: {available}")
    frame = frame.set_crs(4326) if frame.crs is None else frame.to_crs(4326)
    frame = frame[frame[fields.code].notna() & frame.geometry.notna()].copy()
    frame[fields.code] = frame[fields.code].map(_code_text)
    frame["geometry"] = frame.geometry.map(_polygonal)
    frame = frame[~frame.geometry.is_empty]
    if frame.empty:
        raise BoundaryError(f"{path.name} has no polygon with a code in field {fields.code}")
    return _dissolve_by_code(frame, fields)


def _named_fields(fields: FieldMap) -> list[str]:
    return [f for f in (fields.code, fields.name, fields.kind, fields.parent, fields.population) if f]


def _code_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Repair a geometry and keep only its polygonal part as a MultiPolygon."""
    repaired = shapely.make_valid(geom) if not geom.is_valid else geom
    parts = shapely.get_parts(repaired)
    polygons = [p for p in parts if p.geom_type in ("Polygon", "MultiPolygon")]
    if not polygons:
        return shapely.MultiPolygon()
    merged = shapely.union_all(polygons)
    return merged if merged.geom_type == "MultiPolygon" else shapely.MultiPolygon([merged])


def _dissolve_by_code(frame: gpd.GeoDataFrame, fields: FieldMap) -> gpd.GeoDataFrame:
    if not frame[fields.code].duplicated().any():
        return frame
    first = frame.drop(columns="geometry").groupby(fields.code, sort=False).first()
    geoms = frame.groupby(fields.code, sort=False).geometry.agg(
        lambda s: _polygonal(shapely.union_all(list(s)))
    )
    return gpd.GeoDataFrame(first.reset_index(), geometry=list(geoms), crs=4326)


def load_boundaries(
    bind: Bind,
    path: Path,
    *,
    set_name: str,
    level: str,
    fields: FieldMap,
    parent_level: str | None = None,
    by_containment: bool = False,
    merge: bool = False,
) -> LoadResult:
    """Replace one level of a boundary set with the units of a file, linked to their parents.

    With *merge*, only the file's units are replaced or added and the level's others stay: a
    province's detailed outline over the country's simplified provinces. A merged unit without a
    parent field keeps its parent, else it is linked by containment.
    """
    frame = read_units(Path(path), fields)
    codes = list(frame[fields.code]) if merge else None
    with session_scope(bind) as session:
        levels = _register_level(session, set_name, level, parent_level)
        depth = levels.index(level)
        parent = levels[depth - 1] if depth > 0 else None
        kept = _parents_of(session, set_name, level, codes) if merge and not fields.parent else {}
        session.execute(
            text("DELETE FROM admin_unit WHERE boundary_set = :s AND level = :l"
                 " AND (CAST(:codes AS text[]) IS NULL OR code = ANY(:codes))"),
            {"s": set_name, "l": level, "codes": codes},
        )
        rows = [_unit_params(row, fields, set_name, level, depth) for row in frame.itertuples(index=False)]
        for row in rows:
            row["parent"] = row["parent"] or kept.get(row["code"])
        session.execute(_INSERT, rows)
        if parent and (by_containment or not fields.parent):
            session.execute(_LINK_BY_CONTAINMENT, {
                "s": set_name, "l": level, "p": parent,
                "codes": None if by_containment or not merge else [c for c in codes if c not in kept]})
        orphans = _orphans(session, set_name, level, parent)
    return LoadResult(set_name, level, len(frame), parent, orphans)


def _register_level(session: Session, set_name: str, level: str, parent_level: str | None) -> list[str]:
    """Add the level to the set's ordered list of levels and return the list."""
    row = session.execute(
        text("SELECT levels FROM boundary_set WHERE name = :s FOR UPDATE"), {"s": set_name}
    ).first()
    levels = list(row.levels) if row else []
    if level not in levels:
        if parent_level and parent_level not in levels:
            raise BoundaryError(f"parent level {parent_level} is not loaded in set {set_name}")
        at = levels.index(parent_level) + 1 if parent_level else len(levels)
        levels.insert(at, level)
    session.execute(
        text(
            "INSERT INTO boundary_set (name, levels) VALUES (:s, :levels) "
            "ON CONFLICT (name) DO UPDATE SET levels = EXCLUDED.levels"
        ),
        {"s": set_name, "levels": levels},
    )
    return levels


def _unit_params(row: tuple, fields: FieldMap, set_name: str, level: str, depth: int) -> dict:
    values = row._asdict()
    name = " ".join(str(values[fields.name] or "").split())
    kind = str(values[fields.kind]).strip() if fields.kind and values[fields.kind] else None
    kind = kind or split_kind(name)[0]
    population = values[fields.population] if fields.population else None
    return {
        "s": set_name, "code": values[fields.code], "level": level, "depth": depth,
        "parent": _code_text(values[fields.parent]) if fields.parent and values[fields.parent] else None,
        "kind": kind, "name": name, "ascii": fold(name), "key": name_key(name),
        "wkb": shapely.to_wkb(values["geometry"]),
        "population": int(population) if population is not None and not pd.isna(population) else None,
        "mid": SIMPLIFY_MID, "low": SIMPLIFY_LOW,
    }


_INSERT = text(
    """
    INSERT INTO admin_unit (boundary_set, code, level, depth, parent_code, kind, name, name_ascii,
        name_key, geom, geom_mid, geom_low, label_point, area_km2, population)
    SELECT :s, :code, :level, :depth, :parent, :kind, :name, :ascii, :key, g,
        ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SimplifyPreserveTopology(g, :mid)), 3)),
        ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SimplifyPreserveTopology(g, :low)), 3)),
        ST_PointOnSurface(g), ST_Area(g::geography) / 1e6, :population
    FROM (SELECT ST_Multi(ST_GeomFromWKB(:wkb, 4326)) AS g) AS src
    """
)

_LINK_BY_CONTAINMENT = text(
    """
    UPDATE admin_unit AS c SET parent_code = (
        SELECT p.code FROM admin_unit AS p
        WHERE p.boundary_set = c.boundary_set AND p.level = :p AND p.geom && c.geom
        ORDER BY ST_Area(ST_Intersection(p.geom, c.geom)) DESC LIMIT 1)
    WHERE c.boundary_set = :s AND c.level = :l AND (CAST(:codes AS text[]) IS NULL OR c.code = ANY(:codes))
    """
)


def _parents_of(session: Session, set_name: str, level: str, codes: list[str]) -> dict[str, str]:
    """Return the current parent codes of some units of a level."""
    rows = session.execute(
        text("SELECT code, parent_code FROM admin_unit WHERE boundary_set = :s AND level = :l"
             " AND code = ANY(:codes) AND parent_code IS NOT NULL"),
        {"s": set_name, "l": level, "codes": codes},
    )
    return {r.code: r.parent_code for r in rows}


def _orphans(session: Session, set_name: str, level: str, parent: str | None) -> list[str]:
    """Return the codes of units whose parent is missing from the parent level."""
    if parent is None:
        return []
    rows = session.execute(
        text(
            "SELECT c.code FROM admin_unit c LEFT JOIN admin_unit p ON p.boundary_set = c.boundary_set"
            " AND p.level = :p AND p.code = c.parent_code"
            " WHERE c.boundary_set = :s AND c.level = :l AND p.code IS NULL ORDER BY c.code"
        ),
        {"s": set_name, "l": level, "p": parent},
    )
    return [r.code for r in rows]
