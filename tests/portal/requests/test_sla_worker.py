"""The real worker (the test server's ``epimap worker`` loop) escalates a late request by itself.

Here, not in tests/dispatch: the test server and its worker start with the first test that asks for
them, and a worker started before tests/officials/test_jobs.py would take its jobs (other upload
directory) from the workers it starts itself.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tests.dispatch.helpers import file_request

PHONE = "0933444555"


@pytest.fixture
def late_request(engine):
    """A committed medical request taken 2 hours ago (30 minutes to be assigned), removed afterwards."""
    request = file_request(engine, at=datetime.now(UTC) - timedelta(hours=2), kind="medical", phone=PHONE)
    yield request
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM service_request WHERE phone = :p"), {"p": PHONE})


def test_the_worker_escalates_a_late_request_within_a_minute(live_server, late_request, engine):
    deadline = time.monotonic() + 100  # the periodic task runs each minute
    team = late_request.team_code
    while time.monotonic() < deadline and team == late_request.team_code:
        time.sleep(2)
        with engine.connect() as conn:
            team = conn.execute(text("SELECT team_code FROM service_request WHERE id = :i"),
                                {"i": late_request.id}).scalar_one()
    assert (late_request.team_code, team) == ("25741", "718")
    with engine.connect() as conn:
        actor = conn.execute(text("SELECT actor FROM service_request_event WHERE request_id = :i"
                                  " AND action = 'escalated'"), {"i": late_request.id}).scalar_one()
    assert actor == "epimap (SLA)"
