"""Statistics in the console, in headless Chromium on a 360 px phone and a desktop: a district official
uploads the province's table, the preview lists other districts' rows as out_of_scope and the values
added and changed (drawn on the map), publishing changes the public figures."""

from __future__ import annotations

import re
from urllib.request import urlopen

import pytest
from sqlalchemy import text

from epimap.db import session_scope
from officials import accounts
from tests.browser import watch_errors
from tests.ingest.builders import statistics_feed
from tests.publications import publications_after, undo_publications

EMAIL = "so.lieu@ttyt.thudaumot.vn"
PASSWORD = "mật khẩu số liệu 2021"
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture
def district_official(engine):
    """A committed publisher of Thủ Dầu Một (718); afterwards the statistics are put back as they were."""
    with engine.connect() as conn:
        before = conn.execute(text("SELECT coalesce(max(id), 0) FROM publication")).scalar()
    with session_scope(engine) as session:
        accounts.create_account(session, EMAIL, PASSWORD, "publisher", "vn2021", "718", by=None, actor="test")
    yield
    with engine.begin() as conn:
        shas = conn.execute(text("SELECT sha256 FROM feed_upload WHERE author = :e"),
                            {"e": EMAIL}).scalars().all()
        conn.execute(text("DELETE FROM feed_upload WHERE author = :e"), {"e": EMAIL})
        undo_publications(conn, publications_after(conn, before))
        conn.execute(text("DELETE FROM sign_in_attempt WHERE email = :e"), {"e": EMAIL})
        conn.execute(text("DELETE FROM account WHERE email = :e"), {"e": EMAIL})
    from epimap.settings import load_settings
    from officials.publishing import upload_dir

    for sha in shas:
        (upload_dir(load_settings()) / sha).unlink(missing_ok=True)


def _week_of_hiep_thanh(server: str) -> float:
    with urlopen(server + "/map/718?date=2021-08-16") as response:  # noqa: S310 - our own test server
        html = response.read().decode("utf-8")
    return float(re.search(r'data-code="25741">[^<]*</a> <span class="muted">([\d,.]+)<', html).group(1))


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


@pytest.mark.parametrize("screen", sorted(VIEWPORTS))
def test_upload_preview_publish_statistics(browser, live_server, district_official, engine, tmp_path, screen):
    viewport = VIEWPORTS[screen]
    week = _week_of_hiep_thanh(live_server)
    feed = statistics_feed(tmp_path / "so_ca_17_08.xlsx", changed={("Hiệp Thành", "16/08/2021"): 11},
                           new_day=("17/08/2021", 2))
    page = browser.new_page(viewport=viewport)
    errors = watch_errors(page)
    page.goto(live_server + "/quan-tri/", wait_until="networkidle")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(live_server + "/quan-tri/")
    _fits(page, viewport["width"])
    page.select_option("select[name=layer]", "unit_stats")
    page.set_input_files("input[name=file]", str(feed))
    page.click("form.upload-form button[type=submit]")
    page.wait_for_url("**/quan-tri/tai-len/*")  # the job's page, reloaded when the preview is ready
    page.wait_for_selector("#rejected-count", timeout=60_000)
    page.wait_for_load_state("networkidle")

    assert page.inner_text("#rejected-count") == "25"
    rejected = page.locator("table.rejected tbody tr")
    assert rejected.count() == 25
    first = rejected.first.locator("td").all_inner_texts()
    # sheet, row, column, the offending value, reason, message
    assert first[1:5] == ["2", "Xã/Phường", "Lái Thiêu", "out_of_scope"] and "Lái Thiêu" in first[5]
    changed = page.inner_text(".change-list.changed")
    assert "Phường Hiệp Thành" in changed and "16/08/2021" in changed and "11" in changed
    assert page.inner_text(".change-list.added").count("17/08/2021") == 5
    page.wait_for_function("() => document.getElementById('preview-map').dataset.drawn === '6'")
    assert page.locator("#preview-map path.leaflet-interactive").count() >= 6
    _fits(page, viewport["width"])

    page.fill("input[name=legal_ref]", "15/QĐ-TTYT")
    page.locator("#publish").scroll_into_view_if_needed()
    assert page.locator("#publish").is_visible()
    page.click("#publish")  # a publish job: the page follows it, then shows its outcome
    assert "Đã xuất bản" in page.inner_text("#published-note", timeout=60_000)
    page.click("#published-note a")
    page.wait_for_url("**/quan-tri/lop/unit_stats")
    assert "15/QĐ-TTYT" in page.inner_text("table.history")
    assert "17/08/2021" in page.inner_text("table.figures")
    _fits(page, viewport["width"])
    with engine.connect() as conn:
        newest = conn.execute(text(
            "SELECT author, scope_code, added, changed, removed, rejected FROM publication"
            " WHERE layer_id = 'unit_stats' ORDER BY id DESC LIMIT 1")).one()
    assert tuple(newest) == (EMAIL, "718", 5, 1, 0, 25)
    assert _week_of_hiep_thanh(live_server) == week - 1 + 11
    assert errors == []
    page.close()
