"""Layer vector tiles: one SQL statement per tile, public attributes only, points clustered where dense."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.orm import Session

from boundaries.queries import Unit
from layers.catalog import Layer
from layers.overview import CLUSTER_CELLS, MARGIN_CELLS, MAX_LEVEL, cell_x, cell_y
from layers.store import within, within_condition

EXTENT = 4096
# Above its cluster zoom a point layer's tile holds its features, unless it would hold more than
# this: then it is clustered too, which keeps every tile well under 500 KB (~150 bytes a feature).
MAX_TILE_POINTS = 2000

_ALIVE = {
    "current": "f.valid_to_pub IS NULL",
    "past": "f.valid_from_pub <= :pub AND (f.valid_to_pub IS NULL OR f.valid_to_pub > :pub)",
}

# The tile in Web Mercator, in WGS 84 (whose axis-aligned boxes it maps onto exactly) and with the
# margin (MARGIN_CELLS of the tile's CLUSTER_CELLS) that the features' buffer needs.
_BOUNDS = """bounds AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env,
           ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AS env4326,
           ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => {margin}), 4326) AS margin4326
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

# Clusters: one feature per occupied cell of the tile's grid (see layers.overview), drawn at the
# mean of its points with their count.
_CLUSTERS = """
SELECT ST_AsMVT(tile, :layer, 4096, 'geom') FROM (
    SELECT c.count, true AS cluster,
           ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_MakePoint(c.lon, c.lat), 4326), 3857),
                        bounds.env, 4096, 0, true) AS geom
    FROM ({cells}) AS c, bounds
) AS tile WHERE tile.geom IS NOT NULL
"""

# The tile's cells from the publication's overview: its rows at this zoom are the clusters.
_OVERVIEW_CELLS = """
        SELECT o.count, o.sum_lon / o.count AS lon, o.sum_lat / o.count AS lat
        FROM cluster_overview o
        WHERE o.publication_id = :pub AND o.level = :z
          AND o.cx / {n} = :x AND o.cy / {n} = :y
"""

# Above MAX_LEVEL the tile's cells from its points (few: the tile is small); the fence reads
# each point's coordinates once.
_POINT_CELLS = """
        SELECT count(*) AS count, sum(p.lon) / count(*) AS lon, sum(p.lat) / count(*) AS lat
        FROM (SELECT ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat FROM feature f, bounds
              WHERE f.layer_id = :layer AND {alive} AND f.geom && bounds.env4326 OFFSET 0) AS p
        WHERE {cx} / {n} = :x AND {cy} / {n} = :y
        GROUP BY {cx}, {cy}
"""

# Whether the tile with its margin holds more than MAX_TILE_POINTS points: summed over the
# overview's cells of the 3 x 3 tiles around it (an index range per column of tiles) ...
_OVERVIEW_CROWDED = """
    SELECT coalesce(sum(o.count), 0) > {max_points} AS yes FROM cluster_overview o
    WHERE o.publication_id = :pub AND o.level = :z
      AND o.cx / {n} = ANY (ARRAY[:x - 1, :x, :x + 1]) AND o.cy / {n} BETWEEN :y - 1 AND :y + 1
      AND o.cx BETWEEN :x * {n} - {m} AND :x * {n} + {n} + {m} - 1
      AND o.cy BETWEEN :y * {n} - {m} AND :y * {n} + {n} + {m} - 1
"""

# ... or above MAX_LEVEL counted with an early stop (the box is spelled out, not taken from
# ``bounds``, so the planner estimates it).
_POINT_CROWDED = """
    SELECT count(*) > {max_points} AS yes FROM (
        SELECT 1 FROM feature f
        WHERE f.layer_id = :layer AND {alive}
          AND f.geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => {margin}), 4326)
        LIMIT {max_points} + 1
    ) AS q
"""

# Whether the publication is the layer's and whether it is its latest, from the publication index
# alone (``layers.meta.layer_state`` also counts the current features: ~50 ms at a million points).
_STATE = """state AS (
    SELECT EXISTS (SELECT 1 FROM publication WHERE id = :pub AND layer_id = :layer) AS found,
           coalesce((SELECT max(id) FROM publication WHERE layer_id = :layer) = :pub, false) AS latest
)"""

# The tile, or NULL when the publication is not the layer's.  A CASE runs only the branch it
# picks: the latest publication reads the current rows (their own index), an older one the rows
# alive at it.
_TILE = """
SELECT state.found, CASE WHEN state.found THEN {body} END AS tile FROM state
"""


def _scalar(sql: str) -> str:
    return "(" + sql.strip() + ")"


