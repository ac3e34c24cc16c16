"""The requests' scheduled work: escalation each minute and the daily purge, by the worker and the CLI.

The clock is injected: the worker's periodic runs receive the time they were scheduled for, and the
commands take ``--now``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from procrastinate.periodic import PeriodicDeferrer
from sqlalchemy import text

from dispatch import jobs
from epimap.db import session_scope
from layers.catalog import default_catalog
from officials.jobs import job_app
from tests.dispatch.helpers import NOW, file_request
from tests.portal.console.helpers import FAST_HASHER, make_account


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    from officials import accounts

    monkeypatch.setattr(accounts, "_hasher", FAST_HASHER)


def team_of(connection, request_id: int) -> tuple[str, int]:
    row = connection.execute(text("SELECT team_code, escalations FROM service_request WHERE id = :i"),
                             {"i": request_id}).one()
    return row.team_code, row.escalations


@pytest.fixture
def worker_app(settings, connection):
    return job_app(settings, default_catalog(), connection, extensions=(jobs.register,))


def test_the_worker_schedules_escalation_each_minute_and_the_purge_daily(worker_app):
    assert worker_app.extra_queues == [jobs.QUEUE]
    schedules = {key[0]: task.cron for key, task in worker_app.periodic_registry.periodic_tasks.items()}
    assert schedules == {jobs.ESCALATE_TASK: "* * * * *", jobs.PURGE_TASK: jobs.PURGE_CRON}
    assert worker_app.tasks[jobs.ESCALATE_TASK].queue == jobs.QUEUE
    deferrer = PeriodicDeferrer(worker_app.periodic_registry)
    start = NOW.timestamp()
    runs = {name: [] for name in schedules}
    for periodic, timestamp in _over(deferrer, start, start + 2 * 86400):
        runs[periodic.task.name].append(timestamp)
    minutes = runs[jobs.ESCALATE_TASK]
    assert len(minutes) >= 2 * 24 * 60
    assert {b - a for a, b in zip(minutes, minutes[1:], strict=False)} == {60}
    assert [jobs.at(t).strftime("%H:%M") for t in runs[jobs.PURGE_TASK]] == ["19:30", "19:30"]  # 02:30 in VN


def _over(deferrer: PeriodicDeferrer, start: float, end: float):
    """Yield what the deferrer would defer, asked each minute (as a worker's ticks do) in a span."""
    for at in range(int(start), int(end) + 1, 60):
        yield from deferrer.get_previous_tasks(at=at)


def test_a_periodic_run_escalates_what_was_late_at_its_minute(worker_app, connection):
    medical = file_request(connection, kind="medical")  # 30 minutes to be assigned
    escalate = worker_app.tasks[jobs.ESCALATE_TASK]
    assert escalate(timestamp=int((NOW + timedelta(minutes=29)).timestamp())) == 0
    assert team_of(connection, medical.id) == ("25741", 0)
    assert escalate(timestamp=int((NOW + timedelta(minutes=31)).timestamp())) == 1
    assert team_of(connection, medical.id) == ("718", 1)
    assert escalate(timestamp=int((NOW + timedelta(minutes=62)).timestamp())) == 1  # 30 more minutes
    assert team_of(connection, medical.id) == ("74", 2)
    assert escalate(timestamp=int((NOW + timedelta(hours=5)).timestamp())) == 0  # the top: stays, first
    events = connection.execute(text("SELECT actor, action, team_code FROM service_request_event"
                                     " WHERE request_id = :i AND action = 'escalated' ORDER BY id"),
                                {"i": medical.id}).all()
    assert [(e.actor, e.team_code) for e in events] == [("epimap (SLA)", "718"), ("epimap (SLA)", "74")]


def test_an_assigned_request_is_never_escalated(worker_app, connection):
    from dispatch import workflow

    medical = file_request(connection, kind="medical")
    team = make_account(connection, "team@test.vn", "operator", "25741")
    with session_scope(connection) as session:
        workflow.move(session, team, medical.id, "assigned", NOW + timedelta(minutes=5), assignee="Tổ 1")
    assert worker_app.tasks[jobs.ESCALATE_TASK](timestamp=int((NOW + timedelta(hours=2)).timestamp())) == 0
    assert team_of(connection, medical.id) == ("25741", 0)


def _closed(connection, at):
    request = file_request(connection, name="Nguyễn Văn An", address="12 Đường 30/4")
    team = make_account(connection, f"t{request.id}@test.vn", "operator", "25741")
    from dispatch import workflow

    with session_scope(connection) as session:
        workflow.move(session, team, request.id, "closed", at)
    return request


def personal(connection, request_id: int):
    return connection.execute(text(
        "SELECT phone, name, address, purged_at FROM service_request WHERE id = :i"), {"i": request_id}).one()


def test_a_periodic_run_purges_by_the_retention_setting(worker_app, connection, settings):
    request = _closed(connection, NOW)
    purge = worker_app.tasks[jobs.PURGE_TASK]
    days = settings.request_retention_days
    assert purge(timestamp=int((NOW + timedelta(days=days - 1)).timestamp())) == 0
    assert personal(connection, request.id).phone == "0912345678"
    assert purge(timestamp=int((NOW + timedelta(days=days, hours=1)).timestamp())) == 1
    assert personal(connection, request.id)[:3] == (None, None, None)


def test_the_escalate_command(run_cli, connection):
    medical = file_request(connection, kind="medical")
    early = run_cli("requests", "escalate", "--now", (NOW + timedelta(minutes=10)).isoformat())
    assert early.exit_code == 0 and "escalated: 0" in early.output
    late = run_cli("requests", "escalate", "--now", "2021-08-16T16:45:00+07:00")  # 09:45 UTC
    assert late.exit_code == 0 and "escalated: 1" in late.output
    assert team_of(connection, medical.id) == ("718", 1)
    wrong = run_cli("requests", "escalate", "--now", "yesterday")
    assert wrong.exit_code != 0 and "ISO 8601" in wrong.output


def test_the_purge_command(run_cli, connection):
    old = _closed(connection, NOW)
    recent = _closed(connection, NOW + timedelta(days=20))
    kept = run_cli("requests", "purge", "--now", (NOW + timedelta(days=10)).isoformat())
    assert kept.exit_code == 0 and "purged: 0" in kept.output
    done = run_cli("requests", "purge", "--days", "30", "--now", (NOW + timedelta(days=31)).isoformat())
    assert done.exit_code == 0 and "purged: 1" in done.output
    assert personal(connection, old.id).purged_at is not None
    assert personal(connection, recent.id).phone == "0912345678"
    audited = connection.execute(text("SELECT details FROM audit_event WHERE action = 'request_purge'"
                                      " ORDER BY id DESC LIMIT 1")).scalar()
    assert audited == {"requests": 1, "days": 30}


def test_epimap_worker_is_the_one_with_the_requests_tasks():
    from dispatch.cli import worker_command
    from epimap.cli import main

    assert main.get_command(None, "worker") is worker_command  # type: ignore[arg-type]
    assert main.get_command(None, "requests").name == "requests"  # type: ignore[arg-type, union-attr]
