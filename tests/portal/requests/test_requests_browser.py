"""The citizens' doors in headless Chromium on a 360 × 740 phone: send a request, follow it by its code."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tests.browser import watch_errors
from tests.dispatch.helpers import file_request

PHONE = {"width": 360, "height": 740}
HIEP_THANH = {"latitude": 10.9978, "longitude": 106.6575}  # a phone inside Phường Hiệp Thành
CODE = re.compile(r"^[A-Z]{1,4}-[2-9A-Z]{4}-[0-9]{2}$")


@pytest.fixture
def phone(browser):
    contexts = []

    def open_page(**options):
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, **options)
        contexts.append(context)
        page = context.new_page()
        return page, watch_errors(page)

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def forget(engine):
    """Delete the requests a test stored in the live server's database (they are committed)."""
    refs: list[str] = []
    yield refs
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM service_request WHERE ref = ANY(:refs)"), {"refs": refs})


def _no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _fill_and_send(page, commune: str | None) -> str:
    page.get_by_role("radio", name=re.compile("^Y tế khẩn cấp")).check()
    page.get_by_label("Mô tả", exact=True).fill("Bà tôi 80 tuổi khó thở, cần hỗ trợ y tế")
    if commune is not None:
        page.get_by_label("Xã/phường", exact=True).fill(commune)
    page.get_by_label("Địa chỉ (số nhà, đường, khu phố)", exact=True).fill("Số 5 đường Yersin")
    page.get_by_label("Số điện thoại", exact=True).fill("0908 123 456")
    page.locator('input[name="consent"]').check()
    _no_horizontal_scroll(page)
    page.get_by_role("button", name="Gửi yêu cầu").click()
    page.wait_for_url(re.compile(r"/yeu-cau/[A-Z0-9-]+/da-gui$"))
    code = page.locator("#req-code").inner_text().strip()
    assert CODE.match(code), code
    return code


def test_a_citizen_sends_a_request_on_a_phone_and_follows_it_by_its_code(phone, live_server, forget):
    page, errors = phone()
    page.goto(live_server + "/gui-yeu-cau", wait_until="networkidle")
    _no_horizontal_scroll(page)
    code = _fill_and_send(page, "hiệp thành")
    forget.append(code)
    box = page.locator("#req-code").bounding_box()
    assert box and box["width"] <= PHONE["width"] and box["height"] >= 40  # large, and it fits
    _no_horizontal_scroll(page)
    page.get_by_role("link", name="Theo dõi yêu cầu").click()
    page.wait_for_url(re.compile(rf"/yeu-cau/{code}$"))
    assert page.locator("#req-state").inner_text() == "mới tiếp nhận"
    assert "Phường Hiệp Thành" in page.locator(".req-facts").inner_text()
    body = page.locator("main").inner_text()
    assert "0908" not in body and "Yersin" not in body and "khó thở" not in body
    _no_horizontal_scroll(page)
    # The code typed again, however written, finds the same page.
    page.get_by_label("Mã yêu cầu", exact=True).fill(code.lower().replace("-", " "))
    page.get_by_role("button", name="Xem").click()
    page.wait_for_url(re.compile(rf"/yeu-cau/{code}$"))
    assert errors == []


def test_use_my_location_pins_the_request_without_a_commune_name(phone, live_server, forget, engine):
    page, errors = phone(geolocation=HIEP_THANH, permissions=["geolocation"])
    page.goto(live_server + "/gui-yeu-cau", wait_until="networkidle")
    page.get_by_role("button", name="Dùng vị trí của tôi").click()
    page.wait_for_function("() => document.getElementById('req-lon').value !== ''")
    assert page.locator("#req-map-status").inner_text() == "Đã đánh dấu vị trí trên bản đồ."
    _no_horizontal_scroll(page)
    code = _fill_and_send(page, None)
    forget.append(code)
    with engine.connect() as conn:
        commune = conn.execute(text("SELECT commune_code FROM service_request WHERE ref = :r"),
                               {"r": code}).scalar_one()
    assert commune == "25741"
    assert errors == []


def test_the_map_draws_the_counts_per_commune_when_switched_on(phone, live_server, forget, engine):
    forget.append(file_request(engine).ref)
    page, errors = phone()
    page.goto(live_server + "/map/718", wait_until="networkidle")
    _no_horizontal_scroll(page)
    page.locator(".leaflet-control-layers").hover()  # the switcher is folded on phones
    checkbox = page.locator(".leaflet-control-layers-overlays label",
                            has_text="Yêu cầu hỗ trợ theo xã/phường").locator("input")
    assert not checkbox.is_checked()
    assert page.locator("path.request-count").count() == 0
    checkbox.check()
    page.locator("path.request-count").first.wait_for()
    assert "Yêu cầu hỗ trợ theo xã/phường (" in page.locator(".legend").text_content()
    page.locator("path.request-count").first.click(force=True)
    popup = page.locator(".request-counts")
    popup.wait_for()
    assert "Phường Hiệp Thành" in popup.inner_text() and "đang mở" in popup.inner_text()
    assert errors == []
