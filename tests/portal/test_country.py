"""The country level: each demo set's root with its provinces, coloured on /map/<set>/VN."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from boundaries.queries import find_units


@pytest.mark.parametrize(("set_name", "provinces"), [("vn2021", 63), ("vn2025", 34)])
def test_country_page_shows_every_province(client, set_name, provinces):
    response = client.get(f"/map/{set_name}/VN")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Việt Nam</h1>" in html
    links = set(re.findall(rf'href="/map/(?:{set_name}/)?(\d{{2}})" data-code', html))
    assert len(links) == provinces and {"01", "79"} <= links
    assert f"/tiles/boundaries/{set_name}/province/" in html
    assert len(response.data) < 300_000


def test_country_map_colours_provinces_by_a_statistic(client):
    """Bình Dương's communes' cases roll up to the province the country map colours."""
    html = client.get("/map/vn2021/VN").get_data(as_text=True)
    style = re.search(r'epimap\.childStyle\("VN", (\{.*?\})\)', html)
    assert style is not None and re.search(r'"74"\s*:\s*"#[0-9a-fA-F]{6}"', style.group(1))


def test_province_breadcrumbs_start_at_the_country(client):
    html = client.get("/map/vn2025/40").get_data(as_text=True)
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S).group(0)
    assert re.findall(r">([^<>]+)</(?:a|li)>", crumbs) == ["Việt Nam", "Tỉnh Nghệ An"]
    assert 'href="/map/vn2025/VN"' in crumbs


def test_provinces_are_found_by_name_as_people_write_them(connection):
    from sqlalchemy.orm import Session

    with Session(connection) as session:
        for query, code in [("TP Ho Chi Minh", "79"), ("Tp. Hồ Chí Minh", "79"), ("tinh Binh Duong", "74"),
                            ("Bà Rịa-Vũng Tàu", "77"), ("Thừa Thiên Huế", None), ("Ha Noi", "01")]:
            found = [u.code for u in find_units(session, "vn2021", query) if u.level == "province"]
            if code:
                assert found == [code], query
    assert connection.execute(text(
        "SELECT count(*) FROM admin_unit WHERE boundary_set = 'vn2021' AND parent_code = 'VN'"
    )).scalar() == 63
