"""The dispatch in headless Chromium: an operator takes a call number-first (the caller's earlier
request shows), files it; the commune's operator assigns and resolves it; the citizen, on a phone,
sees "đã giải quyết" on the follow-up page of the code read to them; the queue on a phone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from dispatch import store
from epimap.db import session_scope
from officials import accounts
from tests.browser import watch_errors
from tests.dispatch.helpers import file_request

CALLER = "0911 222 333"
PHONE = "0911222333"
OPERATOR = "tong.dai@1022.binhduong.gov.vn"
TEAM = "to.phan.ung@hiepthanh.binhduong.gov.vn"
PASSWORD = "mật khẩu tổng đài 2021"


@pytest.fixture
def dispatch_people(engine):
    """A committed province operator, a committed Hiệp Thành operator and an earlier request of the caller."""
    with session_scope(engine) as session:
        for email, scope in ((OPERATOR, "74"), (TEAM, "25741")):
            accounts.create_account(session, email, PASSWORD, "operator", "vn2021", scope, by=None,
                                    actor="test")
    earlier = file_request(engine, at=datetime.now(UTC) - timedelta(hours=1), phone=PHONE,
                           description="Cần gạo và mì tôm cho 5 người")
    yield earlier
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM service_request WHERE phone = :p"), {"p": PHONE})
        for email in (OPERATOR, TEAM):
            conn.execute(text("DELETE FROM sign_in_attempt WHERE email = :e"), {"e": email})
            conn.execute(text("DELETE FROM account WHERE email = :e"), {"e": email})


def _sign_in(page, server: str, email: str, target: str) -> None:
    page.goto(f"{server}/quan-tri/dang-nhap?next={target}", wait_until="networkidle")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(server + target)


def _take_the_call(browser, server: str, earlier) -> str:
    """Sign the province operator in, take the call number-first, file it; return its code."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch_errors(page)
    urls: list[str] = []
    page.on("request", lambda asked: urls.append(asked.url))
    _sign_in(page, server, OPERATOR, "/quan-tri/yeu-cau/nhan-cuoc-goi")
    assert page.evaluate("document.activeElement.name") == "phone"  # the number first
    page.keyboard.type(CALLER)
    page.keyboard.press("Enter")  # shows the caller's earlier requests and moves on to the kind
    page.wait_for_selector(f"#earlier a:text('{earlier.ref}')")
    assert page.evaluate("document.activeElement.name") == "kind"
    page.select_option("select[name=kind]", "f0_home")
    page.fill("input[name=description]", "F0 sốt cao ngày thứ 3, cần thuốc")
    page.fill("input[name=commune]", "Hiệp Thành")
    page.fill("input[name=address]", "Số 5 hẻm 12")
    page.press("input[name=address]", "Enter")  # filed with Enter
    page.wait_for_url(re.compile(r"/quan-tri/yeu-cau/\d+$"))
    ref = page.text_content(".request-ref")
    assert ref and ref in page.text_content(".flash")
    assert page.text_content(".request-phone") == PHONE
    assert not [url for url in urls if "0911" in url or "222" in url]  # no number in a URL (access logs)
    assert errors == []
    page.close()
    return ref


def _assign_and_resolve(browser, server: str, ref: str) -> None:
    """The Hiệp Thành team finds the request in its queue, assigns it and resolves it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = watch_errors(page)
    _sign_in(page, server, TEAM, "/quan-tri/yeu-cau")
    page.click(f"tr[data-ref='{ref}'] a")
    page.wait_for_selector(".request-status[data-status=new]")
    page.fill("form.action-assign input[name=assignee]", "Tổ 2 khu phố 3")
    page.click("form.action-assign button[type=submit]")
    page.wait_for_selector(".request-status[data-status=assigned]")
    page.fill("form.action-status input[name=note]", "Đã mang thuốc đến")
    page.click("form.action-status button[value=resolve]")
    page.wait_for_selector(".request-status[data-status=resolved]")
    assert "Đã giải quyết" in page.text_content(".request-status")
    assert errors == []
    context.close()


def test_take_a_call_assign_and_resolve(browser, live_server, dispatch_people, engine):
    ref = _take_the_call(browser, live_server, dispatch_people)
    with session_scope(engine) as session:
        filed = store.get_by_ref(session, ref)
    assert filed is not None and (filed.source, filed.commune_code, filed.team_code) == ("operator", "25741",
                                                                                         "25741")
    _assign_and_resolve(browser, live_server, ref)
    with session_scope(engine) as session:
        done = store.get_by_ref(session, ref)
        public = store.history(session, done.id, public_only=True)
    assert done.status == "resolved" and done.assignee == "Tổ 2 khu phố 3"
    assert [e.status for e in public] == ["new", "assigned", "resolved"]
    _citizen_follows(browser, live_server, ref)


def _citizen_follows(browser, server: str, ref: str) -> None:
    """The caller types the code read to them on a phone and sees the request resolved, nothing personal."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"{server}/yeu-cau", wait_until="networkidle")
    page.get_by_label("Mã yêu cầu", exact=True).fill(ref.lower().replace("-", " "))  # as heard
    page.get_by_role("button", name="Xem").click()
    page.wait_for_url(re.compile(rf"/yeu-cau/{ref}$"))
    assert page.locator("#req-state").inner_text() == "đã giải quyết"
    body = page.locator("main").inner_text()
    assert PHONE not in body and CALLER not in body and "hẻm 12" not in body and "sốt cao" not in body
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert errors == []
    context.close()


def test_the_queue_and_a_pinned_request_on_a_phone(browser, live_server, dispatch_people, engine):
    with engine.connect() as conn:
        lon, lat = conn.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM admin_unit"
            " WHERE boundary_set = 'vn2021' AND code = '25741') q")).one()
    pinned = file_request(engine, at=datetime.now(UTC), kind="other", phone=PHONE, lon=lon, lat=lat,
                          commune=None)
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = watch_errors(page)
    _sign_in(page, live_server, TEAM, "/quan-tri/yeu-cau")
    assert page.is_visible(f"tr[data-ref='{dispatch_people.ref}']")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click(f"tr[data-ref='{pinned.ref}'] a")
    page.wait_for_selector("#request-map[data-drawn='1']")  # the exact point, for officials only
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert errors == []
    context.close()
