"""Working requests through the console: each action with its form token, roles, refusals, the queue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from dispatch import store
from epimap.db import session_scope
from tests.dispatch.helpers import NOW, file_request
from tests.portal.console.helpers import csrf_of, make_account, sign_in
from tests.portal.console.requests_helpers import freeze, two_requests


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    freeze(monkeypatch, NOW + timedelta(minutes=10))


def operator(console, connection, scope: str = "25741", role: str = "operator") -> str:
    """Sign an official in; return their form token."""
    email = f"{role}-{scope}@test.vn"
    make_account(connection, email, role, scope)
    return sign_in(console, email)


def act(console, request_id: int, token: str | None, **form: str):
    data = {**form, **({"csrf_token": token} if token else {})}
    return console.post(f"/quan-tri/yeu-cau/{request_id}/cap-nhat", data=data)


def status_of(connection, request_id: int) -> tuple[str, str | None, str]:
    row = connection.execute(text("SELECT status, assignee, team_code FROM service_request WHERE id = :i"),
                             {"i": request_id}).one()
    return row.status, row.assignee, row.team_code


def test_an_operator_assigns_starts_resolves_and_closes_with_the_form_token(console, connection):
    request = file_request(connection)
    token = operator(console, connection)
    refused = act(console, request.id, None, action="assign", assignee="Tổ 3", public="1")
    assert refused.status_code == 400 and status_of(connection, request.id)[0] == "new"
    assigned = act(console, request.id, token, action="assign", assignee="Tổ 3 khu phố 2", public="1")
    assert assigned.status_code == 303
    assert assigned.headers["Location"].endswith(f"/quan-tri/yeu-cau/{request.id}")
    assert status_of(connection, request.id)[:2] == ("assigned", "Tổ 3 khu phố 2")
    for action, status in (("start", "in_progress"), ("resolve", "resolved"), ("close", "closed")):
        done = act(console, request.id, token, action=action, note=f"bước {action}", public="1")
        assert done.status_code == 303
        assert status_of(connection, request.id)[0] == status
    page = console.get(f"/quan-tri/yeu-cau/{request.id}").get_data(as_text=True)
    assert "Đã đóng" in page and "bước resolve" in page and "Tổ 3 khu phố 2" in page
    audited = connection.execute(text("SELECT count(*) FROM audit_event WHERE action = 'request_update'"
                                      " AND target = :r AND actor = 'operator-25741@test.vn'"),
                                 {"r": request.ref}).scalar()
    assert audited == 4


def test_a_viewer_cannot_act(console, connection):
    request = file_request(connection)
    token = operator(console, connection, role="viewer")
    page = console.get(f"/quan-tri/yeu-cau/{request.id}").get_data(as_text=True)
    assert "cap-nhat" not in page  # no action forms for a viewer
    answer = act(console, request.id, token, action="assign", assignee="Tổ 3")
    assert answer.status_code == 403 and status_of(connection, request.id)[0] == "new"


def test_an_operator_of_another_commune_cannot_act(console, connection):
    request = file_request(connection)
    token = operator(console, connection, scope="25744")
    assert act(console, request.id, token, action="assign", assignee="Tổ 3").status_code == 404
    assert status_of(connection, request.id)[0] == "new"


def test_a_refused_move_is_shown_in_both_languages(console, connection):
    request = file_request(connection)
    token = operator(console, connection)
    act(console, request.id, token, action="close", public="1")
    refused = act(console, request.id, token, action="resolve")
    assert refused.status_code == 409
    assert "Không thể chuyển yêu cầu" in refused.get_data(as_text=True)
    no_one = act(console, request.id, token, action="assign", assignee="")
    assert no_one.status_code in (400, 409)
    unknown = act(console, request.id, token, action="explode")
    assert unknown.status_code == 400 and "Thao tác không hợp lệ" in unknown.get_data(as_text=True)
    english = console.post(f"/quan-tri/yeu-cau/{request.id}/cap-nhat?lang=en",
                           data={"csrf_token": token, "action": "start"})
    assert english.status_code == 409 and "A request cannot move from" in english.get_data(as_text=True)


def test_refer_up_and_down_with_a_reason(console, connection):
    request = file_request(connection)
    token = operator(console, connection)
    no_reason = act(console, request.id, token, action="refer_up", reason="")
    assert no_reason.status_code == 400 and "Ghi rõ lý do" in no_reason.get_data(as_text=True)
    assert act(console, request.id, token, action="refer_up", reason="Cần xe cứu thương").status_code == 303
    assert status_of(connection, request.id)[2] == "718"
    page = console.get(f"/quan-tri/yeu-cau/{request.id}").get_data(as_text=True)
    assert "Cần xe cứu thương" in page and "Thành phố Thủ Dầu Một" in page
    assert act(console, request.id, token, action="refer_down", reason="Phường tự lo được").status_code == 303
    assert status_of(connection, request.id)[2] == "25741"
    bottom = act(console, request.id, token, action="refer_down", reason="thử")
    assert bottom.status_code == 409


def test_comments_for_the_citizen_or_internal(console, connection):
    request = file_request(connection)
    token = operator(console, connection)
    shown = act(console, request.id, token, action="comment", note="Tổ sẽ đến trong 1 giờ", public="1")
    assert shown.status_code == 303
    assert act(console, request.id, token, action="comment", note="Nhà có người già").status_code == 303
    with session_scope(connection) as session:
        public = [e.note for e in store.history(session, request.id, public_only=True)
                  if e.action == "comment"]
        everything = [e.note for e in store.history(session, request.id) if e.action == "comment"]
    assert public == ["Tổ sẽ đến trong 1 giờ"]
    assert everything == ["Tổ sẽ đến trong 1 giờ", "Nhà có người già"]


def test_the_queue_puts_overdue_requests_first_and_marks_them(console, connection, monkeypatch):
    older = file_request(connection, at=NOW - timedelta(hours=1), kind="other", phone="0987654321")
    late = file_request(connection, at=NOW, kind="food")
    freeze(monkeypatch, NOW + timedelta(hours=5))  # food: 4 h to assign, so late by 1:00; other: 12 h
    operator(console, connection, role="viewer")
    html = console.get("/quan-tri/yeu-cau").get_data(as_text=True)
    rows = re.findall(r'<tr class="request-row( late)?" data-ref="([^"]+)"', html)
    assert rows == [(" late", late.ref), ("", older.ref)]
    assert "Trễ 1:00" in html and "Còn 6:00" in html
    assert 'data-count="overdue">1<' in html and 'data-count="new">2<' in html
    english = console.get("/quan-tri/yeu-cau?lang=en").get_data(as_text=True)
    assert "Late by 1:00" in english and "6:00 left" in english
    only_food = console.get("/quan-tri/yeu-cau?kind=food").get_data(as_text=True)
    assert late.ref in only_food and older.ref not in only_food
    closed = console.get("/quan-tri/yeu-cau?status=closed&lang=vi").get_data(as_text=True)
    assert late.ref not in closed and "Không có yêu cầu nào" in closed


def test_duplicates_are_linked_both_ways(console, connection):
    first = file_request(connection)
    again = file_request(connection, at=NOW + timedelta(minutes=5), description="Gọi lại lần hai")
    assert again.duplicate_of == first.id
    operator(console, connection, role="viewer")
    queue = console.get("/quan-tri/yeu-cau").get_data(as_text=True)
    assert f'href="/quan-tri/yeu-cau/{first.id}">#{first.id}</a>' in queue
    original = console.get(f"/quan-tri/yeu-cau/{first.id}").get_data(as_text=True)
    assert again.ref in original
    repeat = console.get(f"/quan-tri/yeu-cau/{again.id}").get_data(as_text=True)
    assert first.ref in repeat


def test_the_queue_is_paged(console, connection, monkeypatch):
    from portal.console import request_forms

    monkeypatch.setattr(request_forms, "PAGE_SIZE", 2)
    refs = [file_request(connection, phone=f"09123456{i:02d}", kind="other",
                         at=NOW + timedelta(minutes=i)).ref for i in range(3)]
    operator(console, connection, role="viewer")
    first = console.get("/quan-tri/yeu-cau").get_data(as_text=True)
    second = console.get("/quan-tri/yeu-cau?status=open&page=2").get_data(as_text=True)
    assert refs[0] in first and refs[1] in first and refs[2] not in first and "page=2" in first
    assert refs[2] in second and refs[0] not in second


def test_the_menu_links_the_requests(console, connection):
    operator(console, connection, role="viewer")
    assert 'href="/quan-tri/yeu-cau">Yêu cầu</a>' in console.get("/quan-tri/").get_data(as_text=True)
    assert ">Requests</a>" in console.get("/quan-tri/?lang=en").get_data(as_text=True)


def test_the_photo_url_of_a_request_outside_the_unit_is_404(console, connection, monkeypatch):
    two = two_requests(connection)
    operator(console, connection, scope="25744", role="viewer")
    assert console.get(f"/quan-tri/yeu-cau/{two.mine.id}/anh").status_code == 404
    assert csrf_of(console.get("/quan-tri/yeu-cau").get_data(as_text=True))


def _statements(connection, client, url: str) -> int:
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(connection, "before_cursor_execute", count)
    return len(seen)


def test_the_queue_asks_the_database_the_same_few_times_whatever_its_length(console, connection):
    operator(console, connection, role="viewer")
    file_request(connection, phone="0912000100", kind="other")
    few = _statements(connection, console, "/quan-tri/yeu-cau")
    for i in range(8):
        file_request(connection, phone=f"09120002{i:02d}", kind="other", at=NOW + timedelta(minutes=i))
    many = _statements(connection, console, "/quan-tri/yeu-cau")
    assert 0 < few == many <= 12  # no query per row


def test_an_escalated_request_stays_in_its_communes_queue_with_the_team_above(console, connection, settings):
    from dispatch import jobs
    from layers.catalog import default_catalog

    medical = file_request(connection, kind="medical")
    assert jobs.escalate(connection, settings, default_catalog(), NOW + timedelta(minutes=31)) == 1
    operator(console, connection, role="viewer")
    assert medical.ref in console.get("/quan-tri/yeu-cau").get_data(as_text=True)
    page = console.get(f"/quan-tri/yeu-cau/{medical.id}").get_data(as_text=True)
    assert "Tổ phản ứng nhanh Thành phố Thủ Dầu Một" in page and "tự chuyển lên do quá hạn" in page
