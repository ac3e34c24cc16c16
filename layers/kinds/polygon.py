"""Polygon layers: areas such as lockdown zones, drawn under the points."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import shape

from layers.kinds.base import LayerKind


class PolygonKind(LayerKind):
    """Areas: a polygon each, from WKT (or their commune's outline); may block access to sites."""

    name = "polygon"
    geometry = "polygon"
    areas = True
    may_block_access = True
    located_by = (frozenset({"wkt"}),)

    def export_columns(self) -> list[tuple[str, str]]:
        return [("wkt", "Hình học (WKT) / Geometry (WKT)")]

    def export_place(self, geometry: dict[str, Any]) -> list[Any]:
        """Return the area as WKT with 6 decimals."""
        return [shapely.to_wkt(shape(geometry), rounding_precision=6, trim=True)]
