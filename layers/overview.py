"""Cluster overviews: a point layer's counts per cluster cell at every zoom, kept per publication.

A tile holds a grid of CLUSTER_CELLS² cells, square in Web Mercator, so the grid of zoom z has
``CLUSTER_CELLS * 2**z`` cells each way over the world and each cell of zoom z is exactly four
cells of zoom z + 1.  When a publication of a point layer is written, ``build_overview`` stores
the count and coordinate sums of its points per occupied cell, for every zoom up to MAX_LEVEL
(one GROUP BY over the points for the finest zoom, then each coarser one from the one below), so
a clustered tile reads at most (CLUSTER_CELLS + 2 * MARGIN_CELLS)² rows instead of every point.
Publications never change, so an overview never goes stale.
"""

from __future__ import annotations

import math

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from layers.catalog import Layer
from layers.store import live_at

CLUSTER_CELLS = 48  # cluster cells across a tile, each way
MARGIN_CELLS = 3  # the features' tile margin (1/16 of a tile) in cells
MAX_LEVEL = 14  # the finest zoom with an overview; tiles above it count their points directly


def cell_x(lon: str, cells: str) -> str:
    """Return SQL for the grid column of a longitude in a grid of ``cells`` columns.

    The product comes last: scaling by a power of two is exact in floating point, so a cell at
    zoom z + 1 always lies in the cell at zoom z that its number halved names.
    """
    return f"floor(({lon} + 180) / 360 * {cells})::int"


def cell_y(lat: str, cells: str) -> str:
    """Return SQL for the grid row (from the north) of a latitude in a grid of ``cells`` rows."""
    return f"floor((1 - asinh(tan(radians({lat}))) / pi()) / 2 * {cells})::int"


def cell_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Return the cluster cell (column, row) of a point at a zoom, as the SQL computes it.

    >>> cell_of(106.65, 10.98, 0)
    (38, 22)
    >>> [c >> 6 for c in cell_of(106.65, 10.98, 6)] == list(cell_of(106.65, 10.98, 0))
    True
    """
    cells = CLUSTER_CELLS * 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * cells
    return math.floor((lon + 180) / 360 * cells), math.floor(y)


# The finest zoom: the points alive at the publication, each read once (the fence keeps the
# planner from calling ST_X and ST_Y again in every expression that names them).  Rows go in in
# the index's order, which appends to it: random inserts took twice as long at a million points.
_FINEST = """
INSERT INTO cluster_overview (publication_id, level, cx, cy, count, sum_lon, sum_lat)
SELECT :pub, :level, c.cx, c.cy, c.count, c.sum_lon, c.sum_lat
FROM (SELECT {cx} AS cx, {cy} AS cy, count(*) AS count, sum(p.lon) AS sum_lon, sum(p.lat) AS sum_lat
      FROM (SELECT ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat FROM {source} f
            WHERE f.layer_id = :layer AND {alive} OFFSET 0) AS p
      GROUP BY 1, 2) AS c
ORDER BY c.cx / {n}, c.cy / {n}, c.cx, c.cy
"""

_COARSER = """
INSERT INTO cluster_overview (publication_id, level, cx, cy, count, sum_lon, sum_lat)
SELECT :pub, :level, c.cx, c.cy, c.count, c.sum_lon, c.sum_lat
FROM (SELECT o.cx >> 1 AS cx, o.cy >> 1 AS cy, sum(o.count) AS count, sum(o.sum_lon) AS sum_lon,
             sum(o.sum_lat) AS sum_lat
      FROM cluster_overview o WHERE o.publication_id = :pub AND o.level = :level + 1
      GROUP BY 1, 2) AS c
ORDER BY c.cx / {n}, c.cy / {n}, c.cx, c.cy
"""


def _finest(alive: str, source: str) -> str:
    cells = CLUSTER_CELLS * 2**MAX_LEVEL
    return _FINEST.format(cx=cell_x("p.lon", str(cells)), cy=cell_y("p.lat", str(cells)),
                          alive=alive, n=CLUSTER_CELLS, source=source)


def build_overview(session: Session | Connection, layer: Layer, publication: int,
                   current: bool = True, source: str = "feature") -> None:
    """Store a point layer's cluster overview of a publication (its latest when ``current``).

    ``source`` is the table holding the layer's features: ``feature``, or the fresh partition a
    large publication fills before it is attached (see :func:`layers.versions.publish`).
    """
    if not layer.kind.clusters:
        return
    params = {"pub": publication, "layer": layer.id, "as_of": publication}
    session.execute(text("DELETE FROM cluster_overview WHERE publication_id = :pub"), params)
    alive = live_at(None if current else publication)
    session.execute(text(_finest(alive, source)), {**params, "level": MAX_LEVEL})
    for level in range(MAX_LEVEL - 1, -1, -1):
        session.execute(text(_COARSER.format(n=CLUSTER_CELLS)), {**params, "level": level})
