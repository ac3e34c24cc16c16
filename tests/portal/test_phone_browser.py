"""Every public page kind on a 360 px phone, tablets and a 1366 px laptop in headless Chromium:
the map box has a real height and is drawn, nothing overflows sideways, the top bar folds."""

from __future__ import annotations

import pytest

from tests.browser import watch_errors

PHONE = {"width": 360, "height": 740}
SCREENS = {
    "phone": {"viewport": PHONE, "is_mobile": True, "has_touch": True},
    "tablet-portrait": {"viewport": {"width": 768, "height": 1024}, "is_mobile": True, "has_touch": True},
    "tablet-landscape": {"viewport": {"width": 1024, "height": 768}, "is_mobile": True, "has_touch": True},
    "laptop": {"viewport": {"width": 1366, "height": 768}},
}
MAP_PAGES = ["/", "/?lang=en", "/map/718", "/map/25747", "/map/25747?lang=en", "/embed/718"]
OTHER_PAGES = ["/tim-diem", "/map/vn2021/718/van-ban", "/ogc"]


@pytest.fixture
def screen(browser):
    contexts = []

    def open_page(name: str, url: str):
        context = browser.new_context(**SCREENS[name])
        contexts.append(context)
        page = context.new_page()
        errors = watch_errors(page)
        page.goto(url, wait_until="networkidle")
        return page, errors

    yield open_page
    for context in contexts:
        context.close()


def _no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("name", list(SCREENS))
@pytest.mark.parametrize("path", MAP_PAGES)
def test_the_map_box_is_high_and_drawn(screen, live_server, path, name):
    page, errors = screen(name, live_server + path)
    box = page.locator(".folium-map").bounding_box()
    assert box is not None and box["height"] >= 300, box
    assert box["width"] >= 300
    page.wait_for_selector(".leaflet-overlay-pane path", state="attached")
    assert page.evaluate("() => epimap.map.getSize().y") >= 300  # Leaflet itself sees the height
    _no_sideways_scroll(page, SCREENS[name]["viewport"]["width"])
    assert errors == []


@pytest.mark.parametrize("name", ["phone", "laptop"])
@pytest.mark.parametrize("path", OTHER_PAGES)
def test_other_public_pages_fit_the_screen(screen, live_server, path, name):
    page, errors = screen(name, live_server + path)
    _no_sideways_scroll(page, SCREENS[name]["viewport"]["width"])
    assert errors == []


@pytest.mark.parametrize("path", ["/", "/map/718?lang=en"])
def test_the_top_bar_folds_into_a_menu_on_a_phone(screen, live_server, path):
    page, errors = screen("phone", live_server + path)
    toggle = page.locator(".menu-toggle")
    assert toggle.is_visible()
    links = page.locator(".topmenu a")
    assert not links.first.is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    boxes = [links.nth(i).bounding_box() for i in range(links.count())]
    assert len(boxes) >= 3  # Tìm điểm, Dữ liệu mở, Quản trị, English
    for box in boxes:
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert box["height"] >= 44  # a touch target
    for a, b in zip(boxes, boxes[1:], strict=False):  # no link lies over another
        assert b["y"] >= a["y"] + a["height"] - 1 or b["x"] >= a["x"] + a["width"]
    _no_sideways_scroll(page, PHONE["width"])
    assert errors == []


def test_the_top_bar_keeps_its_links_on_a_laptop(screen, live_server):
    page, _ = screen("laptop", live_server + "/")
    assert not page.locator(".menu-toggle").is_visible()
    assert page.locator("a.lang-switch").is_visible()
    assert page.locator(".topnav a").first.is_visible()


def test_the_home_page_leads_with_the_finder_on_a_phone(screen, live_server):
    page, errors = screen("phone", live_server + "/")
    finder = page.locator(".home-finder").bounding_box()
    map_box = page.locator(".folium-map").bounding_box()
    assert finder["y"] < map_box["y"]
    assert finder["y"] < PHONE["height"] and map_box["y"] < PHONE["height"]  # both start on the first screen
    locate = page.get_by_role("link", name="Dùng vị trí của tôi")
    assert locate.is_visible() and locate.bounding_box()["height"] >= 44
    page.fill("#home-q", "Phú Cường")
    with page.expect_navigation():
        page.locator(".home-finder button").click()
    assert "/tim-diem" in page.url
    assert errors == []


def test_pinch_zoom_is_allowed(screen, live_server):
    for path in ("/", "/tim-diem", "/embed/718"):
        page, _ = screen("phone", live_server + path)
        viewport = page.locator("meta[name=viewport]").get_attribute("content")
        assert "user-scalable=no" not in viewport.replace(" ", "")
        assert "maximum-scale=1" not in viewport.replace(" ", "")


@pytest.mark.parametrize("path", ["/map/718", "/embed/718"])
def test_controls_fold_on_a_phone_so_the_map_stays_visible(screen, live_server, path):
    page, errors = screen("phone", live_server + path)
    page.wait_for_selector(".leaflet-control-layers", state="attached")
    assert page.locator(".leaflet-control-layers-expanded").count() == 0
    assert page.evaluate("() => document.querySelector('details.legend').open") is False
    map_box = page.locator(".folium-map").bounding_box()
    controls = (".leaflet-control-layers", ".legend")
    covered = sum(page.locator(sel).bounding_box()["height"] for sel in controls)
    assert covered < map_box["height"] / 3
    assert errors == []
    laptop, _ = screen("laptop", live_server + path)
    laptop.wait_for_selector(".leaflet-control-layers", state="attached")
    assert laptop.evaluate("() => document.querySelector('details.legend').open") is True


_BOTTOM_CONTROLS = """() => [...document.querySelectorAll(
    '.leaflet-bottom .leaflet-control-scale-line, .leaflet-bottom .leaflet-control-attribution')]
    .map(e => { const r = e.getBoundingClientRect();
                return {cls: e.className, left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })"""


def _overlap(a: dict, b: dict) -> bool:
    sideways = a["right"] <= b["left"] or b["right"] <= a["left"]
    return not (sideways or a["bottom"] <= b["top"] or b["bottom"] <= a["top"])


@pytest.mark.parametrize("path", ["/", "/map/718", "/embed/718"])
def test_the_scale_is_metric_and_clear_of_the_credit_on_a_phone(screen, live_server, path):
    page, errors = screen("phone", live_server + path)
    page.wait_for_selector(".leaflet-control-scale-line", state="attached")
    boxes = page.evaluate(_BOTTOM_CONTROLS)
    scales = [b for b in boxes if "scale" in b["cls"]]
    assert len(scales) == 1  # metres and kilometres only: no miles or feet in Vietnam
    credit = [b for b in boxes if "attribution" in b["cls"]]
    assert credit and not any(_overlap(scales[0], c) for c in credit), boxes
    assert errors == []
