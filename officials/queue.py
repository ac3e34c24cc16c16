"""The feed jobs' queue and progress, on PostgreSQL: enqueue with the request's own transaction.

A job is a row of procrastinate's ``procrastinate_jobs`` (migration 0012), inserted through its
``procrastinate_defer_jobs_v1`` function in the same transaction as the upload's state change, so
an upload is queued if and only if its job is: a request that fails leaves neither.  The worker
(``epimap worker``, :mod:`officials.jobs`) runs it; the job writes its phase, rows read and a
percentage to its ``feed_upload`` row, at most once a second per phase, for the console and the
feed API to show.

Phases: ``queued`` → ``reading`` → ``locating`` → ``comparing`` → (``publishing``) → ``done``, or
``failed`` with a bilingual error (``job_error``: ``code``, ``vi``, ``en``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from epimap.db import Bind, session_scope
from epimap.errors import EpimapError

QUEUE = "feeds"
PREVIEW_TASK = "epimap.preview_upload"
PUBLISH_TASK = "epimap.publish_upload"
PHASES = ("queued", "reading", "locating", "comparing", "publishing", "done", "failed")
FINISHED = ("done", "failed")
WRITE_EVERY = 1.0  # seconds between two progress writes of one phase
# Where each phase starts, in percent; reading goes from 5 to 75 by the rows read.
PHASE_PERCENT = {"queued": 0, "reading": 5, "locating": 75, "comparing": 85, "publishing": 92, "done": 100}
_NOT_TEXT = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # XLSX (zip) and XLS (OLE): no line count


def enqueue(session: Session, upload_id: int, kind: str, task: str, args: dict[str, Any]) -> int:
    """Queue a job for an upload in the session's transaction; return the job's id."""
    job_id = session.execute(text(
        "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, NULL,"
        " CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]))"),
        {"queue": QUEUE, "task": task, "lock": f"upload:{upload_id}",
         "args": json.dumps(args, ensure_ascii=False)}).scalar_one()
    session.execute(text(
        "UPDATE feed_upload SET job_id = :j, job_kind = :k, job_phase = 'queued', job_rows = 0,"
        " job_percent = 0, job_error = NULL, job_updated_at = now() WHERE id = :i"),
        {"j": job_id, "k": kind, "i": upload_id})
    return job_id


def finish(session: Session, upload_id: int, error: EpimapError | None = None, *,
           code: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Record the end of an upload's job: done, or failed with the error's two messages (and details)."""
    if error is None:
        session.execute(text("UPDATE feed_upload SET job_phase = 'done', job_percent = 100, job_error = NULL,"
                             " job_updated_at = now() WHERE id = :i"), {"i": upload_id})
        return
    body = {"code": code or getattr(error, "code", None),
            "vi": error.message("vi"), "en": error.message("en"), **(details or {})}
    session.execute(text("UPDATE feed_upload SET job_phase = 'failed', job_error = CAST(:e AS jsonb),"
                         " job_updated_at = now() WHERE id = :i"),
                    {"e": json.dumps(body, ensure_ascii=False), "i": upload_id})


def estimate_rows(path: Path) -> int | None:
    """Return a text feed's line count (the rows to read, near enough); None for a workbook."""
    with path.open("rb") as handle:
        if handle.read(4) in _NOT_TEXT:
            return None
        handle.seek(0)
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) or None


def percent(phase: str, rows: int, total: int | None) -> int:
    """Return how far a job is, in percent, from its phase and rows read.

    >>> percent("reading", 500, 1000), percent("reading", 5, None), percent("comparing", 9, 10)
    (40, 5, 85)
    """
    start = PHASE_PERCENT.get(phase, 0)
    if phase == "reading" and total:
        return min(75, start + round(70 * min(rows, total) / total))
    return start


class Progress:
    """The ingest's ``on_progress``: writes the phase and rows to the upload, at a bounded rate.

    Writes go through their own short transactions, so they need an engine; bound to one test
    connection (whose transaction nobody else sees) they are skipped.
    """

    def __init__(self, bind: Bind, upload_id: int, total: int | None, every: float = WRITE_EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bind, self.upload_id, self.total, self.every, self.clock = bind, upload_id, total, every, clock
        self.phase: str | None = None
        self.written_at = float("-inf")

    def __call__(self, phase: str, rows: int) -> None:
        now = self.clock()
        if phase == self.phase and now - self.written_at < self.every:
            return
        self.phase, self.written_at = phase, now
        if isinstance(self.bind, Engine):
            with session_scope(self.bind) as session:
                session.execute(text(
                    "UPDATE feed_upload SET job_phase = :p, job_rows = :r, job_percent = :pc,"
                    " job_updated_at = now() WHERE id = :i AND job_phase NOT IN ('done', 'failed')"),
                    {"p": phase, "r": rows, "pc": percent(phase, rows, self.total), "i": self.upload_id})
