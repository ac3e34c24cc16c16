"""Unit pages: every demo unit renders, breadcrumbs, children, facts, languages, 404s, size."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text


def _units(connection) -> list[tuple[str, str]]:
    """Every unit but the simplified provinces nothing is loaded under (one of them is rendered)."""
    return [tuple(r) for r in connection.execute(text(
        "SELECT boundary_set, code FROM admin_unit u WHERE level <> 'province' OR code IN ('01', '74', '40')"
        " ORDER BY boundary_set, depth, code"))]


def test_every_demo_unit_page_renders(client, connection):
    units = _units(connection)
    assert len(units) == 1 + 3 + 9 + 88 + 1 + 2 + 130  # Hà Nội, Nghệ An (and Bình Dương in 2021)
    for set_name, code in units:
        url = f"/map/{code}" if set_name == "vn2021" else f"/map/{set_name}/{code}"
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.data) < 300_000, url


def test_province_page_lists_districts_with_links_and_facts(client):
    html = client.get("/").get_data(as_text=True)
    assert "<h1>Tỉnh Bình Dương</h1>" in html
    links = re.findall(r'href="/map/(\d{3})" data-code', html)
    assert len(links) == 9 and "718" in links
    assert "Thành phố Thủ Dầu Một" in html
    assert "Diện tích" in html and "km²" in html
    assert '/tiles/boundaries/vn2021/district/{z}/{x}/{y}.mvt' in html
    assert 'lang="vi"' in html


def test_commune_page_has_breadcrumbs_country_to_commune(client):
    html = client.get("/map/25741").get_data(as_text=True)
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S).group(0)
    names = re.findall(r">([^<>]+)</(?:a|li)>", crumbs)
    assert names == ["Việt Nam", "Tỉnh Bình Dương", "Thành phố Thủ Dầu Một", "Phường Hiệp Thành"]
    assert "Không có đơn vị trực thuộc" in html


def test_two_level_set_page(client):
    html = client.get("/map/vn2025/40").get_data(as_text=True)
    assert len(re.findall(r'href="/map/vn2025/\d{5}" data-code', html)) == 130
    commune = client.get("/map/vn2025/17479").get_data(as_text=True)
    assert "43.437" in commune  # population from the boundary file, Vietnamese separators (was 43,437)


def test_english_switch_is_remembered(client):
    response = client.get("/map/718?lang=en")
    html = response.get_data(as_text=True)
    assert 'lang="en"' in html and "Subdivisions" in html and "Area" in html
    assert "lang=en" in response.headers["Set-Cookie"]
    again = client.get("/map/718").get_data(as_text=True)
    assert "Subdivisions" in again


@pytest.mark.parametrize("url", ["/map/99999", "/map/vn2021/nope", "/map/nosuchset/74"])
def test_unknown_unit_is_a_404_page_in_the_users_language(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Không tìm thấy" in response.get_data(as_text=True)
    english = client.get(url + "?lang=en")
    assert english.status_code == 404 and "Not found" in english.get_data(as_text=True)


def test_pages_use_only_local_assets_with_cache_headers(client):
    html = client.get("/map/718").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets and all(a.startswith("/static/") for a in assets), assets
    assert "http" not in " ".join(assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert "max-age" in response.headers["Cache-Control"]
    vendored = [a for a in assets if "/vendor/" in a]
    assert vendored and all("immutable" in client.get(a).headers["Cache-Control"] for a in vendored)


def test_map_page_size_does_not_depend_on_geometry_detail(client):
    province = client.get("/map/vn2025/40").data
    assert len(province) < 150_000


def test_no_stack_trace_reaches_users(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"database": "ok"}


def test_language_switch_keeps_the_page_query(client):
    html = client.get("/map/718?stat=cases_per_100k&date=2021-08-16").get_data(as_text=True)
    assert 'href="?stat=cases_per_100k&amp;date=2021-08-16&amp;lang=en"' in html
    english = client.get("/map/718?date=2021-08-16&lang=en").get_data(as_text=True)
    assert 'href="?date=2021-08-16&amp;lang=vi"' in english
