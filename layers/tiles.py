"""Layer vector tiles: one SQL statement per tile, public attributes only, points clustered where dense."""

from __future__ import annotations

from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from layers.catalog import Layer

EXTENT = 4096
CLUSTER_CELLS = 48  # cluster grid cells across a tile (each way) where points are clustered
# Above its cluster zoom a point layer's tile holds its features, unless it would hold more than
# this: then it is clustered too, which keeps every tile well under 500 KB (~150 bytes a feature).
MAX_TILE_POINTS = 2000

_ALIVE = {
    "current": "f.valid_to_pub IS NULL",
    "past": "f.valid_from_pub <= :pub AND (f.valid_to_pub IS NULL OR f.valid_to_pub > :pub)",
}

# The tile in Web Mercator and in WGS 84 (whose axis-aligned boxes it maps onto exactly), the
# cluster grid in degrees, and the box with the margin that the features' buffer needs.
_BOUNDS = """bounds AS (
    SELECT env, env4326, ST_XMin(env4326) AS x0, ST_YMin(env4326) AS y0,
           (ST_XMax(env4326) - ST_XMin(env4326)) / {cells} AS dx,
           (ST_YMax(env4326) - ST_YMin(env4326)) / {cells} AS dy,
           ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.0625), 4326) AS margin4326
    FROM (SELECT ST_TileEnvelope(:z, :x, :y) AS env,
                 ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AS env4326) AS t
)"""

_FEATURES = """
SELECT ST_AsMVT(tile, :layer, 4096, 'geom', 'fid') FROM (
    SELECT f.id AS fid, f.source_id AS id, f.approximate,
           extract(epoch FROM p.created_at)::bigint AS updated,
           f.props - CAST(:hidden AS text[]) AS props,
           ST_AsMVTGeom(ST_Transform(f.geom, 3857), bounds.env, 4096, 64, true) AS geom
    FROM feature f JOIN publication p ON p.id = f.valid_from_pub, bounds
    WHERE f.layer_id = :layer AND {alive} AND f.geom && bounds.margin4326
) AS tile WHERE tile.geom IS NOT NULL
"""

# Points are counted per cell of a CLUSTER_CELLS² grid over the tile in degrees (cells never
# straddle tiles; their height varies with latitude by well under 1 % within a tile) and drawn
# at their mean: grouping by two numbers hashes, where grouping by snapped geometries sorted
# every point and transformed each twice (4-7x slower at z8 over 800,000 points).
_CLUSTERS = """
SELECT ST_AsMVT(tile, :layer, 4096, 'geom') FROM (
    SELECT c.count, true AS cluster,
           ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_MakePoint(c.lon, c.lat), 4326), 3857),
                        bounds.env, 4096, 0, true) AS geom
    FROM (SELECT count(*) AS count, avg(ST_X(f.geom)) AS lon, avg(ST_Y(f.geom)) AS lat
          FROM feature f, bounds
          WHERE f.layer_id = :layer AND {alive} AND f.geom && bounds.env4326
          GROUP BY floor((ST_X(f.geom) - bounds.x0) / bounds.dx),
                   floor((ST_Y(f.geom) - bounds.y0) / bounds.dy)) AS c, bounds
) AS tile WHERE tile.geom IS NOT NULL
"""

# Features unless the tile holds more than MAX_TILE_POINTS, counted with an early stop (the box
# is spelled out, not taken from ``bounds``, so the planner estimates it); the CASE runs only the
# branch it picks.
_CROWDED = """
, crowded AS (
    SELECT count(*) > {max_points} AS yes FROM (
        SELECT 1 FROM feature f
        WHERE f.layer_id = :layer AND {alive}
          AND f.geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.0625), 4326)
        LIMIT {max_points} + 1
    ) AS q
)
SELECT CASE WHEN (SELECT yes FROM crowded) THEN ({clusters}) ELSE ({features}) END
"""


def _statements() -> dict[tuple[str, str], TextClause]:
    statements = {}
    for alive, condition in _ALIVE.items():
        head = "WITH " + _BOUNDS.format(cells=CLUSTER_CELLS)
        features, clusters = _FEATURES.format(alive=condition), _CLUSTERS.format(alive=condition)
        statements[("features", alive)] = text(head + features)
        statements[("clusters", alive)] = text(head + clusters)
        statements[("points", alive)] = text(head + _CROWDED.format(
            max_points=MAX_TILE_POINTS, alive=condition, clusters=clusters.strip(),
            features=features.strip()))
    return statements


_STATEMENTS = _statements()


def clustered(layer: Layer, z: int) -> bool:
    """Tell whether a layer's points are drawn as clusters at a zoom."""
    return layer.geometry == "point" and z < layer.cluster_below_zoom


def hidden_attributes(layer: Layer) -> list[str]:
    """Return the attributes the public must not see."""
    return [a.name for a in layer.attributes if not a.public]


def tile_statement(layer: Layer, publication: int, is_current: bool,
                   z: int, x: int, y: int) -> tuple[TextClause, dict[str, Any]]:
    """Return the one SQL statement of a tile and its parameters (benchmarks render it too)."""
    if layer.geometry == "point":
        kind = "clusters" if clustered(layer, z) else "points"  # points: features unless crowded
    else:
        kind = "features"
    statement = _STATEMENTS[(kind, "current" if is_current else "past")]
    params = {"z": z, "x": x, "y": y, "layer": layer.id, "hidden": hidden_attributes(layer)}
    if not is_current:
        params["pub"] = publication
    return statement, params


def layer_tile(session: Session, layer: Layer, publication: int, is_current: bool,
               z: int, x: int, y: int) -> bytes:
    """Return a layer's MVT tile as of a publication (the current rows when it is the latest)."""
    statement, params = tile_statement(layer, publication, is_current, z, x, y)
    return bytes(session.execute(statement, params).scalar() or b"")
