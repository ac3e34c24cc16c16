"""Working a request: moves, referrals, comments, scope; and the purge of personal data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from dispatch import aggregate, retention, store, workflow
from epimap.db import session_scope
from epimap.errors import NotFound
from officials import accounts
from officials.accounts import Conflict, Denied
from tests.dispatch.helpers import AREA, NOW, SERVICES, file_request
from tests.portal.console.helpers import FAST_HASHER, make_account


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", FAST_HASHER)


def test_a_request_is_assigned_worked_resolved_and_closed(connection):
    team = make_account(connection, "op@test.vn", "operator", "25741")
    request = file_request(connection)
    with session_scope(connection) as session:
        workflow.move(session, team, request.id, "assigned", NOW, assignee="Tổ 3 khu phố 2")
        workflow.move(session, team, request.id, "in_progress", NOW + timedelta(minutes=5))
        workflow.comment(session, team, request.id, "Đã gọi cho hộ dân", public=False,
                         now=NOW + timedelta(minutes=6))
        done = workflow.move(session, team, request.id, "resolved", NOW + timedelta(hours=2),
                             note="Đã giao gạo")
        assert (done.status, done.assignee, done.resolved_at) == ("resolved", "Tổ 3 khu phố 2",
                                                                   NOW + timedelta(hours=2))
        with pytest.raises(Conflict):
            workflow.move(session, team, request.id, "new", NOW)
        workflow.move(session, team, request.id, "closed", NOW + timedelta(hours=3))
        public = [e.action for e in store.history(session, request.id, public_only=True)]
        everything = [e.action for e in store.history(session, request.id)]
    assert public == ["created", "assigned", "status", "status", "status"]
    assert everything == ["created", "assigned", "status", "comment", "status", "status"]
    audited = connection.execute(text("SELECT count(*) FROM audit_event WHERE action = 'request_update'"
                                      " AND target = :r"), {"r": request.ref}).scalar()
    assert audited == 5


def test_another_communes_official_cannot_see_or_work_it(connection):
    stranger = make_account(connection, "other@test.vn", "publisher", "25744")
    viewer = make_account(connection, "viewer@test.vn", "viewer", "25741")
    request = file_request(connection)
    with session_scope(connection) as session:
        with pytest.raises(NotFound):
            workflow.readable(session, stranger, request.id)
        with pytest.raises(NotFound):
            workflow.move(session, stranger, request.id, "assigned", NOW, assignee="x")
        assert workflow.readable(session, viewer, request.id).id == request.id
        with pytest.raises(Denied):
            workflow.move(session, viewer, request.id, "assigned", NOW, assignee="x")


def test_referring_up_then_down_moves_the_team_and_restarts_the_clock(connection):
    district = make_account(connection, "d@test.vn", "operator", "718")
    request = file_request(connection)
    with session_scope(connection) as session:
        up = workflow.refer(session, district, request.id, "up", "Cần xe của huyện", AREA, SERVICES["food"],
                            NOW + timedelta(minutes=10))
        assert up.team_code == "718" and up.assign_due_at == NOW + timedelta(minutes=250)
        with pytest.raises(Exception, match="reason"):
            workflow.refer(session, district, request.id, "down", " ", AREA, SERVICES["food"], NOW)
        down = workflow.refer(session, district, request.id, "down", "Xã tự xử lý", AREA, SERVICES["food"],
                              NOW)
        assert down.team_code == "25741"


def test_the_purge_erases_personal_data_and_keeps_the_counts(connection):
    team = make_account(connection, "op@test.vn", "operator", "25741")
    request = file_request(connection, commune=None, lon=106.66, lat=11.0, name="Nguyễn Văn A",
                           address="12 Đường 30/4")
    with session_scope(connection) as session:
        code = request.commune_code
        session.execute(text("UPDATE service_request SET team_code = '25741' WHERE id = :i"),
                        {"i": request.id})
        workflow.move(session, team, request.id, "resolved", NOW + timedelta(hours=1))
        session.execute(text("UPDATE service_request SET status = 'closed', closed_at = :t WHERE id = :i"),
                        {"t": NOW + timedelta(hours=2), "i": request.id})
        before = aggregate.per_commune(session, "vn2021", [code])
        assert retention.purge(session, NOW + timedelta(days=89), 90) == 0
        assert retention.purge(session, NOW + timedelta(days=91), 90) == 1
        purged = store.get(session, request.id)
        personal = (purged.phone, purged.name, purged.address, purged.lon, purged.description)
        assert personal == (None, None, None, None, "")
        assert aggregate.per_commune(session, "vn2021", [code]) == before
