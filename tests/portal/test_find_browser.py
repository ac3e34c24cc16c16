"""``/tim-diem`` in headless Chromium: "Dùng vị trí của tôi", the map, 360 px phones, no JavaScript."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.browser import watch_errors
from tests.publications import undo_publications

BEN_CAT = {"latitude": 11.1031, "longitude": 106.5957}  # a phone in Thị xã Bến Cát
HA_NOI = {"latitude": 21.0285, "longitude": 105.8542}
PHONE = {"width": 360, "height": 740}


def _nearest(engine, layer: str, position: dict) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text(
            "SELECT props ->> 'name' FROM feature WHERE layer_id = :l AND valid_to_pub IS NULL"
            " ORDER BY ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography)"
            " LIMIT 10"), {"l": layer, "x": position["longitude"], "y": position["latitude"]})]


@pytest.fixture
def phone(browser):
    contexts = []

    def open_page(position: dict | None = BEN_CAT, **options):
        if position is not None:
            options.update(geolocation=position, permissions=["geolocation"])
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, **options)
        contexts.append(context)
        page = context.new_page()
        return page, watch_errors(page)

    yield open_page
    for context in contexts:
        context.close()


def _no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.mark.parametrize(("kind", "layer"),
                         [("testing", "testing_sites"), ("vaccination", "vaccination_sites")])
def test_use_my_location_lists_the_nearest_site_first(phone, live_server, engine, kind, layer):
    expected = _nearest(engine, layer, BEN_CAT)
    page, errors = phone()
    page.goto(live_server + "/tim-diem", wait_until="networkidle")
    page.select_option("#find-kind", kind)
    page.get_by_role("button", name="Dùng vị trí của tôi").click()
    page.locator(".find-list .site").first.wait_for()
    names = page.locator(".find-list .site-name").all_inner_texts()
    assert names[0] == expected[0]
    assert names == expected  # all ten, nearest first
    assert page.locator("#find-results h2").inner_text() == "Gần vị trí của bạn"
    first = page.locator(".find-list .site").first
    assert first.locator(".site-distance").inner_text().endswith((" m", " km"))
    assert first.locator(".site-status").inner_text() in ("Đang mở cửa", "Đã đóng cửa", "Chưa rõ giờ")
    assert first.locator('a[href^="geo:"]').count() == 1
    assert first.locator('a[href^="https://www.openstreetmap.org/directions?to="]').count() == 1
    assert "cập nhật" in first.locator(".site-fresh").inner_text()
    # The map shows the phone and each site, and nothing was fetched from elsewhere.
    # Pins carry their list numbers (they were unnumbered circles); the phone's dot lies above them.
    page.wait_for_function("() => document.querySelectorAll('#find-map .find-pin').length === 10")
    assert page.locator("#find-map .find-pin").all_inner_texts() == [str(n) for n in range(1, 11)]
    assert page.locator("#find-map .find-you").count() == 1
    assert page.evaluate(
        "() => { const z = e => Number(getComputedStyle(e).zIndex);"
        " const me = z(document.querySelector('#find-map .find-you'));"
        " return [...document.querySelectorAll('#find-map .find-pin')].every(p => z(p) < me); }")
    assert page.locator("#find-map").is_visible()
    _no_horizontal_scroll(page)
    assert errors == []


def _names(page) -> list[str]:
    return page.locator(".find-list .site-name").all_inner_texts()


def test_changing_kind_or_filters_after_locating_searches_again(phone, live_server, engine):
    page, errors = phone()
    page.goto(live_server + "/tim-diem", wait_until="networkidle")
    page.select_option("#find-kind", "testing")
    page.get_by_role("button", name="Dùng vị trí của tôi").click()
    page.locator(".find-list .site").first.wait_for()
    testing = _names(page)
    assert testing == _nearest(engine, "testing_sites", BEN_CAT)
    with page.expect_response(lambda r: "/api/nearby" in r.url and "layer=vaccination_sites" in r.url):
        page.select_option("#find-kind", "vaccination")
    page.wait_for_function("(old) => document.querySelector('.find-list .site-name')"
                           " && document.querySelector('.find-list .site-name').textContent !== old",
                           arg=testing[0])
    assert _names(page) == _nearest(engine, "vaccination_sites", BEN_CAT)
    # The demo has no pharmacy at all: the kind is not offered rather than shown empty.
    assert "pharmacy" not in page.locator("#find-kind option").evaluate_all("os => os.map(o => o.value)")
    page.select_option("#find-kind", "testing")
    page.locator(".find-list .site").first.wait_for()
    assert _names(page) == testing
    with page.expect_response(lambda r: "/api/nearby" in r.url and "open_now=1" in r.url):
        page.check("#find-open-now")
    page.wait_for_load_state("networkidle")
    statuses = set(page.locator(".find-list .site-status").all_inner_texts())
    assert statuses <= {"Đang mở cửa"}
    with page.expect_response(lambda r: "/api/nearby" in r.url and "exclude_lockdown=1" in r.url):
        page.check("#find-exclude-lockdown")
    page.wait_for_load_state("networkidle")
    assert page.locator(".find-list .in-lockdown").count() == 0
    assert errors == []


def test_touch_targets_are_at_least_44_px(phone, live_server):
    page, _ = phone()
    page.goto(live_server + "/tim-diem?q=phu+cuong", wait_until="networkidle")
    for selector in ("#find-kind", "#find-locate", "#find-q", ".find-form button[type=submit]",
                     ".find-check", ".site-links a"):
        box = page.locator(selector).first.bounding_box()
        assert box["height"] >= 44, selector


@pytest.fixture
def bad_phone_pharmacy(engine, tmp_path_factory):
    """Publish (committed) a pharmacy near the phone whose phone number the ingest cannot read."""
    from tests.ingest.helpers import run

    path = tmp_path_factory.mktemp("feeds") / "nha_thuoc_sdt.csv"
    path.write_text("Tên nhà thuốc,Số điện thoại,Vĩ độ,Kinh độ\n"
                    f'Nhà thuốc Số Lạ,gọi cô Lan,{BEN_CAT["latitude"] + 0.001},{BEN_CAT["longitude"]}\n'
                    f'Nhà thuốc Số Đúng,0274 3822 222,{BEN_CAT["latitude"] + 0.002},{BEN_CAT["longitude"]}\n',
                    encoding="utf-8")
    report = run(engine, path, "pharmacies")
    assert report.publication
    yield report
    with engine.begin() as conn:
        undo_publications(conn, [report.publication])


def test_an_unreadable_phone_number_is_text_not_a_link(phone, live_server, bad_phone_pharmacy):
    page, errors = phone()
    page.goto(live_server + "/tim-diem?kind=pharmacy&q=Th%E1%BB%8B+x%C3%A3+B%E1%BA%BFn+C%C3%A1t",
              wait_until="networkidle")
    for view in ("server", "script"):
        if view == "script":
            page.get_by_role("button", name="Dùng vị trí của tôi").click()
            page.locator("#find-results h2", has_text="Gần vị trí của bạn").wait_for()
        odd = page.locator(".find-list .site", has_text="Nhà thuốc Số Lạ")
        assert odd.locator(".site-phone-text").inner_text() == "gọi cô Lan"
        assert odd.locator("a[href^='tel:']").count() == 0
        good = page.locator(".find-list .site", has_text="Nhà thuốc Số Đúng")
        assert good.locator("a[href^='tel:']").get_attribute("href") == "tel:+842743822222"
    assert errors == []


def test_far_away_phone_gets_the_note(phone, live_server):
    page, errors = phone(HA_NOI)
    page.goto(live_server + "/tim-diem?lang=en", wait_until="networkidle")
    page.get_by_role("button", name="Use my location").click()
    page.locator("#find-results .find-message").wait_for()
    assert "outside the portal's area" in page.locator("#find-results").inner_text()
    assert page.locator(".find-list .site").count() == 0 and not page.locator("#find-map").is_visible()
    assert errors == []


@pytest.mark.parametrize("path", ["/tim-diem", "/tim-diem?q=phu+cuong", "/tim-diem?q=T%C3%A2n+B%C3%ACnh",
                                  "/find?q=phu+cuong&lang=en&kind=vaccination"])
def test_no_horizontal_scroll_at_360_px(phone, live_server, path):
    page, errors = phone()
    page.goto(live_server + path, wait_until="networkidle")
    _no_horizontal_scroll(page)
    assert page.locator("#find-locate").is_visible()
    assert errors == []


def test_search_by_commune_works_with_javascript_off(phone, live_server, engine):
    page, _ = phone(None, java_script_enabled=False)
    page.goto(live_server + "/tim-diem", wait_until="networkidle")
    assert not page.locator("#find-locate").is_visible()  # it needs JavaScript: hidden without
    page.fill("#find-q", "phu cuong")
    page.get_by_role("button", name="Tìm", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(live_server + "/tim-diem?") and "q=phu+cuong" in page.url
    assert page.locator("h2").inner_text() == "Gần trung tâm Phường Phú Cường"
    assert page.locator(".find-list .site-name").first.inner_text() == "Trạm Y tế Phú Cường"
    _no_horizontal_scroll(page)
    page.fill("#find-q", "Tân Bình")
    page.get_by_role("button", name="Tìm", exact=True).click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Phường Tân Bình").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h2").inner_text() == "Gần trung tâm Phường Tân Bình"
    assert page.locator(".find-list .site").count() == 10


XSS_NAME = "<img src=x onerror=window.__xss=1>"


@pytest.fixture(scope="module")
def hostile_pharmacy(engine, tmp_path_factory):
    """Publish (committed) a pharmacy near the phone whose cells try to inject HTML."""
    from tests.ingest.helpers import run

    path = tmp_path_factory.mktemp("feeds") / "nha_thuoc.csv"
    path.write_text("Tên nhà thuốc,Địa chỉ,Giờ mở cửa,Vĩ độ,Kinh độ\n"
                    f'"{XSS_NAME}",<b>bold</b>,24/7,{BEN_CAT["latitude"] + 0.001},{BEN_CAT["longitude"]}\n',
                    encoding="utf-8")
    report = run(engine, path, "pharmacies")
    assert report.publication
    yield report
    with engine.begin() as conn:
        undo_publications(conn, [report.publication])


def test_feed_text_stays_text_in_the_list_and_the_map(phone, live_server, hostile_pharmacy):
    page, errors = phone()
    page.goto(live_server + "/tim-diem", wait_until="networkidle")
    page.select_option("#find-kind", "pharmacy")
    page.get_by_role("button", name="Dùng vị trí của tôi").click()
    page.locator(".find-list .site").first.wait_for()
    site = page.locator(".find-list .site").first
    assert site.locator(".site-name").inner_text() == XSS_NAME
    assert site.locator(".site-address").inner_text() == "<b>bold</b>"
    assert site.locator(".site-status").inner_text() == "Đang mở cửa"  # 24/7
    page.evaluate("() => epimapFind.map.eachLayer(l => {"
                  " if (l.getTooltip && l.getTooltip()) { l.openTooltip(); } })")
    assert XSS_NAME in page.locator("#find-map").inner_text()
    assert page.locator("#find-results img, #find-results b, #find-map img").count() == 0
    assert page.evaluate("() => window.__xss") is None
    assert errors == []
