"""Make the bundled country and province layers from the ODV province polygons (a one-off, not run by tests).

``python scripts/make_country_layers.py SOURCE_DIR``: SOURCE_DIR holds
``provinces_63_odv_simplified.geojson`` and ``provinces_34_2025_merged_simplified.geojson``
(Open Development Mekong / Open Development Vietnam, CC BY-SA 4.0). Writes, under data/boundaries/:
vn2021/provinces_63_odv.geojson, vn2025/provinces_34_odv_2025.geojson and
vn_country_odv.geojson (the union of the 63), simplified together so neighbours keep one border.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import shapely

TOLERANCE = 0.01  # degrees, about 1 km: enough for a country map of provinces
DIGITS = 3
CITIES_2025 = {"01", "31", "46", "48", "79", "92"}  # centrally run cities after the 2025 reform
OUT = Path(__file__).parents[1] / "data" / "boundaries"


def _rounded(geom: shapely.Geometry) -> shapely.Geometry:
    """Round to DIGITS decimals and drop islets under about 1 km² (the largest part always stays)."""
    parts = sorted(shapely.get_parts(shapely.set_precision(geom, 10**-DIGITS)), key=lambda g: -g.area)
    return shapely.MultiPolygon([parts[0], *(g for g in parts[1:] if g.area > 1e-4)])


def _write(path: Path, frame: gpd.GeoDataFrame) -> None:
    frame = frame.copy()
    frame["geometry"] = shapely.coverage_simplify(frame.geometry.values, TOLERANCE)
    frame["geometry"] = frame.geometry.map(_rounded)
    data = json.loads(frame.to_json(drop_id=True))
    data["name"] = path.stem
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(path, path.stat().st_size // 1024, "KB", len(frame), "units")


def main(source: Path) -> None:
    p63 = gpd.read_file(source / "provinces_63_odv_simplified.geojson")
    p63.loc[p63.prov_code_gso.astype(str) == "46", "prov_name_gso"] = "Tỉnh Thừa Thiên Huế"  # until 2025
    p63 = gpd.GeoDataFrame({
        "prov_code": p63.prov_code_gso.astype(str).str.zfill(2), "prov_name": p63.prov_name_gso,
        "prov_type": p63.prov_name_gso.map(lambda n: "Thành phố" if n.startswith("Thành phố") else "Tỉnh"),
        "country_code": "VN"}, geometry=p63.geometry.values, crs=4326).sort_values("prov_code")
    _write(OUT / "vn2021" / "provinces_63_odv.geojson", p63)
    p34 = gpd.read_file(source / "provinces_34_2025_merged_simplified.geojson")
    codes = p34.prov_code_2025.astype(str).str.zfill(2)
    bare = p34.prov_name_2025.str.removeprefix("Thành phố ")
    kinds = codes.map(lambda c: "Thành phố" if c in CITIES_2025 else "Tỉnh")
    p34 = gpd.GeoDataFrame({"prov_code": codes, "prov_name": kinds + " " + bare, "prov_type": kinds,
                            "country_code": "VN"}, geometry=p34.geometry.values, crs=4326)
    p34 = p34.sort_values("prov_code")
    _write(OUT / "vn2025" / "provinces_34_odv_2025.geojson", p34)
    parts = shapely.get_parts(shapely.union_all(p63.geometry.values))
    # outer rings only: the gaps between the simplified provinces are no holes in the country
    country = shapely.MultiPolygon([shapely.Polygon(p.exterior) for p in parts if p.area > 1e-4])
    frame = gpd.GeoDataFrame(
        {"country_code": ["VN"], "country_name": ["Việt Nam"], "country_type": ["Quốc gia"]},
        geometry=[country], crs=4326)
    _write(OUT / "vn_country_odv.geojson", frame)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