def _by_age(current: str, past: str) -> str:
    """Return SQL choosing the current or the past variant of a tile (one when they are the same)."""
    return current if current == past else f"CASE WHEN state.latest THEN {current} ELSE {past} END"


def _cluster_parts(alive: str, overview: bool) -> tuple[str, str]:
    """Return the clusters of a tile and whether it is crowded, as scalar subqueries."""
    n, m = CLUSTER_CELLS, MARGIN_CELLS
    if overview:
        cells = _OVERVIEW_CELLS.format(n=n)
        crowded = _OVERVIEW_CROWDED.format(n=n, m=m, max_points=MAX_TILE_POINTS)
    else:
        cells = _POINT_CELLS.format(n=n, cx=cell_x("p.lon", ":cells"), cy=cell_y("p.lat", ":cells"),
                                    alive=alive)
        crowded = _POINT_CROWDED.format(alive=alive, margin=m / n, max_points=MAX_TILE_POINTS)
    return _scalar(_CLUSTERS.format(cells=cells.strip())), _scalar(crowded)


def _body(kind: str, overview: bool, limited: str) -> str:
    """Return the SQL expression of a tile of a kind: features, clusters or points.

    ``limited`` is AND-ed to the rows read (a reader's unit); the overviews know no unit, so a
    limited tile is clustered from its points.
    """
    ages = {age: alive + limited for age, alive in _ALIVE.items()}
    features = {age: _scalar(_FEATURES.format(alive=alive)) for age, alive in ages.items()}
    if kind == "features":
        return _by_age(*features.values())
    parts = {age: _cluster_parts(alive, overview) for age, alive in ages.items()}
    if kind == "clusters":
        return _by_age(parts["current"][0], parts["past"][0])
    if overview:  # points: features unless crowded, which the overview tells whatever the age
        clusters, crowded = parts["current"]
        return f"CASE WHEN {crowded} THEN {clusters} ELSE {_by_age(*features.values())} END"
    return _by_age(*(f"CASE WHEN {parts[age][1]} THEN {parts[age][0]} ELSE {features[age]} END"
                     for age in ("current", "past")))


def _statements() -> dict[tuple[str, bool, bool], TextClause]:
    """Return every tile statement by kind, whether it reads the overview and whether it is limited."""
    head = "WITH " + _BOUNDS.format(margin=MARGIN_CELLS / CLUSTER_CELLS) + ",\n" + _STATE
    kinds = [("features", False)] + [(k, o) for k in ("clusters", "points") for o in (True, False)]
    variants = [(k, o, False) for k, o in kinds] + [(k, False, True) for k, o in kinds if not o]
    return {(kind, overview, limited): text(head + _TILE.format(
                body=_body(kind, overview, within_condition() if limited else "")))
            for kind, overview, limited in variants}


_STATEMENTS = _statements()


def clustered(layer: Layer, z: int) -> bool:
    """Tell whether a layer's points are drawn as clusters at a zoom."""
    return layer.kind.clustered(z, layer.cluster_below_zoom)


def hidden_attributes(layer: Layer) -> list[str]:
    """Return the attributes the public must not see."""
    return [a.name for a in layer.attributes if not a.public]


def tile_statement(layer: Layer, publication: int, z: int, x: int, y: int, reader: Unit | None = None
                   ) -> tuple[TextClause, dict[str, Any]]:
    """Return the one SQL statement of a tile and its parameters (benchmarks render it too).

    It returns two columns: whether the publication is the layer's, and the tile.  ``reader``
    keeps only the features inside a reader's unit (see :func:`layers.store.within`).
    """
    params: dict[str, Any] = {"z": z, "x": x, "y": y, "layer": layer.id, "pub": publication,
                              **within(reader)[1]}
    if not layer.kind.clusters:
        kind, overview = "features", False
    else:
        kind = "clusters" if clustered(layer, z) else "points"  # points: features unless crowded
        overview = z <= MAX_LEVEL and reader is None
        if not overview:
            params["cells"] = CLUSTER_CELLS * 2**z
    if kind != "clusters":
        params["hidden"] = hidden_attributes(layer)
    return _STATEMENTS[(kind, overview, reader is not None)], params


def layer_tile(bind: Session | Connection, layer: Layer, publication: int, z: int, x: int, y: int,
               reader: Unit | None = None) -> bytes | None:
    """Return a layer's MVT tile as of a publication, or None when the publication is not the layer's."""
    statement, params = tile_statement(layer, publication, z, x, y, reader)
    row = bind.execute(statement, params).one()
    return bytes(row.tile or b"") if row.found else None
