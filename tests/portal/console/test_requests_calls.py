"""Taking a phone call in the console, and where the requests it files (and others) are routed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.dispatch.helpers import NOW, file_request, neighbour_of, points_across_border
from tests.portal.console.helpers import make_account, sign_in
from tests.portal.console.requests_helpers import commune_name, freeze

CALL = "/quan-tri/yeu-cau/nhan-cuoc-goi"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    freeze(monkeypatch, NOW + timedelta(minutes=10))


def signed(console, connection, scope: str = "74", role: str = "operator") -> str:
    email = f"{role}-{scope}@test.vn"
    make_account(connection, email, role, scope)
    return sign_in(console, email)


def count(connection) -> int:
    return connection.execute(text("SELECT count(*) FROM service_request")).scalar()


def test_the_call_form_asks_the_number_first(console, connection):
    signed(console, connection)
    html = console.get(CALL).get_data(as_text=True)
    phone_at, kind_at = html.index('name="phone"'), html.index('name="kind"')
    assert phone_at < kind_at
    assert "autofocus" in html[html.rindex("<input", 0, phone_at):html.index(">", phone_at)]
    assert 'type="tel"' in html
    # Enter presses the form's first submit button: the one that files (or looks up, on a bare number)
    assert html.index('value="file"') < phone_at


def test_a_number_alone_shows_the_callers_earlier_requests(console, connection):
    earlier = file_request(connection)
    token = signed(console, connection)
    before = count(connection)
    answer = console.post(CALL, data={"csrf_token": token, "phone": "0912 345 678", "step": "file"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and count(connection) == before  # nothing filed
    assert earlier.ref in html and "Yêu cầu trước đây của số này" in html
    kind_at = html.index('name="kind"')
    kind_tag = html[html.rindex("<select", 0, kind_at):html.index(">", kind_at)]
    assert "autofocus" in kind_tag
    lookup = console.post(CALL, data={"csrf_token": token, "phone": "0999 999 999", "step": "lookup",
                                      "kind": "food"})
    assert "Số này chưa có yêu cầu nào" in lookup.get_data(as_text=True) and count(connection) == before
    wrong = console.post(CALL, data={"csrf_token": token, "phone": "12ab", "step": "lookup"})
    assert wrong.status_code == 200 and 'aria-invalid="true"' in wrong.get_data(as_text=True)


def test_an_operator_files_a_call(console, connection):
    token = signed(console, connection)
    answer = console.post(CALL, data={"csrf_token": token, "phone": "0912 345 678", "kind": "f0_home",
                                      "description": "F0 sốt cao ngày thứ 3", "commune": "hiep thanh",
                                      "address": "12 Đường 30/4", "name": "Lê Văn Cường", "step": "file"})
    assert answer.status_code == 303
    row = connection.execute(text(
        "SELECT id, ref, kind, source, source_detail, phone, commune_code, team_code, name"
        " FROM service_request ORDER BY id DESC LIMIT 1")).one()
    assert answer.headers["Location"].endswith(f"/quan-tri/yeu-cau/{row.id}")
    stored = (row.kind, row.source, row.source_detail, row.phone, row.commune_code, row.team_code, row.name)
    assert stored == ("f0_home", "operator", "operator-74@test.vn", "0912345678", "25741", "25741",
                      "Lê Văn Cường")
    page = console.get(answer.headers["Location"]).get_data(as_text=True)
    assert row.ref in page and "hãy đọc mã này cho người gọi" in page
    audited = connection.execute(text("SELECT actor FROM audit_event WHERE action = 'request_create'"
                                      " AND target = :r"), {"r": row.ref}).scalar()
    assert audited == "operator-74@test.vn"


def test_a_wrong_call_form_says_what_is_wrong(console, connection):
    token = signed(console, connection)
    before = count(connection)
    missing = console.post(CALL, data={"csrf_token": token, "phone": "0912345678", "description": "cần gạo",
                                       "commune": "Hiệp Thành", "step": "file"})
    assert missing.status_code == 400 and "Chọn loại yêu cầu" in missing.get_data(as_text=True)
    assert 'value="cần gạo"' in missing.get_data(as_text=True)  # what was typed stays
    nowhere = console.post(CALL, data={"csrf_token": token, "phone": "0912345678", "kind": "food",
                                       "description": "cần gạo", "commune": "Phường Không Có",
                                       "step": "file"})
    assert nowhere.status_code == 400 and "Không tìm thấy xã/phường" in nowhere.get_data(as_text=True)
    no_token = console.post(CALL, data={"phone": "0912345678", "kind": "food", "description": "cần gạo",
                                        "commune": "Hiệp Thành", "step": "file"})
    assert no_token.status_code == 400 and count(connection) == before


def test_a_commune_operator_is_sent_back_to_the_form_for_a_call_outside_its_unit(console, connection):
    token = signed(console, connection, scope="25741")
    other = commune_name(connection, "25744")
    answer = console.post(CALL, data={"csrf_token": token, "phone": "0912345678", "kind": "food",
                                      "description": "cần gạo", "commune": other, "step": "file"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(CALL)
    assert "hãy đọc mã này" in console.get(CALL).get_data(as_text=True)  # the code is still read out


def test_each_side_of_a_commune_border_reaches_its_own_communes_queue(console, connection, app):
    other = neighbour_of(connection, "25741")
    mine, theirs = points_across_border(connection, "25741", other)
    here = file_request(connection, lon=mine[0], lat=mine[1], commune=None, phone="0912000001")
    there = file_request(connection, lon=theirs[0], lat=theirs[1], commune=None, phone="0912000002")
    assert (here.team_code, there.team_code) == ("25741", other)
    signed(console, connection, scope="25741", role="viewer")
    queue = console.get("/quan-tri/yeu-cau").get_data(as_text=True)
    assert here.ref in queue and there.ref not in queue
    neighbour = app.test_client()
    signed(neighbour, connection, scope=other, role="viewer")
    theirs_queue = neighbour.get("/quan-tri/yeu-cau").get_data(as_text=True)
    assert there.ref in theirs_queue and here.ref not in theirs_queue


def test_a_district_level_kind_shows_the_district_team(console, connection):
    violation = file_request(connection, kind="violation", description="Tụ tập đông người")
    assert violation.team_code == "718"
    signed(console, connection, scope="25741", role="viewer")
    page = console.get(f"/quan-tri/yeu-cau/{violation.id}").get_data(as_text=True)
    assert "Tổ phản ứng nhanh Thành phố Thủ Dầu Một" in page
    assert violation.ref in console.get("/quan-tri/yeu-cau").get_data(as_text=True)  # placed in the commune
