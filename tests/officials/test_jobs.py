"""Feed jobs run by real ``epimap worker`` processes on committed data, and what a killed worker leaves.

These tests commit (a worker cannot see a test's transaction): uploads in a province scope by a
principal with no account, removed at the end; nothing is published unless the feature broke.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from epimap.settings import load_settings
from layers.catalog import default_catalog
from officials import queue, uploads
from officials.accounts import Principal
from officials.audit import Where
from officials.jobs import run_queued
from tests.portal.console.helpers import pharmacy_feed, places

REPO = Path(__file__).resolve().parents[2]
WHO = Principal(None, "worker-test@test.vn", "publisher", "vn2021", "74")  # type: ignore[arg-type]
HERE = Where(ip="203.0.113.9", user_agent="pytest")


@pytest.fixture
def job_settings(database_url, tmp_path):
    return load_settings({"database_url": database_url, "upload_dir": str(tmp_path / "uploads"),
                          "basemap_url": ""})


@pytest.fixture
def workers(engine, database_url, job_settings, tmp_path):
    """Start ``epimap worker`` processes (optionally with a slow step); kill what is left; clean up."""
    started: list[subprocess.Popen] = []

    def start(step: str = "normal") -> tuple[subprocess.Popen, Path]:
        marker = tmp_path / f"marker-{len(started)}"
        env = {**os.environ, "EPIMAP_DATABASE_URL": database_url,
               "EPIMAP_UPLOAD_DIR": job_settings.upload_dir}
        with (tmp_path / f"worker-{len(started)}.log").open("wb") as log:
            command = [sys.executable, "-m", "tests.officials.slow_worker", step, str(marker)]
            process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append(process)
        return process, marker

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM feed_upload WHERE author = :a"), {"a": WHO.actor})
        conn.execute(text("DELETE FROM procrastinate_jobs WHERE queue_name = :q"), {"q": queue.QUEUE})
        conn.execute(text("DELETE FROM procrastinate_workers"))


def _queue(engine, settings, path: Path, **publish) -> int:
    with path.open("rb") as handle:
        return uploads.queue_preview(engine, settings, WHO, "pharmacies", handle, path.name, HERE,
                                     catalog=default_catalog(), publish=publish or None).id


def _upload(engine, upload_id: int):
    with engine.connect() as conn:
        return conn.execute(text("SELECT status, job_id, job_kind, job_phase, job_rows, job_percent,"
                                 " job_error FROM feed_upload WHERE id = :i"),
                            {"i": upload_id}).mappings().one()


def _job(engine, job_id: int):
    with engine.connect() as conn:
        return conn.execute(text("SELECT status::text, attempts FROM procrastinate_jobs WHERE id = :i"),
                            {"i": job_id}).one()


def _wait(what, seconds: float = 60.0, every: float = 0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(every)
    raise AssertionError("timed out waiting")


def _publications(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT (SELECT count(*) FROM publication WHERE layer_id = 'pharmacies'),"
            " (SELECT coalesce(max(id), 0) FROM publication WHERE layer_id = 'pharmacies'),"
            " (SELECT count(*) FROM feature WHERE layer_id = 'pharmacies')")).one())


def _big_feed(engine, tmp_path: Path, rows: int) -> Path:
    with engine.connect() as conn:
        spots = places(conn)
    path = pharmacy_feed(tmp_path / "nha_thuoc.csv", spots)
    lines = path.read_text(encoding="utf-8").splitlines()
    template = lines[1]
    extra = [template.replace("NT-A", f"NT-X{i}", 1) for i in range(rows)]
    path.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")
    return path


def test_a_worker_previews_an_upload_writing_its_progress(engine, job_settings, workers, tmp_path):
    path = _big_feed(engine, tmp_path, 3_000)
    upload_id = _queue(engine, job_settings, path)
    queued = _upload(engine, upload_id)
    assert (queued["status"], queued["job_kind"], queued["job_phase"]) == ("queued", "preview", "queued")
    assert _job(engine, queued["job_id"])[0] == "todo"  # queued with the upload, nothing ran it yet
    workers()
    done = _wait(lambda: (u := _upload(engine, upload_id))["job_phase"] in queue.FINISHED and u)
    assert (done["status"], done["job_phase"], done["job_percent"], done["job_error"]) == (
        "previewed", "done", 100, None)
    assert done["job_rows"] == 3_003  # written by the job's progress, through its own transactions
    assert _job(engine, done["job_id"]) == ("succeeded", 1)


def test_a_worker_killed_while_publishing_publishes_nothing_and_the_job_fails(
        engine, job_settings, workers, tmp_path):
    before = _publications(engine)
    first, marker = workers("publish")  # previews normally; hangs inside the publication
    upload_id = _queue(engine, job_settings, _big_feed(engine, tmp_path, 10))
    _wait(lambda: _upload(engine, upload_id)["status"] == "previewed")
    uploads.queue_publish(engine, job_settings, WHO, upload_id, HERE, force=True, catalog=default_catalog())
    _wait(marker.exists)  # the publication's transaction is open, staged and diffed
    job_id = _upload(engine, upload_id)["job_id"]
    assert _job(engine, job_id)[0] == "doing"
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)

    assert _publications(engine) == before  # PostgreSQL rolled the transaction back
    assert _upload(engine, upload_id)["status"] == "publishing"  # until a live worker settles it
    workers()  # a second worker finds the dead one's job once its heartbeat is 3 s old
    settled = _wait(lambda: (u := _upload(engine, upload_id))["job_phase"] == "failed" and u)
    assert settled["status"] == "previewed" and settled["job_error"]["code"] == "worker_lost"
    assert "không có gì được xuất bản" in settled["job_error"]["vi"]
    assert "nothing was published" in settled["job_error"]["en"]
    assert _job(engine, job_id)[0] == "failed"
    assert _publications(engine) == before


def test_a_worker_killed_while_previewing_is_retried_by_another(engine, job_settings, workers, tmp_path):
    first, marker = workers("locate")  # hangs inside the dry run
    upload_id = _queue(engine, job_settings, _big_feed(engine, tmp_path, 10))
    _wait(marker.exists)
    job_id = _upload(engine, upload_id)["job_id"]
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    workers()
    done = _wait(lambda: (u := _upload(engine, upload_id))["job_phase"] in queue.FINISHED and u)
    assert (done["status"], done["job_phase"]) == ("previewed", "done")
    status, attempts = _job(engine, job_id)
    assert status == "succeeded" and attempts == 2  # the killed run, then the retry


def test_jobs_run_in_the_tests_transaction_write_their_outcome(connection, job_settings, tmp_path):
    path = pharmacy_feed(tmp_path / "a.csv", places(connection))
    with path.open("rb") as handle:
        upload = uploads.queue_preview(connection, job_settings, WHO, "pharmacies", handle, path.name, HERE,
                                       catalog=default_catalog())
    assert upload.running and upload.status == "queued"
    assert run_queued(connection, job_settings, default_catalog()) == 1
    assert run_queued(connection, job_settings, default_catalog()) == 0
    found = connection.execute(text(
        "SELECT status, job_phase, report -> 'counts' ->> 'rows' FROM feed_upload WHERE id = :i"),
        {"i": upload.id}).one()
    assert tuple(found) == ("previewed", "done", "3")


def test_progress_is_written_at_a_bounded_rate_and_percent_follows_the_phase():
    assert queue.percent("reading", 0, 100) == 5 and queue.percent("reading", 100, 100) == 75
    assert queue.percent("locating", 1, None) == 75 and queue.percent("publishing", 1, 10) == 92
    now = [0.0]
    progress = queue.Progress(object(), 1, 100, every=1.0, clock=lambda: now[0])  # not an engine
    progress("reading", 1)
    progress("reading", 2)
    assert progress.written_at == 0.0 and progress.phase == "reading"
    now[0] = 0.5
    progress("reading", 3)  # too soon: skipped
    assert progress.written_at == 0.0
    progress("locating", 3)  # a new phase is always written
    assert progress.written_at == 0.5 and progress.phase == "locating"


def test_a_retried_feed_api_job_cut_short_while_publishing_publishes_nothing(connection, job_settings,
                                                                             tmp_path):
    path = pharmacy_feed(tmp_path / "a.csv", places(connection))
    publish = {"note": None, "legal_ref": None}
    with path.open("rb") as handle:
        upload = uploads.queue_preview(connection, job_settings, WHO, "pharmacies", handle, path.name, HERE,
                                       catalog=default_catalog(), publish=publish)
    # As a killed worker leaves it: previewed and claimed for the publication, which never committed.
    connection.execute(text("UPDATE feed_upload SET status = 'publishing', job_phase = 'publishing'"
                            " WHERE id = :i"), {"i": upload.id})
    before = connection.execute(text("SELECT count(*) FROM publication")).scalar()
    args = {"principal": vars(WHO), "where": vars(HERE), "upload_id": upload.id, "publish": publish}
    uploads.preview_job(connection, job_settings, default_catalog(), args)  # the retry
    found = connection.execute(text("SELECT status, job_phase, job_error ->> 'code' FROM feed_upload"
                                    " WHERE id = :i"), {"i": upload.id}).one()
    assert tuple(found) == ("previewed", "failed", "worker_lost")
    assert connection.execute(text("SELECT count(*) FROM publication")).scalar() == before
