"""``/yeu-cau/<code>``: a request's status, team and public history, found by its code however typed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatch import workflow
from epimap.db import session_scope
from tests.dispatch.helpers import NOW, file_request
from tests.portal.console.helpers import make_account
from tests.portal.requests.helpers import send, sent_ref


@pytest.fixture
def operator(connection):
    return make_account(connection, "tophanungnhanh@hiepthanh.vn", "operator", "25741")


def test_a_new_request_shows_received_its_kind_commune_and_team(client, connection):
    request = file_request(connection)
    response = client.get(f"/yeu-cau/{request.ref}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="req-state">mới tiếp nhận<' in html
    assert "Thực phẩm, nhu yếu phẩm" in html and "Phường Hiệp Thành" in html
    assert "Tổ phản ứng nhanh Phường Hiệp Thành" in html
    assert "Đã tiếp nhận yêu cầu" in html
    assert response.headers["Cache-Control"] == "private, no-store"
    english = client.get(f"/request/{request.ref}?lang=en").get_data(as_text=True)
    assert 'id="req-state">received<' in english and "Rapid-response team, Phường Hiệp Thành" in english


@pytest.mark.parametrize("typed", ["{ref}", "{lower}", "{compact}", " {spaced} "])
def test_the_code_form_finds_a_request_however_the_code_is_typed(client, connection, typed):
    ref = file_request(connection).ref
    written = typed.format(ref=ref, lower=ref.lower(), compact=ref.replace("-", ""),
                           spaced=ref.replace("-", " ").lower())
    response = client.get("/yeu-cau", query_string={"ma": written})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/yeu-cau/{ref}")


def test_a_code_in_the_address_is_put_right(client, connection):
    ref = file_request(connection).ref
    response = client.get(f"/yeu-cau/{ref.lower().replace('-', '')}")
    assert response.status_code == 301 and response.headers["Location"].endswith(f"/yeu-cau/{ref}")


def test_a_malformed_code_is_said_on_the_form(client):
    response = client.get("/yeu-cau", query_string={"ma": "xyz"})
    assert response.status_code == 400
    assert "Mã yêu cầu có dạng BD-7K3Q-92." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/yeu-cau/BD-2345-67", "/yeu-cau/khong-phai-ma",
                                  "/yeu-cau/BD-2345-67/da-gui"])
def test_an_unknown_code_is_a_404_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Không có yêu cầu nào mang mã này." in response.get_data(as_text=True)


def test_the_history_shows_public_changes_and_comments_only(client, connection, operator):
    request = file_request(connection)
    with session_scope(connection) as session:
        workflow.move(session, operator, request.id, "assigned", NOW + timedelta(minutes=5),
                      assignee="Tổ 3 khu phố 2")
        workflow.comment(session, operator, request.id, "Ghi chú nội bộ: nhà có chó dữ", public=False,
                         now=NOW + timedelta(minutes=6))
        workflow.comment(session, operator, request.id, "Chiều nay tổ sẽ mang gạo tới", public=True,
                         now=NOW + timedelta(minutes=7))
        workflow.move(session, operator, request.id, "resolved", NOW + timedelta(minutes=90),
                      note="Đã trao 10 kg gạo")
    html = client.get(f"/yeu-cau/{request.ref}").get_data(as_text=True)
    assert 'id="req-state">đã giải quyết<' in html
    assert "Chiều nay tổ sẽ mang gạo tới" in html and "Đã trao 10 kg gạo" in html
    assert "chó dữ" not in html
    assert "tophanungnhanh@hiepthanh.vn" not in html  # who did it is the team, never an official's account
    assert html.index("đã phân công") < html.index("Chiều nay") < html.index("Đã trao 10 kg gạo")


def test_a_request_sent_through_the_form_is_followed_by_its_code(client):
    ref = sent_ref(send(client))
    html = client.get(f"/yeu-cau/{ref}").get_data(as_text=True)
    assert ref in html and "mới tiếp nhận" in html
