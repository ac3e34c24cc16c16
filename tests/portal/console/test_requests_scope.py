"""Scope of the dispatch pages: a commune's officials never see another commune's requests.

Through the queue, a request's page, its photo, the XLSX export and the caller lookup; a district's
officials see both communes.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from tests.portal.console.helpers import csrf_of, make_account, sign_in
from tests.portal.console.requests_helpers import PHONE, freeze, two_requests

PERSONAL = ("Nguyễn Văn An", "Trần Thị Bình", "12 Đường 30/4", "7 Lê Lợi")


@pytest.fixture
def two(connection, monkeypatch):
    freeze(monkeypatch)
    return two_requests(connection)


def signed_token(console, connection, role: str, scope: str) -> str:
    """Sign an official in; return the session's form token."""
    make_account(connection, f"{role}-{scope}@test.vn", role, scope)
    return sign_in(console, f"{role}-{scope}@test.vn")


def signed(console, connection, role: str, scope: str):
    signed_token(console, connection, role, scope)
    return console


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_a_commune_official_sees_only_its_communes_requests(console, connection, two, role):
    client = signed(console, connection, role, "25741")
    queue = client.get("/quan-tri/yeu-cau?status=all")
    body = queue.get_data(as_text=True)
    assert queue.status_code == 200
    assert two.mine.ref in body and two.theirs.ref not in body
    assert queue.headers["Cache-Control"] == "private, no-store"
    assert {"Cookie", "Authorization"} <= set(queue.headers.get("Vary", "").replace(" ", "").split(","))
    page = client.get(f"/quan-tri/yeu-cau/{two.mine.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="tel:{PHONE}"' in html and "Nguyễn Văn An" in html and "12 Đường 30/4" in html
    assert client.get(f"/quan-tri/yeu-cau/{two.mine.id}/anh").status_code == 200
    hidden = client.get(f"/quan-tri/yeu-cau/{two.theirs.id}")
    assert hidden.status_code == 404
    assert "Trần Thị Bình" not in hidden.get_data(as_text=True)
    assert hidden.headers["Cache-Control"] == "private, no-store"
    assert client.get(f"/quan-tri/yeu-cau/{two.theirs.id}/anh").status_code == 404


def test_the_photo_is_private_and_a_jpeg(console, connection, two):
    client = signed(console, connection, "viewer", "718")
    photo = client.get(f"/quan-tri/yeu-cau/{two.mine.id}/anh")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.data[:3] == b"\xff\xd8\xff"
    assert photo.headers["Cache-Control"] == "private, no-store"
    assert client.get(f"/quan-tri/yeu-cau/{two.theirs.id}/anh").status_code == 404  # no photo: none there


def test_a_district_official_sees_both(console, connection, two):
    client = signed(console, connection, "viewer", "718")
    body = client.get("/quan-tri/yeu-cau").get_data(as_text=True)
    assert two.mine.ref in body and two.theirs.ref in body
    assert client.get(f"/quan-tri/yeu-cau/{two.theirs.id}").status_code == 200


def test_anonymous_people_are_sent_to_sign_in(console, two):
    mine = f"/quan-tri/yeu-cau/{two.mine.id}"
    for url in ("/quan-tri/yeu-cau", mine, f"{mine}/anh", "/quan-tri/yeu-cau/xuat.xlsx"):
        answer = console.get(url)
        assert answer.status_code == 302 and "/quan-tri/dang-nhap" in answer.headers["Location"], url


def _sheet(answer) -> list[tuple]:
    return list(load_workbook(io.BytesIO(answer.data)).active.iter_rows(values_only=True))


def test_the_export_holds_the_scope_only_is_formula_safe_and_audited(console, connection, two):
    client = signed(console, connection, "viewer", "25741")
    answer = client.get("/quan-tri/yeu-cau/xuat.xlsx?status=all")
    assert answer.status_code == 200
    assert answer.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert answer.headers["Cache-Control"] == "private, no-store"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = _sheet(answer)
    refs = [row[0] for row in rows[1:]]
    assert refs == [two.mine.ref]
    line = rows[1]
    assert PHONE in line and "Nguyễn Văn An" in line and "12 Đường 30/4" in line
    assert any(isinstance(cell, str) and cell.startswith("'=HYPERLINK") for cell in line)
    assert all("Trần Thị Bình" not in (cell or "") for row in rows for cell in row if isinstance(cell, str))
    audited = connection.execute(text(
        "SELECT actor, details FROM audit_event WHERE action = 'request_export'"
        " ORDER BY id DESC LIMIT 1")).one()
    assert audited.actor == "viewer-25741@test.vn" and audited.details["rows"] == 1
    district = signed(console.application.test_client(), connection, "viewer", "718")
    assert {row[0] for row in _sheet(district.get("/quan-tri/yeu-cau/xuat.xlsx?status=all"))[1:]} == {
        two.mine.ref, two.theirs.ref}


def test_the_caller_lookup_stays_in_scope(console, connection, two):
    client = signed(console, connection, "operator", "25741")
    token = csrf_of(client.get("/quan-tri/yeu-cau/nhan-cuoc-goi").get_data(as_text=True))
    found = client.post("/quan-tri/yeu-cau/theo-so", data={"phone": PHONE, "csrf_token": token})
    assert found.status_code == 200 and found.headers["Cache-Control"] == "private, no-store"
    assert [r["ref"] for r in found.json["requests"]] == [two.mine.ref]
    page = client.post("/quan-tri/yeu-cau/nhan-cuoc-goi", data={"phone": PHONE, "csrf_token": token,
                                                                "step": "lookup"}).get_data(as_text=True)
    assert two.mine.ref in page and two.theirs.ref not in page
    assert client.post("/quan-tri/yeu-cau/theo-so", data={"phone": PHONE}).status_code == 400  # no token
    district = console.application.test_client()
    token = signed_token(district, connection, "operator", "718")
    both = district.post("/quan-tri/yeu-cau/theo-so", data={"phone": "+84 912 345 678", "csrf_token": token})
    assert {r["ref"] for r in both.json["requests"]} == {two.mine.ref, two.theirs.ref}


def test_a_viewer_cannot_take_calls_or_look_callers_up(console, connection, two):
    token = signed_token(console, connection, "viewer", "718")
    assert console.get("/quan-tri/yeu-cau/nhan-cuoc-goi").status_code == 403
    lookup = console.post("/quan-tri/yeu-cau/theo-so", data={"phone": PHONE, "csrf_token": token})
    assert lookup.status_code == 403
