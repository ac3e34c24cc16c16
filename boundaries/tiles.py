"""Boundary vector tiles: one ``ST_AsMVT`` statement per tile, simplified geometry at low zooms."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

TILE_LAYER = "units"
MAX_ZOOM = 22

# Zoom band -> the precomputed geometry column; identifiers come only from this table.
_GEOMETRY_BY_BAND = (("geom_low", 0, 8), ("geom_mid", 9, 11), ("geom", 12, MAX_ZOOM))


def geometry_column(z: int) -> str:
    """Return the geometry column to draw at a zoom.

    >>> geometry_column(6), geometry_column(10), geometry_column(14)
    ('geom_low', 'geom_mid', 'geom')
    """
    for column, low, high in _GEOMETRY_BY_BAND:
        if low <= z <= high:
            return column
    raise ValueError(f"zoom out of range: {z}")


def valid_tile(z: int, x: int, y: int) -> bool:
    """Tell whether z/x/y names a tile of the web-mercator pyramid.

    >>> valid_tile(0, 0, 0), valid_tile(3, 8, 0), valid_tile(23, 0, 0)
    (True, False, False)
    """
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def _tile_sql(column: str) -> str:
    return f"""
    WITH bounds AS (
        SELECT ST_TileEnvelope(:z, :x, :y) AS env,
               ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.015625), 4326) AS env4326
    )
    SELECT ST_AsMVT(tile, '{TILE_LAYER}', 4096, 'geom') FROM (
        SELECT u.code, u.name, u.kind, u.level, u.parent_code,
               ST_AsMVTGeom(ST_Transform(u.{column}, 3857), bounds.env, 4096, 64, true) AS geom
        FROM admin_unit u, bounds
        WHERE u.boundary_set = :s AND u.level = :l AND u.{column} && bounds.env4326
    ) AS tile WHERE tile.geom IS NOT NULL
    """  # noqa: S608 - the column comes from _GEOMETRY_BY_BAND only


_STATEMENTS = {column: text(_tile_sql(column)) for column, _, _ in _GEOMETRY_BY_BAND}


def boundary_tile(session: Session, set_name: str, level: str, z: int, x: int, y: int) -> bytes:
    """Return the MVT tile of one level of a boundary set."""
    statement = _STATEMENTS[geometry_column(z)]
    data = session.execute(statement, {"z": z, "x": x, "y": y, "s": set_name, "l": level}).scalar()
    return bytes(data or b"")
