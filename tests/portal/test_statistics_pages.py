"""Statistics on unit pages: the chosen statistic, class legend, chart, text view."""

from __future__ import annotations

import re

from sqlalchemy import text


def test_province_children_are_coloured_by_new_cases_with_a_legend(client):
    html = client.get("/?date=2021-08-16").get_data(as_text=True)
    assert "Ca mắc mới trong 7 ngày" in html and "16/08/2021" in html
    colours = re.search(r"epimap\.childStyle\(\"74\", (\{.*?\})\)", html).group(1)
    assert colours.count("#") == 9  # every district has cases in the demo feed
    assert html.count('class="swatch-box"') >= 5
    # Thủ Dầu Một's week: the sum of its communes' demo values for 10-16/08.
    assert re.search(r'data-code="718">Thành phố Thủ Dầu Một</a> <span class="muted">([\d,]+)<', html)


def test_week_total_matches_the_feed(client, connection):
    expected = connection.execute(text(
        "SELECT sum(value) FROM unit_stat WHERE boundary_set = 'vn2021' AND metric = 'new_cases'"
        " AND unit_code = '25741' AND day BETWEEN '2021-08-10' AND '2021-08-16'")).scalar()
    html = client.get("/map/25741").get_data(as_text=True)
    assert f"Ca mắc mới 7 ngày qua:</strong> {expected:,.0f}" in html
    assert html.count("<rect ") == 7  # one bar per day of data


def test_per_population_statistic_needs_population(client, connection):
    connection.execute(text("UPDATE admin_unit SET population = NULL WHERE boundary_set = 'vn2021'"))
    html = client.get("/map/718?stat=cases_per_100k").get_data(as_text=True)
    assert "Chưa đủ số liệu cho chỉ số này" in html
    connection.execute(text(
        "INSERT INTO unit_stat (boundary_set, unit_code, metric, day, value)"
        " VALUES ('vn2021', '25741', 'population', '2021-01-01', 50000)"))
    html = client.get("/map/718?stat=cases_per_100k").get_data(as_text=True)
    assert 'data-code="25741">Phường Hiệp Thành</a> <span class="muted">108<' in html  # 54/50000


def test_bad_statistic_or_date_is_a_400(client):
    assert client.get("/map/718?stat=nope").status_code == 400
    assert client.get("/map/718?date=16-08-2021").status_code == 400


def test_text_view_lists_features_and_statistics_without_scripts(client):
    response = client.get("/map/vn2021/718/van-ban")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<script" not in html
    assert "Trạm Y tế Phú Cường" in html and "Điểm xét nghiệm" in html
    assert "Phường Hiệp Thành" in html and "Cấp 1" in html
    english = client.get("/map/vn2021/718/text?lang=en").get_data(as_text=True)
    assert "Testing sites" in english and "New cases" in english
    assert client.get("/map/vn2021/nope/van-ban").status_code == 404


def test_text_view_escapes_feed_text(client, connection):
    connection.execute(text(
        "UPDATE feature SET props = jsonb_set(props, '{name}', '\"<script>alert(1)</script>\"')"
        " WHERE layer_id = 'testing_sites' AND valid_to_pub IS NULL AND unit_code = '25747'"))
    html = client.get("/map/vn2021/718/van-ban").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
