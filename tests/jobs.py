"""Feed jobs in tests: a test client that runs the queued jobs after each request, as a worker would.

The console and feed-API tests run in one uncommitted transaction no real worker can see, so the
client takes the jobs a request queued and runs them on that transaction before answering the next
request (:func:`officials.jobs.run_queued`, through procrastinate's own SQL functions).  The request
itself only stores and queues; ``tests/officials/test_jobs.py`` runs a real ``epimap worker``.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from officials.jobs import run_queued
from portal.catalog import current_catalog
from portal.database import get_bind


def run_jobs(app: Flask) -> int:
    """Run an app's queued feed jobs to completion; return how many ran."""
    with app.app_context():
        return run_queued(get_bind(), app.config["SETTINGS"], current_catalog())


class WorkingClient(FlaskClient):
    """A test client after each of whose requests the queued feed jobs run to completion."""

    run_jobs_after = True

    def run_wsgi_app(self, environ, buffered=False):
        answer = super().run_wsgi_app(environ, buffered=True)  # the request is over when it returns
        if self.run_jobs_after:
            run_jobs(self.application)
        return answer


def with_worker(app: Flask) -> Flask:
    """Give an app the test client that runs queued jobs after each request."""
    app.test_client_class = WorkingClient
    return app


def job_outcome(client, accepted, headers: dict[str, str]):
    """Follow a feed-API answer: a 202 is checked (``Location``, ``job``) and its job URL asked.

    The jobs ran after the POST (:class:`WorkingClient`), so the job's answer is final: 200 with
    the report, or the error.  Any other answer (401, 403, 404, 400) is returned as it is.
    """
    if accepted.status_code != 202:
        return accepted
    location = accepted.headers["Location"]
    assert accepted.json["job"] == location and accepted.headers["Retry-After"]
    assert accepted.json["done"] is False and accepted.json["phase"] == "queued"
    return client.get(location, headers=headers)
