"""Loading boundary files: every level, both sets, parent links, repairs and errors."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon
from sqlalchemy import text

from boundaries.load import BoundaryError, FieldMap, load_boundaries
from tests.conftest import DATA


def _count(connection, set_name: str, level: str) -> int:
    return connection.execute(
        text("SELECT count(*) FROM admin_unit WHERE boundary_set = :s AND level = :l"),
        {"s": set_name, "l": level},
    ).scalar()


def test_demo_sets_have_every_level(connection):
    assert _count(connection, "vn2021", "country") == 1
    assert _count(connection, "vn2021", "province") == 63
    assert _count(connection, "vn2021", "district") == 9
    assert _count(connection, "vn2021", "commune") == 88  # 89 polygons, Đông Hòa in two parts
    assert _count(connection, "vn2025", "country") == 1
    assert _count(connection, "vn2025", "province") == 34
    assert _count(connection, "vn2025", "commune") == 130
    levels = dict(connection.execute(text("SELECT name, levels FROM boundary_set")).all())
    assert levels == {"vn2021": ["country", "province", "district", "commune"],
                      "vn2025": ["country", "province", "commune"]}


def test_every_unit_links_to_an_existing_parent(connection):
    orphans = connection.execute(text(
        "SELECT c.boundary_set, c.code FROM admin_unit c LEFT JOIN admin_unit p"
        " ON p.boundary_set = c.boundary_set AND p.code = c.parent_code AND p.depth = c.depth - 1"
        " WHERE c.depth > 0 AND p.code IS NULL")).all()
    assert orphans == []
    roots = connection.execute(text(
        "SELECT boundary_set, code, level FROM admin_unit WHERE depth = 0 ORDER BY 1")).all()
    assert [tuple(r) for r in roots] == [("vn2021", "VN", "country"), ("vn2025", "VN", "country")]


def test_the_demo_province_keeps_its_detailed_outline_among_the_countrys(connection):
    """Bình Dương and Nghệ An are merged over the simplified ODV provinces, keeping their parent."""
    rows = connection.execute(text(
        "SELECT boundary_set, code, parent_code, name, ST_NPoints(geom) AS points FROM admin_unit"
        " WHERE level = 'province' AND code IN ('74', '40', '79') ORDER BY 1, 2")).all()
    found = {(r.boundary_set, r.code): r for r in rows}
    assert set(found) == {("vn2021", "74"), ("vn2021", "40"), ("vn2021", "79"), ("vn2025", "40"),
                          ("vn2025", "79")}  # Bình Dương is part of Hồ Chí Minh City since 2025
    assert all(r.parent_code == "VN" for r in rows)
    assert found["vn2021", "74"].name == "Tỉnh Bình Dương"
    assert found["vn2021", "74"].points > 5 * found["vn2021", "40"].points  # the detailed outline
    assert found["vn2025", "79"].name == "Thành phố Hồ Chí Minh"


def test_communes_are_reassigned_to_the_district_containing_them(connection):
    parents = dict(connection.execute(text(
        "SELECT code, parent_code FROM admin_unit WHERE boundary_set = 'vn2021'"
        " AND code IN ('25741', '25942', '25813', '25840')")).all())
    # Hiệp Thành in Thủ Dầu Một; Dĩ An in Dĩ An; Mỹ Phước and An Điền in Bến Cát.
    assert parents == {"25741": "718", "25942": "724", "25813": "721", "25840": "721"}
    district_of_each = connection.execute(text(
        "SELECT count(*) FROM admin_unit c JOIN admin_unit d ON d.boundary_set = c.boundary_set"
        " AND d.code = c.parent_code WHERE c.boundary_set = 'vn2021' AND c.level = 'commune'"
        " AND ST_Area(ST_Intersection(c.geom, d.geom)) < 0.5 * ST_Area(c.geom)")).scalar()
    assert district_of_each == 0


def test_names_and_simplified_geometry_are_stored(connection):
    row = connection.execute(text(
        "SELECT name, name_ascii, name_key, kind, ST_NPoints(geom) AS full_points,"
        " ST_NPoints(geom_low) AS low_points, ST_IsValid(geom) AS valid, area_km2"
        " FROM admin_unit WHERE boundary_set = 'vn2021' AND code = '74'")).mappings().one()
    assert row["name"] == "Tỉnh Bình Dương"
    assert row["name_ascii"] == "tinh binh duong"
    assert row["name_key"] == "binh duong"
    assert row["kind"] == "Tỉnh"
    assert row["valid"] and row["low_points"] < row["full_points"]
    assert 2600 < row["area_km2"] < 2750  # Bình Dương is about 2,695 km²


def test_population_is_loaded_where_the_file_has_it(connection):
    population = connection.execute(text(
        "SELECT population FROM admin_unit WHERE boundary_set = 'vn2025' AND code = '17479'")).scalar()
    assert population == 43437


def _write(tmp_path: Path, frame: gpd.GeoDataFrame, name: str, driver: str) -> Path:
    path = tmp_path / name
    frame.to_file(path, driver=driver)
    return path


@pytest.mark.parametrize(("name", "driver"), [("units.gpkg", "GPKG"), ("units.shp", "ESRI Shapefile")])
def test_any_crs_and_format_is_reprojected_and_repaired(connection, tmp_path, name, driver):
    bowtie = Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000), (0, 0)])  # self-intersecting
    square = Polygon([(2000, 0), (3000, 0), (3000, 1000), (2000, 1000)])
    frame = gpd.GeoDataFrame({"ma": ["1", "2"], "ten": ["Xã Một", "Phường Hai"]},
                             geometry=[bowtie, square], crs="EPSG:3405")  # VN-2000 / UTM 48N
    frame = frame.set_geometry(frame.geometry.translate(690000, 1217000))
    path = _write(tmp_path, frame, name, driver)
    result = load_boundaries(connection, path, set_name="t", level="commune",
                             fields=FieldMap(code="ma", name="ten"))
    assert result.units == 2
    rows = connection.execute(text(
        "SELECT code, kind, ST_IsValid(geom) AS valid, ST_X(label_point) AS lon,"
        " ST_Y(label_point) AS lat FROM admin_unit WHERE boundary_set = 't' ORDER BY code")).all()
    assert [(r.code, r.kind, r.valid) for r in rows] == [("1", "Xã", True), ("2", "Phường", True)]
    assert all(106.7 < r.lon < 106.8 and 10.9 < r.lat < 11.1 for r in rows)


def test_parent_by_field_and_new_levels_in_any_number(connection, tmp_path):
    big = Polygon([(106, 10), (107, 10), (107, 11), (106, 11)])
    small = Polygon([(106.1, 10.1), (106.2, 10.1), (106.2, 10.2), (106.1, 10.2)])
    tiny = Polygon([(106.11, 10.11), (106.12, 10.11), (106.12, 10.12), (106.11, 10.12)])
    for level, code, geom, parent in (("region", "R", big, None), ("zone", "Z", small, "R"),
                                      ("block", "B", tiny, None)):
        frame = gpd.GeoDataFrame({"c": [code], "n": [code], "p": [parent]}, geometry=[geom],
                                 crs=4326)
        path = _write(tmp_path, frame, f"{level}.geojson", "GeoJSON")
        load_boundaries(connection, path, set_name="four", level=level,
                        fields=FieldMap(code="c", name="n", parent="p" if parent else None))
    rows = connection.execute(text(
        "SELECT code, depth, parent_code FROM admin_unit WHERE boundary_set = 'four' ORDER BY depth"
    )).all()
    assert [tuple(r) for r in rows] == [("R", 0, None), ("Z", 1, "R"), ("B", 2, "Z")]


def test_bad_files_give_one_clear_error(connection, tmp_path):
    empty = tmp_path / "empty.geojson"
    empty.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(BoundaryError, match="has no features"):
        load_boundaries(connection, empty, set_name="x", level="a",
                        fields=FieldMap(code="c", name="n"))
    garbage = tmp_path / "broken.geojson"
    garbage.write_text("{not json")
    with pytest.raises(BoundaryError, match="cannot read broken.geojson"):
        load_boundaries(connection, garbage, set_name="x", level="a",
                        fields=FieldMap(code="c", name="n"))
    districts = DATA / "boundaries/vn2021/74_binh_duong_districts.geojson"
    with pytest.raises(BoundaryError, match="unknown field nope"):
        load_boundaries(connection, districts, set_name="x", level="a",
                        fields=FieldMap(code="nope", name="dist_name"))


def test_cli_loads_and_reports_errors_in_one_line(run_cli, tmp_path):
    districts = DATA / "boundaries/vn2021/74_binh_duong_districts.geojson"
    ok = run_cli("boundaries", "load", str(districts), "--set", "cli", "--level", "district",
                 "--code-field", "dist_code", "--name-field", "dist_name")
    assert ok.exit_code == 0, ok.output
    assert "9 district units loaded into cli" in ok.output
    bad = run_cli("boundaries", "load", str(districts), "--set", "cli", "--level", "district",
                  "--code-field", "missing", "--name-field", "dist_name")
    assert bad.exit_code == 1
    assert bad.output.strip().count("\n") == 0 and "unknown field missing" in bad.output
