"""The console in headless Chromium: sign in, upload a feed with a bad row, preview (rejected rows,
the diff listed and drawn), publish, and the layer's TileJSON names the new publication."""

from __future__ import annotations

import json
from urllib.request import urlopen

import pytest
from sqlalchemy import text

from epimap.db import session_scope
from officials import accounts, publishing
from tests.browser import watch_errors
from tests.ingest.builders import changed_checkpoints
from tests.portal.console.helpers import HERE
from tests.publications import publications_after, undo_publications

EMAIL = "trinh.duyet@soyte.binhduong.gov.vn"
PASSWORD = "mật khẩu trình duyệt 2021"


@pytest.fixture
def official(engine):
    """A committed province publisher; afterwards the layer is put back exactly as it was."""
    with engine.connect() as conn:
        before = conn.execute(text("SELECT coalesce(max(id), 0) FROM publication")).scalar()
    with session_scope(engine) as session:
        accounts.create_account(session, EMAIL, PASSWORD, "publisher", "vn2021", "74", by=None, actor="test")
    yield
    with engine.begin() as conn:
        shas = (
            conn.execute(text("SELECT sha256 FROM feed_upload WHERE author = :e"), {"e": EMAIL})
            .scalars()
            .all()
        )
        conn.execute(text("DELETE FROM feed_upload WHERE author = :e"), {"e": EMAIL})
        undo_publications(conn, publications_after(conn, before))
        conn.execute(text("DELETE FROM sign_in_attempt WHERE email = :e"), {"e": EMAIL})
        conn.execute(text("DELETE FROM account WHERE email = :e"), {"e": EMAIL})
    from epimap.settings import load_settings
    from officials.publishing import upload_dir

    for sha in shas:
        (upload_dir(load_settings()) / sha).unlink(missing_ok=True)


def test_sign_in_upload_preview_publish(browser, live_server, official, engine, tmp_path):
    feed = changed_checkpoints(tmp_path / "chot_kiem_soat_chieu.csv")  # one duplicated id: one bad row
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch_errors(page)
    page.goto(live_server + "/quan-tri/", wait_until="networkidle")
    assert "/quan-tri/dang-nhap" in page.url
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(live_server + "/quan-tri/")
    page.select_option("select[name=layer]", "checkpoints")
    page.set_input_files("input[name=file]", str(feed))
    page.click("form.upload-form button[type=submit]")
    page.wait_for_url("**/quan-tri/tai-len/*")  # the job's page, reloaded when the preview is ready
    page.wait_for_selector("#rejected-count", timeout=60_000)
    page.wait_for_load_state("networkidle")

    assert page.inner_text("#rejected-count") == "1"
    rejected = page.locator("table.rejected tbody tr")
    assert rejected.count() == 1
    assert "duplicate_id" in rejected.inner_text() and "Mã chốt" in rejected.inner_text()
    assert "CKS-026" in page.inner_text(".change-list.added")
    assert "CKS-004" in page.inner_text(".change-list.changed")
    assert "CKS-010" in page.inner_text(".change-list.removed")
    page.wait_for_function("() => document.getElementById('preview-map').dataset.drawn === '4'")
    assert page.locator("#preview-map path.leaflet-interactive").count() == 4

    page.fill("input[name=legal_ref]", "849/QĐ-UBND")
    page.click("#publish")  # a publish job: the page follows it, then shows its outcome
    assert "Đã xuất bản" in page.inner_text("#published-note", timeout=60_000)
    page.click("#published-note a")
    page.wait_for_url("**/quan-tri/lop/checkpoints")
    with engine.connect() as conn:
        newest = conn.execute(
            text(
                "SELECT id, author, legal_ref, added, changed, removed, rejected"
                " FROM publication WHERE layer_id = 'checkpoints' ORDER BY id DESC LIMIT 1"
            )
        ).one()
    assert (newest.author, newest.legal_ref) == (EMAIL, "849/QĐ-UBND")
    assert (newest.added, newest.changed, newest.removed, newest.rejected) == (1, 1, 2, 1)
    assert "849/QĐ-UBND" in page.inner_text("table.history")
    with urlopen(live_server + "/tiles/checkpoints.json") as response:  # noqa: S310 - our own test server
        assert json.load(response)["publication"] == newest.id
    assert errors == []
    page.close()


def test_rollback_is_previewed_and_confirmed_on_a_phone(browser, live_server, official, engine):
    with session_scope(engine) as session:
        principal = accounts.principal_of(accounts.get_account(session, EMAIL))
        site = session.execute(
            text(
                "SELECT source_id FROM feature WHERE layer_id = 'testing_sites' AND valid_to_pub IS NULL"
                " ORDER BY source_id LIMIT 1"
            )
        ).scalar_one()
        target = session.execute(
            text("SELECT max(id) FROM publication WHERE layer_id = 'testing_sites'")
        ).scalar()
    publishing.edit_feature(engine, principal, "testing_sites", site, {"hours": "giờ nhầm"}, HERE)
    page = browser.new_page(viewport={"width": 360, "height": 740})
    errors = watch_errors(page)
    page.goto(live_server + "/quan-tri/dang-nhap", wait_until="networkidle")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(live_server + "/quan-tri/")
    page.goto(live_server + "/quan-tri/lop/testing_sites", wait_until="networkidle")
    page.click(f"a.roll-back[href$='/khoi-phuc/{target}']")
    page.wait_for_url(f"**/quan-tri/lop/testing_sites/khoi-phuc/{target}")
    page.wait_for_function("() => document.getElementById('preview-map').dataset.drawn === '1'")
    assert page.inner_text("#rollback-changed") == "1" and page.inner_text("#rollback-removed") == "0"
    assert site in page.inner_text(".change-list.changed")
    box = page.locator("#roll-back").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360  # reachable on a phone

    page.click("#roll-back")  # nothing filled in: the browser keeps the form, nothing is rolled back
    assert page.url.endswith(f"/khoi-phuc/{target}")
    page.fill("input[name=note]", "Giờ nhập nhầm")
    page.fill("input[name=legal_ref]", "77/QĐ-SYT")
    page.check("input[name=confirm]")
    page.click("#roll-back")
    page.wait_for_url("**/quan-tri/lop/testing_sites")
    assert "Đã khôi phục" in page.inner_text(".flash")
    with engine.connect() as conn:
        newest = conn.execute(
            text(
                "SELECT action, restores_publication, note, legal_ref FROM publication"
                " WHERE layer_id = 'testing_sites' ORDER BY id DESC LIMIT 1"
            )
        ).one()
    assert tuple(newest) == ("rollback", target, "Giờ nhập nhầm", "77/QĐ-SYT")
    assert errors == []
    page.close()
