"""The job worker: procrastinate runs the feed jobs queued in PostgreSQL (``epimap worker``).

No server besides PostgreSQL: jobs are rows of ``procrastinate_jobs``, a worker takes one with
``SELECT … FOR UPDATE SKIP LOCKED`` (procrastinate), is woken by ``LISTEN/NOTIFY`` and sends a
heartbeat.  Any number of workers on any machines may run against the primary.  Jobs of one upload
share a lock (``upload:<id>``) and so never run at once.

A worker killed mid-job (SIGKILL, a lost machine) cannot clean up: PostgreSQL rolls its ingest's
transaction back when the connection drops, so nothing is half-published, and its job stays
``doing``.  Every worker looks for such jobs every ``stalled_check`` seconds (those of workers whose
heartbeat is older than ``stalled_after``): a preview is retried, up to :data:`MAX_ATTEMPTS` runs
in all; a publication is not re-run behind the official's back, it is marked failed and the upload
goes back to previewed with a bilingual message (:func:`officials.uploads.worker_lost`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import make_url, text

from epimap.db import Bind, make_engine, session_scope
from epimap.settings import Settings
from layers.catalog import Catalog
from officials import queue, uploads

MAX_ATTEMPTS = 3  # runs of a preview job whose worker died, before it is marked failed
KINDS = {queue.PREVIEW_TASK: "preview", queue.PUBLISH_TASK: "publish"}
# A package above this one adds its tasks to the worker: it registers them on the procrastinate app
# (running on the bind, with the settings and catalogue) and returns the queues they use.
Extension = Callable[[Any, Bind, Settings, Catalog], Sequence[str]]
log = logging.getLogger(__name__)


def run_job(bind: Bind, settings: Settings, catalog: Catalog, task: str, args: dict[str, Any]) -> None:
    """Run one feed job by its task name."""
    runner = uploads.preview_job if task == queue.PREVIEW_TASK else uploads.publish_job
    runner(bind, settings, catalog, args)


def conninfo(settings: Settings) -> str:
    """Return the database URL as libpq reads it (procrastinate connects with psycopg itself)."""
    url = make_url(settings.resolved_database_url()).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def job_app(settings: Settings, catalog: Catalog, bind: Bind | None = None,
            extensions: Sequence[Extension] = ()) -> Any:
    """Return a procrastinate app with the feed tasks, running them on ``bind`` (default: an engine).

    Each extension registers its own tasks too (``app.extra_queues`` lists the queues they use).
    """
    import procrastinate  # only workers need it

    engine = bind if bind is not None else make_engine(settings)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(settings)))

    for task in KINDS:
        def run(task: str = task, **args: Any) -> None:
            run_job(engine, settings, catalog, task, args)

        app.task(name=task, queue=queue.QUEUE)(run)
    app.extra_queues = [name for extend in extensions for name in extend(app, engine, settings, catalog)]
    return app


async def recover_stalled(app: Any, bind: Bind, stalled_after: float) -> int:
    """Retry or fail the jobs of workers whose heartbeat is older than ``stalled_after``; return how many."""
    from procrastinate.jobs import Status

    stalled = list(await app.job_manager.get_stalled_jobs(queue=queue.QUEUE,
                                                          seconds_since_heartbeat=stalled_after))
    for job in stalled:
        upload_id, kind = int(job.task_kwargs["upload_id"]), KINDS.get(job.task_name, "preview")
        if kind == "preview" and job.attempts + 1 < MAX_ATTEMPTS:
            log.warning("job %s (upload %s): its worker stopped; retried", job.id, upload_id)
            await app.job_manager.retry_job(job)
            await asyncio.to_thread(uploads.job_requeued, bind, upload_id)
        else:
            log.warning("job %s (upload %s): its worker stopped; marked failed", job.id, upload_id)
            await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
            await asyncio.to_thread(uploads.worker_lost, bind, upload_id, kind)
    return len(stalled)


async def work(settings: Settings, catalog: Catalog, *, concurrency: int = 1, heartbeat: float = 10.0,
               stalled_after: float = 30.0, stalled_check: float = 10.0,
               install_signal_handlers: bool = True, extensions: Sequence[Extension] = ()) -> None:
    """Run jobs until stopped (SIGINT/SIGTERM let the current job finish), recovering stalled ones.

    ``extensions`` add their tasks (periodic ones included) and queues to the feed jobs.
    """
    engine = make_engine(settings)
    app = job_app(settings, catalog, engine, extensions)

    async def watch() -> None:
        while True:
            await recover_stalled(app, engine, stalled_after)
            await asyncio.sleep(stalled_check)

    async with app.open_async():
        watcher = asyncio.create_task(watch())
        try:
            await app.run_worker_async(queues=[queue.QUEUE, *app.extra_queues], concurrency=concurrency,
                                       name="epimap",
                                       update_heartbeat_interval=heartbeat,
                                       stalled_worker_timeout=stalled_after,
                                       install_signal_handlers=install_signal_handlers)
        finally:
            watcher.cancel()
            engine.dispose()


def run_queued(bind: Bind, settings: Settings, catalog: Catalog) -> int:
    """Run the queued feed jobs here and now, on ``bind``, until none is left; return how many ran.

    For the tests, whose data lives in one uncommitted transaction no worker can see: the jobs are
    taken and finished through procrastinate's own SQL functions, as a worker would.
    """
    ran = 0
    while True:
        with session_scope(bind) as session:
            job = session.execute(text(
                "SELECT id, task_name, args FROM procrastinate_fetch_job_v2(ARRAY[:q]::varchar[], NULL)"),
                {"q": queue.QUEUE}).mappings().first()
        if job is None or job["id"] is None:
            return ran
        status = "failed"
        try:
            run_job(bind, settings, catalog, job["task_name"], job["args"])
            status = "succeeded"
        except Exception:  # as a worker does: the job has written its error; log, go on
            log.exception("job %s (%s) failed", job["id"], job["task_name"])
        finally:
            with session_scope(bind) as session:
                session.execute(text("SELECT procrastinate_finish_job_v1(:i,"
                                     " CAST(:s AS procrastinate_job_status), false)"),
                                {"i": job["id"], "s": status})
        ran += 1
