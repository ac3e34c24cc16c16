"""The demo's day of made-up requests: every status, escalations, duplicates, flagged, loaded once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from epimap.demo import load_demo_requests
from tests.dispatch.helpers import NOW

COUNT = 60


def _statuses(connection) -> dict[str, int]:
    return dict(connection.execute(text("SELECT status, count(*) FROM service_request WHERE demo"
                                        " GROUP BY status")).all())


def test_a_day_of_requests_in_every_status_loaded_once(connection):
    assert load_demo_requests(connection, COUNT, now=NOW) == COUNT
    assert set(_statuses(connection)) == {"new", "assigned", "in_progress", "resolved", "closed"}
    row = connection.execute(text(
        "SELECT count(*) AS n, count(*) FILTER (WHERE demo) AS demo, min(created_at) AS first,"
        " max(created_at) AS last, count(DISTINCT kind) AS kinds, count(DISTINCT commune_code) AS communes,"
        " count(*) FILTER (WHERE escalations > 0) AS escalated,"
        " count(*) FILTER (WHERE duplicate_of IS NOT NULL) AS duplicates,"
        " count(*) FILTER (WHERE resolved_at > created_at) AS timed FROM service_request")).one()
    assert row.n == row.demo == COUNT and NOW - timedelta(hours=24) <= row.first <= row.last < NOW
    assert row.kinds == 5 and row.communes > 20 and row.escalated > 0 and row.duplicates > 0 and row.timed > 0
    events = dict(connection.execute(text("SELECT action, count(*) FROM service_request_event"
                                          " GROUP BY action")).all())
    assert {"created", "assigned", "status", "comment", "escalated", "linked"} <= set(events)
    assert load_demo_requests(connection, COUNT, now=NOW) == 0  # idempotent
    assert connection.execute(text("SELECT count(*) FROM service_request")).scalar_one() == COUNT


def test_the_same_seed_gives_the_same_day(connection):
    load_demo_requests(connection, 20, now=NOW)
    first = connection.execute(text("SELECT kind, commune_code, status, description FROM service_request"
                                    " ORDER BY created_at")).all()
    connection.execute(text("DELETE FROM service_request"))
    load_demo_requests(connection, 20, now=NOW)
    again = connection.execute(text("SELECT kind, commune_code, status, description FROM service_request"
                                    " ORDER BY created_at")).all()
    assert first == again


def test_the_cli_loads_them_beside_a_loaded_demo(run_cli, connection):
    result = run_cli("demo", "load", "--if-absent", "--requests", "15")
    assert "demo binh-duong: already loaded" in result.output
    assert "demo binh-duong: 15 citizens' requests loaded" in result.output
    assert "citizens' requests already loaded" in run_cli("demo", "load", "--if-absent").output
    assert connection.execute(text("SELECT count(*) FROM service_request WHERE demo")).scalar_one() == 15
