"""Province, district and commune pages in Debian's headless Chromium."""

from __future__ import annotations

import pytest

from tests.browser import watch_errors

PAGES = [
    ("/", "Tỉnh Bình Dương", 9),
    ("/map/718", "Thành phố Thủ Dầu Một", 14),
    ("/map/25741", "Phường Hiệp Thành", 0),
]


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors = watch_errors(page)
    page.goto(url, wait_until="networkidle")
    return page, errors


@pytest.mark.parametrize(("path", "title", "children"), PAGES)
def test_unit_page_draws_the_map_without_console_errors(browser, live_server, path, title,
                                                        children):
    page, errors = _open(browser, live_server + path)
    assert page.locator("h1").inner_text() == title
    page.wait_for_selector(".leaflet-container .leaflet-overlay-pane path")
    assert page.evaluate("() => !!(window.epimap && window.epimap.map)")
    if children:
        page.wait_for_selector(".leaflet-tile-container path.leaflet-interactive", state="attached")
        tiles = page.locator(".leaflet-tile-container path").count()
        assert tiles >= children
        assert page.locator(".unit-label").count() == children
    shot = page.screenshot()
    assert len(set(shot[100:5000])) > 10  # not a blank image
    assert errors == []
    page.close()


def test_clicking_a_district_on_the_map_opens_its_page(browser, live_server):
    page, errors = _open(browser, live_server + "/")
    page.wait_for_selector(".leaflet-tile-container path.leaflet-interactive", state="attached")
    point = page.evaluate(
        "() => { const p = epimap.map.latLngToContainerPoint([10.9909, 106.6588]);"
        " const r = epimap.map.getContainer().getBoundingClientRect();"
        " return [p.x + r.left, p.y + r.top]; }"
    )  # inside Thủ Dầu Một
    with page.expect_navigation():
        page.mouse.click(point[0], point[1])
    assert page.url.endswith("/map/718")
    assert page.locator("h1").inner_text() == "Thành phố Thủ Dầu Một"
    assert errors == []
    page.close()


def test_english_switch_in_the_browser(browser, live_server):
    page, errors = _open(browser, live_server + "/map/718")
    page.click("a.lang-switch")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Subdivisions" in page.content()
    assert errors == []
    page.close()
