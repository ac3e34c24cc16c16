"""Point layers: sites (testing, vaccination, pharmacies, checkpoints …), clustered when dense."""

from __future__ import annotations

from typing import Any

from shapely.geometry import shape

from layers.kinds.base import LayerKind


class PointKind(LayerKind):
    """Sites: a point each, placed by coordinates (or their commune), searchable by distance."""

    name = "point"
    geometry = "point"
    clusters = True
    may_be_searched = True
    located_by = (frozenset({"latlon"}), frozenset({"lat", "lon"}), frozenset({"vn2000_x", "vn2000_y"}))

    def export_columns(self) -> list[tuple[str, str]]:
        return [("lon", "Kinh độ / Longitude"), ("lat", "Vĩ độ / Latitude")]

    def export_place(self, geometry: dict[str, Any]) -> list[Any]:
        """Return lon and lat, rounded to 6 decimals (about 0.1 m); a commune's point if approximate."""
        lon, lat = (geometry["coordinates"] if geometry["type"] == "Point"
                    else shape(geometry).representative_point().coords[0])
        return [round(lon, 6), round(lat, 6)]
