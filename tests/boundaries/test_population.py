"""Populations in the demo: official for 2025 wards, apportioned by area for 2021 communes."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.load import FieldMap, load_boundaries
from boundaries.population import estimate_populations, sum_populations_up
from layers.risk import commune_levels
from layers.statistics import latest_day
from tests.conftest import DATA

SOURCE = DATA / "boundaries" / "vn2025" / "wards_79_former_binh_duong_2025.geojson"


def _coverage(connection, set_name: str) -> tuple[int, int, int]:
    row = connection.execute(text(
        "SELECT count(*), count(population),"
        " count(*) FILTER (WHERE props ->> 'population_source' = 'estimated')"
        " FROM admin_unit WHERE boundary_set = :s AND depth = (SELECT max(depth) FROM admin_unit"
        " WHERE boundary_set = :s)"), {"s": set_name}).one()
    return tuple(row)


def test_both_demo_sets_have_a_population_for_every_commune(connection):
    assert _coverage(connection, "vn2025") == (130, 130, 0)  # official figures
    assert _coverage(connection, "vn2021") == (88, 88, 88)  # estimated from the 2025 wards


def test_estimates_share_the_wards_populations_by_area(connection):
    total = connection.execute(text(
        "SELECT sum(population) FROM admin_unit WHERE boundary_set = 'vn2021' AND level = 'commune'"
    )).scalar()
    features = json.loads(SOURCE.read_text(encoding="utf-8"))["features"]
    wards = sum(f["properties"]["population"] for f in features)
    assert 0.85 * wards < total <= 1.01 * wards  # wards at the edge lie partly outside the province
    thu_dau_mot, rural = connection.execute(text(
        "SELECT max(population / area_km2) FILTER (WHERE parent_code = '718'),"
        " max(population / area_km2) FILTER (WHERE parent_code = '720')"
        " FROM admin_unit WHERE boundary_set = 'vn2021' AND level = 'commune'")).one()
    assert thu_dau_mot > 3 * rural  # city wards are denser than Dầu Tiếng's communes


def test_real_figures_always_win_over_estimates(connection, tmp_path):
    connection.execute(text("UPDATE admin_unit SET population = 1234, props = '{}'"
                            " WHERE boundary_set = 'vn2021' AND code = '25741'"))
    result = estimate_populations(connection, SOURCE, set_name="vn2021", level="commune",
                                  population_field="population")
    assert result.estimated == 87 and result.kept == 1 and result.without == 0
    assert connection.execute(text("SELECT population FROM admin_unit WHERE boundary_set = 'vn2021'"
                                   " AND code = '25741'")).scalar() == 1234
    # loading a real figure replaces an estimate (and its mark)
    feature = connection.execute(text(
        "SELECT json_build_object('type', 'Feature', 'geometry', ST_AsGeoJSON(geom)::json, 'properties',"
        " json_build_object('code', code, 'name', name, 'pop', 9999)) FROM admin_unit"
        " WHERE boundary_set = 'vn2021' AND code = '25747'")).scalar()
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    load_boundaries(connection, path, set_name="vn2021", level="commune", merge=True,
                    fields=FieldMap(code="code", name="name", population="pop"))
    row = connection.execute(text("SELECT population, props, parent_code FROM admin_unit"
                                  " WHERE boundary_set = 'vn2021' AND code = '25747'")).one()
    assert row.population == 9999 and "population_source" not in row.props and row.parent_code == "718"
    estimate_populations(connection, SOURCE, set_name="vn2021", level="commune",
                         population_field="population")
    assert connection.execute(text("SELECT population FROM admin_unit WHERE boundary_set = 'vn2021'"
                                   " AND code = '25747'")).scalar() == 9999


def test_risk_levels_work_in_the_2021_set(connection):
    with Session(connection) as session:
        day = latest_day(session, "vn2021")
        levels = commune_levels(session, "vn2021", "74", day)
    assert levels and all(level is not None for level in levels.values())


def test_the_api_and_page_say_a_population_is_estimated(client):
    unit = client.get("/api/units", query_string={"q": "P. Hiệp Thành"}).json["units"][0]
    assert unit["population"] > 0 and unit["population_estimated"] is True
    ward = client.get("/api/units", query_string={"q": "An Chau", "set": "vn2025"}).json["units"][0]
    assert ward["population"] == 43437 and ward["population_estimated"] is False
    assert "ước tính theo diện tích" in client.get("/map/25741").get_data(as_text=True)


def _population(connection, code: str) -> tuple[int | None, str | None]:
    row = connection.execute(text("SELECT population, props ->> 'population_source' AS source FROM admin_unit"
                                  " WHERE boundary_set = 'vn2021' AND code = :c"), {"c": code}).one()
    return row.population, row.source


def test_districts_and_the_province_get_their_communes_sum(connection):
    sums = connection.execute(text(
        "SELECT parent_code, sum(population) FROM admin_unit WHERE boundary_set = 'vn2021'"
        " AND level = 'commune' GROUP BY parent_code")).all()
    assert len(sums) == 9
    for district, total in sums:
        assert _population(connection, district) == (total, "estimated")
    assert _population(connection, "74") == (sum(total for _, total in sums), "estimated")
    assert _population(connection, "VN") == (None, None)  # 62 provinces have no figure: no partial sum


def test_a_sum_with_a_hole_is_no_sum_and_official_parts_sum_to_official(connection):
    connection.execute(text("UPDATE admin_unit SET population = NULL WHERE boundary_set = 'vn2021'"
                            " AND code = '25741'"))  # a commune of Thủ Dầu Một (718)
    # Bến Cát's communes get official figures
    connection.execute(text("UPDATE admin_unit SET population = 1000, props = '{}'"
                            " WHERE boundary_set = 'vn2021' AND parent_code = '719'"))
    with Session(connection) as session:
        sum_populations_up(session, "vn2021")
        session.flush()
    communes = connection.execute(text("SELECT count(*) FROM admin_unit WHERE boundary_set = 'vn2021'"
                                       " AND parent_code = '719'")).scalar()
    assert _population(connection, "719") == (1000 * communes, "summed")
    assert _population(connection, "718") == (None, None)  # its earlier sum is dropped
    assert _population(connection, "74") == (None, None)  # one district without a figure


def test_a_district_page_shows_its_estimated_population(client):
    page = client.get("/map/718").get_data(as_text=True)
    facts = page[page.index("<dt>Dân số"):][:300]
    assert "chưa có số liệu" not in facts and "ước tính theo diện tích" in facts
