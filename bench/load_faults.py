"""The load benchmark's faults, each under the same mixed load, each printed as one line.

1. ``postgis restart``: the bench's own cluster stopped (``pg_ctl stop -m fast``) and started
   again while gunicorn serves the mix.  Answers of 400 or more are counted by second (the Lua
   script's ``response``): they must all fall inside the outage window (from the stop to one
   second after the cluster accepts connections again; socket errors, which have no time, count
   as outside), the same gunicorn workers must serve afterwards, each door answering again.
2. ``worker killed mid-publish``: a large pharmacies feed posted to the feed API with
   ``?publish=1``; once its job has claimed the publication (``feed_upload.status`` publishing) and
   worked at it a while, the worker gets SIGKILL.  The layer must then hold the publication
   wholly (every row) or not at all; a second worker, finding the dead one's job stalled, must
   settle the upload (failed with ``worker_lost`` and back to previewed, or published when the
   publication had committed), per officials/jobs.py.
3. ``feed burst``: small feeds posted at once while a large one publishes (a worker running two
   jobs at a time): every upload must end published or refused with a message in both languages,
   none left queued or running, one publication per published upload.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from bench.load import (
    MARKER,
    PROVINCE,
    SET_NAME,
    Bench,
    Mix,
    Run,
    check_doors,
    parse_run,
    stored_submissions,
    worker_pids,
    wrk_command,
)
from epimap import localdb
from epimap.settings import PROJECT_ROOT

LAYER = "pharmacies"
FINISHED = ("done", "failed")
OUTAGE_S = 2.0  # seconds the cluster stays down
BIG_ROWS, SMOKE_BIG_ROWS = 100_000, 10_000
BURST, SMOKE_BURST, SMALL_ROWS = 10, 4, 5
RESTART_S, SMOKE_RESTART_S = 60, 10
SETTLE_S = 600  # seconds at most for a job to end
COLUMNS = ("Mã", "Tên nhà thuốc", "Vĩ độ", "Kinh độ", "Giờ mở cửa")


@dataclass
class Outcome:
    """A fault's line: whether its targets held, whether its data stayed consistent, the figures."""

    name: str
    passed: bool
    consistent: bool
    detail: str

    def line(self) -> str:
        return f"fault {self.name}: {'PASS' if self.passed else 'MISS'} ({self.detail})"


def _wait(what: Callable[[], Any], seconds: float, every: float = 0.05) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(every)
    return None


