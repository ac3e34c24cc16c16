"""Find the lowest-level unit holding each point, many points at a time, in the client.

PostGIS spends ~13 µs a point probing its index one row at a time; shapely answers a batch
in well under 1 µs a point, while the server is still busy with the COPY.  Points this index does not
place (outside the scope's bounding box, in gaps, at sea) are left to the SQL in
:mod:`ingest.locate`, which also handles rows located by name and polygons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class UnitIndex:
    """The lowest-level units that may hold a point of the scope, with a spatial index."""

    codes: list[str]  # in code order, so the lowest index is the lowest code
    geometries: np.ndarray  # prepared
    tree: shapely.STRtree
    bbox: tuple[float, float, float, float]  # the scope's bounding box

    def locate(self, x: np.ndarray, y: np.ndarray) -> list[str | None]:
        """Return the unit code holding each point (the lowest code on a shared edge) or None."""
        min_x, min_y, max_x, max_y = self.bbox
        # Every unit holding a point inside the scope's box touches that box, so it was loaded.
        boxed = np.flatnonzero((x >= min_x) & (x <= max_x) & (y >= min_y) & (y <= max_y))
        bx, by = x[boxed], y[boxed]
        points, units = self.tree.query(shapely.points(bx, by))  # boxes that hold the point
        order = np.argsort(units, kind="stable")
        points, units = points[order], units[order]
        hit = np.zeros(len(points), dtype=bool)
        cuts = np.flatnonzero(np.diff(units)) + 1
        for start, end in zip([0, *cuts.tolist()], [*cuts.tolist(), len(units)], strict=True):
            if start < end:  # one unit's candidates at a time: ~20x faster than pair by pair
                chosen = points[start:end]
                hit[start:end] = shapely.intersects_xy(self.geometries[units[start]], bx[chosen], by[chosen])
        best = np.full(len(x), len(self.codes))
        np.minimum.at(best, boxed[points[hit]], units[hit])
        return [self.codes[i] if i < len(self.codes) else None for i in best.tolist()]


def unit_index(session: Session, boundary_set: str, lowest: str, scope_code: str) -> UnitIndex:
    """Load the lowest-level units of a boundary set whose box meets the scope's box."""
    box = session.execute(text(
        "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM admin_unit,"
        " LATERAL (SELECT Box2D(geom) AS b) q WHERE boundary_set = :s AND code = :c"),
        {"s": boundary_set, "c": scope_code}).one()
    rows = session.execute(text(
        "SELECT code, ST_AsBinary(geom) AS wkb FROM admin_unit WHERE boundary_set = :s"
        " AND level = :lowest AND geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326) ORDER BY code"),
        {"s": boundary_set, "lowest": lowest, "x0": box[0], "y0": box[1], "x1": box[2],
         "y1": box[3]}).all()
    geometries = shapely.from_wkb([bytes(r.wkb) for r in rows])
    shapely.prepare(geometries)
    return UnitIndex([r.code for r in rows], geometries, shapely.STRtree(geometries), tuple(box))
