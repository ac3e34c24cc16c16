"""Layers on a commune page in headless Chromium: toggle, click, popup, escaping."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.browser import watch_errors
from tests.ingest.helpers import run
from tests.publications import undo_publications

XSS_NAME = "<img src=x onerror=window.__xss=1>"
POINT = (10.99, 106.6588)  # inside Phường Hiệp Thành (25741)


@pytest.fixture(scope="module")
def hostile_feature(engine, tmp_path_factory):
    """Publish (committed) an essential-goods point whose cells try to inject HTML and formulas."""
    path = tmp_path_factory.mktemp("feeds") / "hang_thiet_yeu.csv"
    path.write_text(
        "Tên điểm bán,Mặt hàng,Địa chỉ,Vĩ độ,Kinh độ\n"
        f'"{XSS_NAME}","=HYPERLINK(""http://evil"",""x"")",<b>bold</b>,{POINT[0]},{POINT[1]}\n',
        encoding="utf-8")
    report = run(engine, path, "essential_services")
    assert report.publication
    yield report
    with engine.begin() as conn:
        undo_publications(conn, [report.publication])


_DRAWN_JS = (
    "(id) => { let n = 0; epimap.map.eachLayer(l => {"
    " if (l._url && l._url.includes('/tiles/' + id + '/'))"
    " n += l.getContainer().querySelectorAll('path').length; }); return n; }"
)


def _drawn(page, layer_id: str) -> int:
    """Count the features a layer's vector grid has drawn (0 when the layer is off)."""
    return page.evaluate(_DRAWN_JS, layer_id)


def _feature_point(page) -> tuple[float, float]:
    return page.evaluate(
        "([lat, lon]) => { const p = epimap.map.latLngToContainerPoint([lat, lon]);"
        " const r = epimap.map.getContainer().getBoundingClientRect();"
        " return [p.x + r.left, p.y + r.top]; }", list(POINT))


def test_toggle_layer_click_feature_popup_is_escaped(browser, live_server, hostile_feature):
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors = watch_errors(page)
    page.goto(live_server + "/map/25741", wait_until="networkidle")
    page.evaluate(f"() => epimap.map.setView([{POINT[0]}, {POINT[1]}], 16)")
    page.wait_for_load_state("networkidle")
    title = "Điểm cung ứng hàng thiết yếu"
    checkbox = page.locator(".leaflet-control-layers-overlays label", has_text=title).locator("input")
    assert not checkbox.is_checked()
    assert _drawn(page, "essential_services") == 0
    checkbox.check()
    page.wait_for_load_state("networkidle")
    page.wait_for_function(f"() => ({_DRAWN_JS})('essential_services') === 1")
    x, y = _feature_point(page)
    page.mouse.click(x, y)
    popup = page.locator(".feature-popup")
    popup.wait_for()
    assert XSS_NAME in popup.inner_text()
    assert '=HYPERLINK("http://evil","x")' in popup.inner_text()
    assert popup.locator("img, b").count() == 0
    assert page.evaluate("() => window.__xss") is None
    assert "Cập nhật" in popup.inner_text()
    assert errors == []
    page.close()


def test_legend_lists_layers_with_their_freshness(browser, live_server, engine):
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors = watch_errors(page)
    page.goto(live_server + "/map/718", wait_until="networkidle")
    legend = page.locator(".legend").inner_text()
    with engine.connect() as conn:  # the district's sites, not the province's 40
        in_district = conn.execute(text(
            "SELECT count(*) FROM feature WHERE layer_id = 'testing_sites' AND valid_to_pub IS NULL"
            " AND units ->> 'district' = '718'")).scalar()
    assert 0 < in_district < 40
    # The demo's zones all ended in August 2021: none is counted as current (it said 8).
    assert f"Điểm xét nghiệm ({in_district})" in legend and "Vùng phong tỏa (0)" in legend
    # Only the layers switched on are listed (it listed all five), each saying how fresh it is.
    checked = page.locator(".leaflet-control-layers-overlays input:checked").count()
    assert checked >= 3 and legend.count("cập nhật") == checked - 1  # the subdivisions have their own key
    assert "Điểm tiêm chủng" not in legend
    overlays = page.locator(".leaflet-control-layers-overlays label")
    overlays.filter(has_text="Điểm tiêm chủng").locator("input").check()
    assert "Điểm tiêm chủng (" in page.locator(".legend").inner_text()
    assert errors == []
    page.close()


def test_popups_show_labels_dates_and_numbers_in_the_pages_language(browser, live_server):
    page = browser.new_page()
    choice = ["kind", "Loại", "choice", {"roadblock": "Rào chắn"}]
    expected_by_lang = {"vi": ["Rào chắn", "16/08/2021", "1.500"], "en": ["Rào chắn", "16 Aug 2021", "1,500"]}
    for lang, expected in expected_by_lang.items():
        page.goto(f"{live_server}/map/25741?lang={lang}", wait_until="networkidle")
        shown = page.evaluate(
            "([choice]) => [epimap.fieldText(choice, 'roadblock'),"
            " epimap.fieldText(['start_date', 'x', 'date', {}], '2021-08-16'),"
            " epimap.fieldText(['capacity_per_day', 'x', 'int', {}], 1500)]", [choice])
        assert shown == expected
    page.close()
