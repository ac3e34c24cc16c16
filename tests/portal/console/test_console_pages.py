"""The console's pages: preview (rejected rows, diff, map data, downloads), publish, discard,
re-validation, a publish failing midway, edits, tokens, accounts, the audit log, English labels,
and hostile feed content kept inert everywhere it is shown."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

import ingest.pipeline
from layers.catalog import default_catalog
from layers.meta import layer_state
from tests.ingest.builders import NEW_POINT, changed_checkpoints, checkpoint, checkpoint_rows, write_csv
from tests.portal.console.helpers import make_account, sign_in

HOSTILE_ID = '=HYPERLINK("http://evil.example","x")'
HOSTILE_NAME = "<img src=x onerror=window.__xss=1>"
HOSTILE_STATUS = "<script>alert(1)</script>"
HOSTILE_FILE = "<script>alert(2)</script>=cmd.csv"


def _upload(client, csrf: str, path, layer: str = "checkpoints", name: str | None = None):
    with open(path, "rb") as handle:
        return client.post(
            "/quan-tri/tai-len",
            data={"csrf_token": csrf, "layer": layer, "file": (handle, name or path.name)},
            content_type="multipart/form-data",
        )


def _followed(client, response, upload_id: int) -> str:
    """Check a publish request queued its job and returns to the upload's page; return that page.

    The job ran after the request (tests.jobs.WorkingClient), so the page shows its outcome.
    """
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert response.headers["Location"].endswith(f"/quan-tri/tai-len/{upload_id}")
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _upload_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return int(response.headers["Location"].rsplit("/", 1)[1])


@pytest.fixture
def publisher(console, connection):
    make_account(connection, "pub@soyte.vn", "publisher", "74")
    return sign_in(console, "pub@soyte.vn")


def test_preview_shows_rejected_rows_and_the_diff_then_publishes(console, connection, publisher, tmp_path):
    upload_id = _upload_id(_upload(console, publisher, changed_checkpoints(tmp_path / "chot_kiem_soat.csv")))
    html = console.get(f"/quan-tri/tai-len/{upload_id}").get_data(as_text=True)
    rejected = html.split('class="data rejected"')[1].split("</table>")[0]
    assert rejected.count("<tr>") == 2  # the header and the duplicated CKS-003
    assert "duplicate_id" in rejected and "Mã chốt" in rejected and "trùng với dòng" in rejected
    lists = {
        kind: html.split(f'class="change-list {kind}"')[1].split("</section>")[0]
        for kind in ("added", "changed", "removed")
    }
    assert "CKS-026" in lists["added"] and "Chốt Phú Cường" in lists["added"]
    assert (
        "CKS-004" in lists["changed"]
        and "Đã giải tỏa" in lists["changed"]
        and "Đang hoạt động" in lists["changed"]
    )
    assert "CKS-010" in lists["removed"] and "CKS-020" in lists["removed"]
    data = json.loads(unescape(re.search(r'id="preview-data">(.*?)</script>', html, re.S).group(1)))
    assert [len(data["changes"][k]) for k in ("added", "changed", "removed")] == [1, 1, 2]
    assert data["changes"]["added"][0]["geometry"]["type"] == "Point"
    assert "vendor/leaflet@" in html and "/static/console.js" in html

    english = console.get(f"/quan-tri/tai-len/{upload_id}?lang=en").get_data(as_text=True)
    assert "Rejected rows" in english and "repeats row" in english and "Publish" in english

    before = layer_state(_session(connection), default_catalog().layer("checkpoints")).publication
    response = console.post(
        f"/quan-tri/tai-len/{upload_id}/xuat-ban",
        data={"csrf_token": publisher, "legal_ref": "849/QĐ-UBND", "note": "cập nhật chiều"},
    )
    page = _followed(console, response, upload_id)
    assert 'id="published-note"' in page and 'href="/quan-tri/lop/checkpoints"' in page
    row = (
        connection.execute(
            text("SELECT * FROM publication WHERE layer_id = 'checkpoints' ORDER BY id DESC LIMIT 1")
        )
        .mappings()
        .one()
    )
    assert row["id"] > before
    assert (row["added"], row["changed"], row["removed"], row["rejected"]) == (1, 1, 2, 1)
    assert (row["legal_ref"], row["note"], row["source_name"]) == (
        "849/QĐ-UBND",
        "cập nhật chiều",
        "chot_kiem_soat.csv",
    )
    history = console.get("/quan-tri/lop/checkpoints").get_data(as_text=True)
    assert (
        "chot_kiem_soat.csv" in history and row["source_sha256"][:16] in history and "pub@soyte.vn" in history
    )
    assert "+1 ~1 −2" in history
    assert console.get("/tiles/checkpoints.json").json["publication"] == row["id"]
    again = console.post(f"/quan-tri/tai-len/{upload_id}/xuat-ban", data={"csrf_token": publisher})
    assert again.status_code == 409
    audit = connection.execute(
        text("SELECT action, target, details FROM audit_event ORDER BY id DESC LIMIT 1")
    ).one()
    assert audit.action == "publish" and audit.target == f"publication:{row['id']}"
    assert audit.details["legal_ref"] == "849/QĐ-UBND" and audit.details["sha256"] == row["source_sha256"]


def _session(connection):
    from sqlalchemy.orm import Session

    return Session(bind=connection, join_transaction_mode="create_savepoint")


def _hostile_feed(path):
    headers, rows = checkpoint_rows()
    rows.append(
        {**checkpoint("CKS-X", HOSTILE_NAME, *NEW_POINT, status=HOSTILE_STATUS), "Mã chốt": HOSTILE_ID}
    )
    rows.append({**checkpoint("CKS-Y", "Chốt lỗi", *NEW_POINT), "Vĩ độ": "=1+1<b>bold</b>"})
    return write_csv(path, headers, rows)


def test_hostile_cells_stay_inert_everywhere(console, connection, publisher, tmp_path):
    upload_id = _upload_id(_upload(console, publisher, _hostile_feed(tmp_path / "x.csv"), name=HOSTILE_FILE))
    pages = {
        "preview": console.get(f"/quan-tri/tai-len/{upload_id}").get_data(as_text=True),
        "preview_en": console.get(f"/quan-tri/tai-len/{upload_id}?lang=en").get_data(as_text=True),
        "home": console.get("/quan-tri/").get_data(as_text=True),
    }
    assert "&lt;img src=x onerror=window.__xss=1&gt;" in pages["preview"]
    response = console.post(
        f"/quan-tri/tai-len/{upload_id}/xuat-ban",
        data={"csrf_token": publisher, "legal_ref": "<i>1</i>", "note": "=2+2"},
    )
    assert response.status_code == 302
    pages["history"] = console.get("/quan-tri/lop/checkpoints").get_data(as_text=True)
    make_account(connection, "admin@soyte.vn", "admin", "74")
    admin = console.application.test_client()
    sign_in(admin, "admin@soyte.vn")
    pages["audit"] = admin.get("/quan-tri/nhat-ky").get_data(as_text=True)
    for name, html in pages.items():
        assert HOSTILE_NAME not in html and HOSTILE_STATUS not in html, name
        assert "<script>alert(2)" not in html and "<b>bold</b>" not in html and "<i>1</i>" not in html, name
        assert re.findall(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)", html) == [], name
    stored_name = connection.execute(
        text("SELECT file_name FROM feed_upload WHERE id = :i"), {"i": upload_id}
    ).scalar()
    assert stored_name == "script>=cmd.csv"  # the last part of a path-like name
    assert "script&gt;=cmd.csv" in pages["history"]
    assert "&lt;i&gt;1&lt;/i&gt;" in pages["history"]
    assert "&lt;img src=x" in pages["history"]  # the feature's name and status in the features table
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["history"]
    assert HOSTILE_ID.replace('"', "&#34;") in pages["history"]

    csv_text = console.get(f"/quan-tri/tai-len/{upload_id}/bao-cao.csv").get_data().decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(csv_text)) for cell in row]
    risky = [c for c in cells if "HYPERLINK" in c or "=1+1" in c]
    assert risky and all(c.startswith("'") or not c.lstrip().startswith(("=", "+", "@")) for c in risky)
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    response = console.get(f"/quan-tri/tai-len/{upload_id}/bao-cao.xlsx")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(response.get_data()))
    values = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in values)
    texts = [c.value for c in values if isinstance(c.value, str)]
    assert any("HYPERLINK" in t for t in texts) and not any(t.startswith(("=", "+", "@")) for t in texts)


def test_a_publish_failing_midway_leaves_the_previous_publication(
    console, connection, publisher, tmp_path, monkeypatch
):
    upload_id = _upload_id(_upload(console, publisher, changed_checkpoints(tmp_path / "c.csv")))
    layer = default_catalog().layer("checkpoints")
    before = layer_state(_session(connection), layer)
    features_before = connection.execute(
        text("SELECT count(*) FROM feature WHERE layer_id = 'checkpoints'")
    ).scalar()
    real = ingest.pipeline.publish

    def half_publish(*args, **kwargs):
        real(*args, **kwargs)  # the publication row and the new features are written …
        raise RuntimeError("disk full")  # … then the process fails

    monkeypatch.setattr(ingest.pipeline, "publish", half_publish)
    response = console.post(f"/quan-tri/tai-len/{upload_id}/xuat-ban", data={"csrf_token": publisher})
    assert "không thay đổi" in _followed(console, response, upload_id)
    after = layer_state(_session(connection), layer)
    assert (after.publication, after.count) == (before.publication, before.count)
    assert (
        connection.execute(text("SELECT count(*) FROM feature WHERE layer_id = 'checkpoints'")).scalar()
        == features_before
    )
    assert (
        connection.execute(text("SELECT status FROM feed_upload WHERE id = :i"), {"i": upload_id}).scalar()
        == "previewed"
    )
    assert (
        connection.execute(text("SELECT action FROM audit_event ORDER BY id DESC LIMIT 1")).scalar()
        == "publish_failed"
    )
    monkeypatch.setattr(ingest.pipeline, "publish", real)
    assert (
        console.post(f"/quan-tri/tai-len/{upload_id}/xuat-ban", data={"csrf_token": publisher}).status_code
        == 302
    )


def test_publish_revalidates_the_stored_file_and_the_layer(console, connection, publisher, tmp_path):
    first = _upload_id(_upload(console, publisher, changed_checkpoints(tmp_path / "c.csv")))
    second = _upload_id(_upload(console, publisher, changed_checkpoints(tmp_path / "c.csv")))
    sha = connection.execute(text("SELECT sha256 FROM feed_upload WHERE id = :i"), {"i": first}).scalar()
    stored = tmp_path / "uploads" / sha
    original = stored.read_bytes()
    stored.write_bytes(original.replace(b"CKS-026", b"CKS-999"))
    tampered = console.post(f"/quan-tri/tai-len/{first}/xuat-ban", data={"csrf_token": publisher})
    assert tampered.status_code == 409 and "không còn khớp" in tampered.get_data(as_text=True)
    stored.write_bytes(original)
    assert (
        console.post(f"/quan-tri/tai-len/{first}/xuat-ban", data={"csrf_token": publisher}).status_code == 302
    )
    assert "đã được cập nhật sau" in console.get(f"/quan-tri/tai-len/{second}").get_data(as_text=True)
    stale = console.post(f"/quan-tri/tai-len/{second}/xuat-ban", data={"csrf_token": publisher})
    assert stale.status_code == 409


def test_refused_feed_can_be_forced_by_a_publisher(console, connection, publisher, tmp_path):
    headers, rows = checkpoint_rows("CKS-001", "CKS-002")
    upload_id = _upload_id(_upload(console, publisher, write_csv(tmp_path / "few.csv", headers, rows)))
    page = console.get(f"/quan-tri/tai-len/{upload_id}").get_data(as_text=True)
    assert "too_many_removed" not in page and 'name="force"' in page and "%" in page
    refused = console.post(f"/quan-tri/tai-len/{upload_id}/xuat-ban", data={"csrf_token": publisher})
    assert refused.status_code == 302 and refused.headers["Location"].endswith(f"/tai-len/{upload_id}")
    assert (
        connection.execute(text("SELECT action FROM audit_event ORDER BY id DESC LIMIT 1")).scalar()
        == "publish_refused"
    )
    forced = console.post(
        f"/quan-tri/tai-len/{upload_id}/xuat-ban", data={"csrf_token": publisher, "force": "1"}
    )
    assert 'id="published-note"' in _followed(console, forced, upload_id)


def test_discard(console, connection, tmp_path):
    make_account(connection, "ed@soyte.vn", "editor", "718")
    csrf = sign_in(console, "ed@soyte.vn")
    upload_id = _upload_id(_upload(console, csrf, changed_checkpoints(tmp_path / "c.csv")))
    page = console.get(f"/quan-tri/tai-len/{upload_id}").get_data(as_text=True)
    assert "Cần cán bộ có vai trò Xuất bản" in page and 'id="publish"' not in page
    assert console.post(f"/quan-tri/tai-len/{upload_id}/huy", data={"csrf_token": csrf}).status_code == 302
    assert (
        connection.execute(text("SELECT status FROM feed_upload WHERE id = :i"), {"i": upload_id}).scalar()
        == "discarded"
    )
    assert console.post(f"/quan-tri/tai-len/{upload_id}/huy", data={"csrf_token": csrf}).status_code == 409


def test_another_units_upload_is_out_of_reach(console_app, connection, tmp_path):
    make_account(connection, "ed725@soyte.vn", "editor", "725")
    make_account(connection, "pub718@soyte.vn", "publisher", "718")
    editor, publisher = console_app.test_client(), console_app.test_client()
    upload_id = _upload_id(
        _upload(editor, sign_in(editor, "ed725@soyte.vn"), changed_checkpoints(tmp_path / "c.csv"))
    )
    csrf = sign_in(publisher, "pub718@soyte.vn")
    assert publisher.get(f"/quan-tri/tai-len/{upload_id}").status_code == 403
    assert publisher.get(f"/quan-tri/tai-len/{upload_id}/bao-cao.csv").status_code == 403
    assert (
        publisher.post(f"/quan-tri/tai-len/{upload_id}/xuat-ban", data={"csrf_token": csrf}).status_code
        == 403
    )


def test_edit_closes_a_checkpoint_and_lifts_a_lockdown(console, connection, publisher):
    form = console.get("/quan-tri/lop/checkpoints/sua?id=CKS-007")
    assert form.status_code == 200 and 'name="attr_status"' in form.get_data(as_text=True)
    response = console.post(
        "/quan-tri/lop/checkpoints/sua?id=CKS-007",
        data={"csrf_token": publisher, "attr_status": "Đã giải tỏa", "note": "đóng chốt"},
    )
    assert response.status_code == 302
    row = connection.execute(
        text("SELECT action, changed, unchanged, note, source_name FROM publication ORDER BY id DESC LIMIT 1")
    ).one()
    assert tuple(row) == ("edit", 1, 24, "đóng chốt", "CKS-007")
    zone = connection.execute(
        text(
            "SELECT source_id, props FROM feature WHERE layer_id = 'lockdown_zones'"
            " AND valid_to_pub IS NULL ORDER BY source_id LIMIT 1"
        )
    ).one()
    url = f"/quan-tri/lop/lockdown_zones/sua?id={zone.source_id}"
    early = console.post(url, data={"csrf_token": publisher, "attr_valid_to": "2000-01-01"})
    assert early.status_code == 400 and "trước ngày bắt đầu" in early.get_data(as_text=True)
    lifted = console.post(
        url,
        data={"csrf_token": publisher, "attr_valid_to": zone.props["valid_from"], "legal_ref": "901/QĐ-UBND"},
    )
    assert lifted.status_code == 302
    assert (
        connection.execute(
            text(
                "SELECT props ->> 'valid_to' FROM feature WHERE layer_id = 'lockdown_zones'"
                " AND source_id = :s"
                " AND valid_to_pub IS NULL"
            ),
            {"s": zone.source_id},
        ).scalar()
        == zone.props["valid_from"]
    )
    same = console.post(url, data={"csrf_token": publisher, "attr_valid_to": zone.props["valid_from"]})
    assert same.status_code == 400 and "Không có thay đổi" in same.get_data(as_text=True)
    assert console.get("/quan-tri/lop/checkpoints/sua?id=nope").status_code == 404


def test_tokens_page_shows_the_secret_once(console, connection, publisher):
    created = console.post(
        "/quan-tri/khoa-api",
        data={"csrf_token": publisher, "name": "Hệ thống CDC", "role": "publisher", "scope": "718"},
    )
    assert created.status_code == 201
    secret = re.search(r'id="new-token">([^<]+)<', created.get_data(as_text=True)).group(1)
    listing = console.get("/quan-tri/khoa-api").get_data(as_text=True)
    assert secret not in listing and "Hệ thống CDC" in listing
    too_high = console.post(
        "/quan-tri/khoa-api", data={"csrf_token": publisher, "name": "x", "role": "admin"}
    )
    assert too_high.status_code == 400
    token_id = connection.execute(text("SELECT id FROM api_token")).scalar()
    assert (
        console.post(f"/quan-tri/khoa-api/{token_id}/thu-hoi", data={"csrf_token": publisher}).status_code
        == 302
    )
    actions = connection.execute(
        text(
            "SELECT action FROM audit_event WHERE action LIKE 'token%' AND actor = 'pub@soyte.vn' ORDER BY id"
        )
    ).all()
    assert [a for (a,) in actions] == ["token_create", "token_revoke"]


def test_admin_manages_accounts_inside_its_unit(console, connection):
    make_account(connection, "admin718@soyte.vn", "admin", "718")
    csrf = sign_in(console, "admin718@soyte.vn")
    created = console.post(
        "/quan-tri/tai-khoan",
        data={"csrf_token": csrf, "email": "Phuong@SoYTe.vn", "role": "editor", "scope": "25741"},
    )
    assert created.status_code == 201
    password = re.search(r'id="new-password">([^<]+)<', created.get_data(as_text=True)).group(1)
    assert len(password) >= 16
    stored = connection.execute(
        text("SELECT password_hash FROM account WHERE email = 'phuong@soyte.vn'")
    ).scalar()
    assert stored.startswith("$argon2id$") and password not in stored
    outside = console.post(
        "/quan-tri/tai-khoan",
        data={"csrf_token": csrf, "email": "x@soyte.vn", "role": "viewer", "scope": "74"},
    )
    assert outside.status_code == 403
    taken = console.post(
        "/quan-tri/tai-khoan",
        data={"csrf_token": csrf, "email": "phuong@soyte.vn", "role": "viewer", "scope": "718"},
    )
    assert taken.status_code == 409
    listing = console.get("/quan-tri/tai-khoan").get_data(as_text=True)
    assert "phuong@soyte.vn" in listing and password not in listing
    account_id = connection.execute(text("SELECT id FROM account WHERE email = 'phuong@soyte.vn'")).scalar()
    assert (
        console.post(f"/quan-tri/tai-khoan/{account_id}/khoa", data={"csrf_token": csrf}).status_code == 302
    )
    assert connection.execute(
        text("SELECT disabled_at IS NOT NULL FROM account WHERE id = :i"), {"i": account_id}
    ).scalar()
    make_account(connection, "other@soyte.vn", "viewer", "724")
    other = connection.execute(text("SELECT id FROM account WHERE email = 'other@soyte.vn'")).scalar()
    assert console.post(f"/quan-tri/tai-khoan/{other}/khoa", data={"csrf_token": csrf}).status_code == 403
    assert "other@soyte.vn" not in listing


@pytest.mark.parametrize("role", ["viewer", "editor", "publisher"])
def test_only_admins_see_accounts_and_the_audit_log(console, connection, role):
    make_account(connection, "x@soyte.vn", role, "74")
    sign_in(console, "x@soyte.vn")
    assert console.get("/quan-tri/tai-khoan").status_code == 403
    assert console.get("/quan-tri/nhat-ky").status_code == 403
    assert console.get("/quan-tri/khoa-api").status_code == (200 if role == "publisher" else 403)


def test_audit_log_filters_and_pages(console, connection, tmp_path):
    make_account(connection, "admin@soyte.vn", "admin", "74")
    csrf = sign_in(console, "admin@soyte.vn")
    _upload_id(_upload(console, csrf, changed_checkpoints(tmp_path / "c.csv")))
    for n in range(55):
        connection.execute(
            text(
                "INSERT INTO audit_event (actor, action, ip, details) VALUES"
                " (:a, 'sign_in_failed', '10.0.0.1', '{}')"
            ),
            {"a": f"guess{n}@x.vn"},
        )
    page = console.get("/quan-tri/nhat-ky?action=upload&actor=admin@soyte.vn").get_data(as_text=True)
    assert page.count("<code>upload</code>") == 1
    first = console.get("/quan-tri/nhat-ky?action=sign_in_failed&actor=guess").get_data(as_text=True)
    assert first.count("<code>sign_in_failed</code>") == 50 and "page=2" in first
    second = console.get("/quan-tri/nhat-ky?action=sign_in_failed&actor=guess&page=2").get_data(as_text=True)
    assert second.count("<code>sign_in_failed</code>") == 5 and "page=3" not in second
    mine = console.get("/quan-tri/nhat-ky?actor=ADMIN@soyte").get_data(as_text=True)
    assert "guess" not in mine and "<code>sign_in</code>" in mine
    future = console.get("/quan-tri/nhat-ky?from=2999-01-01").get_data(as_text=True)
    assert "Không có sự kiện nào" in future
    today = console.get(
        "/quan-tri/nhat-ky?from=2000-01-01&to=2999-12-31&action=upload&actor=admin@soyte.vn"
    ).get_data(as_text=True)
    assert "<code>upload</code>" in today
    assert console.get("/quan-tri/nhat-ky?from=hôm-qua").status_code == 400


def test_a_district_admin_sees_only_its_units_events(console_app, connection):
    make_account(connection, "admin718@soyte.vn", "admin", "718")
    make_account(connection, "ed724@soyte.vn", "editor", "724")
    make_account(connection, "ed25741@soyte.vn", "editor", "25741")
    for email in ("ed724@soyte.vn", "ed25741@soyte.vn"):
        sign_in(console_app.test_client(), email)
    client = console_app.test_client()
    sign_in(client, "admin718@soyte.vn")
    page = client.get("/quan-tri/nhat-ky").get_data(as_text=True)
    assert "ed25741@soyte.vn" in page and "ed724@soyte.vn" not in page


def test_english_labels(console, connection):
    make_account(connection, "admin@soyte.vn", "admin", "74")
    assert "Sign in" in console.get("/quan-tri/dang-nhap?lang=en").get_data(as_text=True)
    sign_in(console, "admin@soyte.vn")
    home = console.get("/quan-tri/").get_data(as_text=True)
    assert "Layers" in home and "Upload a feed" in home and "Audit log" in home and "Lớp dữ liệu" not in home
    assert "Quản trị" in console.get("/quan-tri/?lang=vi").get_data(as_text=True)