class Faults:
    """The three faults, run in turn on the bench's portal, cluster and database."""

    def __init__(self, bench: Bench, engine: Engine, server: subprocess.Popen, script: Path, token: str,
                 smoke: bool, mix: Mix, accepted: int, rows: int | None = None) -> None:
        self.bench, self.engine, self.server, self.script, self.mix = bench, engine, server, script, mix
        self.token, self.smoke = token, smoke
        self.rows = rows or (SMOKE_BIG_ROWS if smoke else BIG_ROWS)
        self.accepted, self.submitting = accepted, mix.submit is not None
        self.workers: list[subprocess.Popen] = []

    def run_all(self) -> Iterator[Outcome]:
        try:
            for fault in (self.restart, self.killed_worker, self.burst):
                yield fault()
        finally:
            for worker in self.workers:
                _end(worker)

    # ----------------------------------------------------------------------- load and submissions

    @contextmanager
    def load(self, name: str) -> Iterator[list[Run]]:
        """Run the mix until the block ends (wrk stopped with SIGINT); the run is in the list after."""
        process = subprocess.Popen(wrk_command(self.bench.base, self.script, 86_400),  # noqa: S603
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        runs: list[Run] = []
        try:
            time.sleep(1)
            yield runs
        finally:
            process.send_signal(signal.SIGINT)
            out, _err = process.communicate(timeout=120)
            runs.append(parse_run(name, out))
            self.accepted += runs[0].accepted

    def stored(self) -> tuple[str, bool]:
        """Return the submissions' account so far, and whether each accepted one is stored once."""
        if not self.submitting:
            return "", True
        rows, distinct = stored_submissions(self.engine, MARKER)
        ok = rows == distinct >= self.accepted  # answers cut short when wrk stops were stored too
        return f"; submissions {self.accepted:,} accepted, {rows:,} stored (exactly once: {ok})", ok

    # ----------------------------------------------------------------------- 1. the cluster restarted

    def restart(self) -> Outcome:
        seconds = SMOKE_RESTART_S if self.smoke else RESTART_S
        before = worker_pids(self.server.pid)
        with self.load("restart") as runs:
            time.sleep(seconds * 0.25)
            down_at = time.time()
            localdb.down(self.bench.cluster)
            time.sleep(OUTAGE_S)
            localdb.up(self.bench.cluster)
            up_at = time.time()
            time.sleep(max(3.0, seconds * 0.75 - (up_at - down_at)))
        run = runs[0]
        window = range(int(down_at), int(up_at) + 2)
        inside = sum(n for second, n in run.errors_at.items() if second in window)
        outside = run.errors - inside
        late = sum(n for second, n in run.errors_at.items() if second >= window.stop)
        same = self.server.poll() is None and worker_pids(self.server.pid) == before
        try:
            check_doors(self.bench.base, self.mix)
            answering = True
        except (OSError, urllib.error.HTTPError):
            answering = False
        stored, stored_ok = self.stored()
        passed = outside == 0 and same and answering and stored_ok
        return Outcome("postgis restart", passed, answering and stored_ok, (
            f"outage {up_at - down_at:.1f} s; {run.requests:,} requests, {run.rps:,.1f} req/s, p99"
            f" {run.p99_ms:.0f} ms; {inside:,} errors inside the outage window"
            f" ({_codes(run)}), {outside:,} outside ({late:,} after it); gunicorn"
            f" {'not restarted, same workers' if same else 'RESTARTED or workers replaced'};"
            f" doors answer again: {answering}{stored}"))

    # ----------------------------------------------------------------------- 2. a worker killed

    def killed_worker(self) -> Outcome:
        rows = self.rows
        feed = self.feed(f"kill-{rows}", rows)
        before = self.layer_state()
        worker = self.start_worker()
        with self.load("killed") as runs:
            posted_at = time.monotonic()
            upload = self.post_feed(feed)
            claimed = _wait(lambda: (u := self.upload(upload))["status"] != "queued" and u, SETTLE_S)
            previewed_in = time.monotonic() - posted_at
            if claimed and claimed["status"] == "publishing":
                time.sleep(min(previewed_in * 0.4, 30))  # well inside the publication's transaction
            at_kill = self.upload(upload)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
            # Its server process runs on to the end of the statement at hand before it finds its
            # client gone and rolls back: judge what it left once its publishing lock is released.
            released = _wait(self.no_publisher, SETTLE_S, 0.2)
            left = self.layer_state()
            made = self.publication_of(at_kill["sha256"])
            self.start_worker()
            settled = _wait(lambda: (u := self.upload(upload))["job_phase"] in FINISHED and u, SETTLE_S, 0.2)
        run = runs[0]
        mid = at_kill["status"] == "publishing"
        if made is None:
            whole, what = left == before, "absent"
        else:
            whole = made[1] == rows
            what = f"wholly there ({made[1]:,} rows)" if whole else f"HALF-MADE ({made[1]:,} rows)"
        if settled is None:
            fate, fate_ok = "not settled", False
        else:
            error = settled["job_error"] or {}
            fate = f"{settled['status']}, {error.get('code') or 'no error'}"
            fate_ok = (settled["status"] == "published" and made is not None) or (
                settled["status"] == "previewed" and error.get("code") == "worker_lost" and made is None
                and bool(error.get("vi")) and bool(error.get("en")))
        stored, stored_ok = self.stored()
        consistent = bool(released) and whole and fate_ok and stored_ok
        return Outcome("worker killed mid-publish", consistent and mid and run.errors == 0, consistent, (
            f"{rows:,}-row feed previewed in {previewed_in:.1f} s; killed at phase {at_kill['job_phase']}"
            f" ({at_kill['job_rows']:,} rows, upload {at_kill['status']}"
            f"{'' if mid else ': NOT mid-publish'});"
            f" publication {what}; after a new worker: upload {fate};"
            f" load {run.requests:,} requests, {run.errors:,} errors ({_codes(run)}), p99 {run.p99_ms:.0f} ms"
            f"{stored}"))

    # ----------------------------------------------------------------------- 3. a burst of uploads

    def burst(self) -> Outcome:
        rows, count = self.rows, SMOKE_BURST if self.smoke else BURST
        big = self.feed(f"burst-{rows}", rows)
        smalls = [self.feed(f"small-{i}", SMALL_ROWS) for i in range(count)]
        publications_before = self.layer_state()[0]
        for worker in self.workers:
            _end(worker)
        self.start_worker(concurrency=2)
        with self.load("burst") as runs:
            big_id = self.post_feed(big)
            _wait(lambda: self.upload(big_id)["status"] == "publishing", SETTLE_S)
            answers: list[int | str] = []
            threads = [threading.Thread(target=lambda f=f: answers.append(self._try_post(f))) for f in smalls]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            ids = [big_id, *(a for a in answers if isinstance(a, int))]
            _wait(lambda: all(self.upload(i)["job_phase"] in FINISHED for i in ids), SETTLE_S, 0.2)
        run = runs[0]
        outcomes: Counter[str] = Counter()
        lost, unclear, reason = 0, 0, ""
        for upload_id in ids:
            found = self.upload(upload_id)
            error = found["job_error"] or {}
            if found["job_phase"] not in FINISHED:
                lost += 1
            elif found["status"] == "published" and found["publication_id"] is not None:
                outcomes["published"] += 1
            else:
                outcomes[f"refused {error.get('code') or '?'}"] += 1
                reason = reason or (f"{error.get('en')} rows rejected: {found['rejected']},"
                                    f" refused: {found['refused']}")
                unclear += not (error.get("vi") and error.get("en"))
        refused_at_door = [a for a in answers if not isinstance(a, int)]
        made = self.layer_state()[0] - publications_before
        once = made == outcomes["published"]
        stored, stored_ok = self.stored()
        consistent = lost == 0 and unclear == 0 and once and not refused_at_door and stored_ok
        figures = ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items()))
        return Outcome("feed burst", consistent and run.errors == 0, consistent, (
            f"{count} small feeds while a {rows:,}-row one publishes: {figures}"
            f"{f' ({reason!r})' if reason else ''}; {lost} lost, {unclear}"
            f" refused without a message, {len(refused_at_door)} refused at the door"
            f"{' ' + str(refused_at_door[:3]) if refused_at_door else ''}; {made} new publications;"
            f" load {run.requests:,} requests, {run.errors:,} errors ({_codes(run)}), p99 {run.p99_ms:.0f} ms"
            f"{stored}"))

    # ----------------------------------------------------------------------- feeds, uploads, workers

    def feed(self, name: str, rows: int) -> Path:
        """Write a pharmacies feed of ``rows`` points inside the province (0.01° from its edge)."""
        with self.engine.connect() as conn:
            points = conn.execute(text(
                "SELECT ST_Y(p.geom), ST_X(p.geom) FROM admin_unit a,"
                " ST_Dump(ST_GeneratePoints(ST_Buffer(a.geom, -0.01), :n, :seed)) p"
                " WHERE a.boundary_set = :s AND a.code = :c"),
                {"n": rows, "seed": abs(hash(name)) % 100_000 + 1, "s": SET_NAME, "c": PROVINCE}).all()
        path = self.bench.workdir / f"nha_thuoc_{name}.csv"
        tag = uuid.uuid4().hex[:8]  # a file of its own each run: its sha256 names the publication
        lines = [",".join(COLUMNS)] + [f"NT-{tag}-{i},Nhà thuốc {name} {i},{lat:.6f},{lon:.6f},07:00-21:00"
                                       for i, (lat, lon) in enumerate(points)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def post_feed(self, path: Path) -> int:
        """Post a feed to the feed API with ``?publish=1``; return the upload's id (a 202)."""
        boundary = uuid.uuid4().hex
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
                "Content-Type: text/csv\r\n\r\n")
        body = head.encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(  # noqa: S310 - our own server
            f"{self.bench.base}/api/layers/{LAYER}/feeds?publish=1", data=body, method="POST",
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
            if answer.status != 202:
                raise RuntimeError(f"feed API answered {answer.status}")
            return int(json.loads(answer.read())["upload"])

    def _try_post(self, path: Path) -> int | str:
        try:
            return self.post_feed(path)
        except urllib.error.HTTPError as exc:
            return f"{exc.code} {exc.read()[:200]!r}"

    def upload(self, upload_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return dict(conn.execute(text(
                "SELECT status, job_kind, job_phase, job_rows, job_error, sha256, publication_id,"
                " report -> 'counts' ->> 'rejected' AS rejected, report -> 'refused' ->> 'code' AS refused"
                " FROM feed_upload WHERE id = :i"), {"i": upload_id}).mappings().one())

    def no_publisher(self) -> bool:
        """Tell whether no transaction holds a layer's publishing lock (an advisory lock)."""
        with self.engine.connect() as conn:
            held = conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).scalar()
        return not held

    def layer_state(self) -> tuple[int, int]:
        """Return the layer's publications and current features."""
        with self.engine.connect() as conn:
            return tuple(conn.execute(text(  # type: ignore[return-value]
                "SELECT (SELECT count(*) FROM publication WHERE layer_id = :l),"
                " (SELECT count(*) FROM feature WHERE layer_id = :l AND valid_to_pub IS NULL)"),
                {"l": LAYER}).one())

    def publication_of(self, sha256: str) -> tuple[int, int] | None:
        """Return the publication made from a file and the features it added, or None."""
        with self.engine.connect() as conn:
            found = conn.execute(text(
                "SELECT p.id, (SELECT count(*) FROM feature f"
                "              WHERE f.layer_id = :l AND f.valid_from_pub = p.id)"
                " FROM publication p WHERE p.layer_id = :l AND p.source_sha256 = :sha"),
                {"l": LAYER, "sha": sha256}).first()
        return tuple(found) if found else None  # type: ignore[return-value]

    def start_worker(self, concurrency: int = 1) -> subprocess.Popen:
        """Start ``epimap worker`` (this tree's code) finding a dead worker's jobs within seconds."""
        log = (self.bench.workdir / f"worker-{len(self.workers)}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", "from epimap.cli import main; main()", "worker", "--concurrency",
             str(concurrency), "--heartbeat", "1", "--stalled-after", "3", "--stalled-check", "1"],
            cwd=PROJECT_ROOT, env=self.bench.env(), stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(process)
        return process


def _end(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _codes(run: Run) -> str:
    codes = ", ".join(f"{status}: {n:,}" for status, n in sorted(run.statuses.items()) if status >= 400)
    return codes or "none"

