"""Layer vector tiles: one SQL statement per tile, clustered below a zoom, public attributes only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from layers.catalog import Layer

EXTENT = 4096
CLUSTER_CELLS = 48  # cluster grid cells across a tile below the layer's cluster zoom
WORLD_METRES = 40075016.68557849

_ALIVE = {
    "current": "f.valid_to_pub IS NULL",
    "past": "f.valid_from_pub <= :pub AND (f.valid_to_pub IS NULL OR f.valid_to_pub > :pub)",
}

_FEATURES = """
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env,
           ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.0625), 4326) AS env4326
)
SELECT ST_AsMVT(tile, :layer, 4096, 'geom', 'fid') FROM (
    SELECT f.id AS fid, f.source_id AS id, f.approximate,
           extract(epoch FROM p.created_at)::bigint AS updated,
           f.props - CAST(:hidden AS text[]) AS props,
           ST_AsMVTGeom(ST_Transform(f.geom, 3857), bounds.env, 4096, 64, true) AS geom
    FROM feature f JOIN publication p ON p.id = f.valid_from_pub, bounds
    WHERE f.layer_id = :layer AND {alive} AND f.geom && bounds.env4326
) AS tile WHERE tile.geom IS NOT NULL
"""

_CLUSTERS = """
WITH bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env,
           ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AS env4326
), cells AS (
    SELECT ST_SnapToGrid(ST_Transform(f.geom, 3857), :cell) AS cell,
           ST_Transform(f.geom, 3857) AS g
    FROM feature f, bounds
    WHERE f.layer_id = :layer AND {alive} AND f.geom && bounds.env4326
)
SELECT ST_AsMVT(tile, :layer, 4096, 'geom') FROM (
    SELECT count(*) AS count, true AS cluster,
           ST_AsMVTGeom(ST_Centroid(ST_Collect(g)), bounds.env, 4096, 0, true) AS geom
    FROM cells, bounds GROUP BY cell, bounds.env
) AS tile WHERE tile.geom IS NOT NULL
"""


def _statements() -> dict[tuple[str, str], TextClause]:
    return {(kind, alive): text(sql.format(alive=condition))
            for kind, sql in (("features", _FEATURES), ("clusters", _CLUSTERS))
            for alive, condition in _ALIVE.items()}


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
    kind = "clusters" if clustered(layer, z) else "features"
    statement = _STATEMENTS[(kind, "current" if is_current else "past")]
    params = {"z": z, "x": x, "y": y, "layer": layer.id, "pub": publication,
              "hidden": hidden_attributes(layer), "cell": WORLD_METRES / 2**z / CLUSTER_CELLS}
    return statement, params


def layer_tile(session: Session, layer: Layer, publication: int, is_current: bool,
               z: int, x: int, y: int) -> bytes:
    """Return a layer's MVT tile as of a publication (the current rows when it is the latest)."""
    statement, params = tile_statement(layer, publication, is_current, z, x, y)
    return bytes(session.execute(statement, params).scalar() or b"")
