"""Benchmark citizens' requests: intake at a sustained rate while operators work the queue.

``python -m bench.requests [--smoke] [--rate R] [--duration S] [--operators N] [--database NAME]``:

1. (re)creates its own database ``epimap_bench_requests`` (never ``epimap`` or ``epimap_test*``),
   migrates it, loads the Bình Dương 2021 boundaries, and makes an operator's account and an
   Open311 key (an API token of the operator role) for the province;
2. starts ``gunicorn -w 4`` on the portal and warms it up (16 requests, not counted);
3. sends R new requests a second (default 50: Bình Dương's peak of 15,000 a day compressed into
   minutes) for S seconds, open-loop (each at its scheduled time, latency counted from it, so a
   slow server cannot slow the load down), by Open311 ``POST /open311/v2/requests.json`` at random
   points of the province's communes; and by the public form ``POST /gui-yeu-cau`` too, every
   other request, when the portal has that route;
4. meanwhile N operators (default 4) work the queue through ``dispatch``: list the province's new
   requests (``store.queue``, the queue page's query), assign one, resolve it, again;
5. then measures the app's no-op ceiling (``wrk`` on ``/api/ping``) on the same server;
6. prints intake requests/s, p50 and p99, the queue listing's p50 and p99, the no-op ceiling,
   the count sent, accepted and stored, and PASS/MISS for each target (≥ 50 intake/s sustained
   with p99 < 200 ms; queue p99 < 300 ms; count in = count stored); then drops the database.

Exit status 1 when a request was refused or lost, or a tool failed; a missed target is printed.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.orm import Session

from bench.database import drop_database, recreate_database
from bench.database import render as _render
from bench.nearby import bench_url, parse_wrk, stop
from bench.ogc import backend_pids, cpu_seconds, group_pids
from dispatch import store, workflow
from epimap.db import session_scope
from epimap.settings import PROJECT_ROOT
from layers.catalog import default_catalog
from layers.store import sync_catalog
from officials import accounts
from officials.audit import Where

DATABASE = "epimap_bench_requests"
SET_NAME, PROVINCE = "vn2021", "74"
RATE, DURATION, SMOKE_DURATION, NOOP_SECONDS, SMOKE_NOOP_SECONDS = 50.0, 60, 3, 5, 2
OPERATORS, WORKERS, SENDERS, WARMUP = 4, 4, 64, 16
TARGET_RATE, TARGET_P99_MS, TARGET_QUEUE_P99_MS = 50.0, 200.0, 300.0
START_TIMEOUT = 180  # seconds: four workers import the portal on a busy 2-core machine
OPERATOR_PAUSE = 0.25  # seconds an operator reads between two actions
BIN = Path(sys.executable).parent
HERE = Where(ip="127.0.0.1", user_agent="bench.requests")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NOOP_LUA = 'function request() return wrk.format("GET", "/api/ping") end\n'


@dataclass
class Timings:
    """Latencies (ms) of one kind of action, and how many failed."""

    name: str
    ms: list[float] = field(default_factory=list)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ms: float, ok: bool = True) -> None:
        with self.lock:
            self.ms.append(ms)
            self.errors += 0 if ok else 1

    def pct(self, q: float) -> float:
        """Return a percentile of the latencies (0 when there are none)."""
        if not self.ms:
            return 0.0
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# --------------------------------------------------------------------------- data


def prepare(url: URL) -> tuple[Engine, str, accounts.Principal]:
    """Recreate the database; return its engine, an Open311 key and an operator of the province."""
    recreate_database(url)
    engine = create_engine(_render(url), pool_size=OPERATORS + 2)
    with Session(engine) as session, session.begin():
        sync_catalog(session, default_catalog())
    with session_scope(engine) as session:
        admin, operator = (accounts.create_account(session, f"bench-{role}@bench.vn",
                                                   accounts.generate_password(), role, SET_NAME, PROVINCE,
                                                   by=None, actor="bench") for role in ("admin", "operator"))
        _token, key = accounts.create_token(session, accounts.principal_of(admin), "bench partner",
                                            "operator", PROVINCE, HERE)
    return engine, key, accounts.principal_of(operator)


def places(engine: Engine, per_commune: int, seed: int) -> list[tuple[float, float]]:
    """Return random points inside the province's communes (a few per commune)."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT ST_X(d.geom) AS x, ST_Y(d.geom) AS y FROM (SELECT (ST_Dump(ST_GeneratePoints(c.geom, :n,"
            " :seed))).geom FROM admin_unit c JOIN admin_unit d ON d.boundary_set = c.boundary_set"
            " AND d.code = c.parent_code WHERE c.boundary_set = :s AND c.level = 'commune'"
            " AND d.parent_code = :p) d"),
            {"n": per_commune, "seed": seed, "s": SET_NAME, "p": PROVINCE}).all()
    return [(r.x, r.y) for r in rows]


def stored(engine: Engine) -> int:
    """Return how many requests the database holds."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM service_request")).scalar_one()


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    """Return a free local TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: URL, port: int, log: Path) -> subprocess.Popen:
    """Start the portal under gunicorn and wait until it answers."""
    env = dict(os.environ, EPIMAP_DATABASE_URL=_render(url), EPIMAP_API_RATE_LIMIT="",
               EPIMAP_REQUEST_FORM_RATE_LIMIT="")  # the form door limits clients per IP
    process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
        [str(BIN / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "portal:create_app()"],
        cwd=PROJECT_ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ping", timeout=2):  # noqa: S310
                return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT} s: {log.read_text()[-2000:]}")


def has_form(base: str) -> bool:
    """Tell whether the portal has the public request form (another door, built apart)."""
    try:
        with urllib.request.urlopen(f"{base}/gui-yeu-cau", timeout=10) as answer:  # noqa: S310 - local
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


# --------------------------------------------------------------------------- the doors


def post(url: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> int:
    """POST a form; return the answer's status (a refusal is a status, not an exception)."""
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - local server
            answer.read()
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def open311_intake(base: str, key: str, point: tuple[float, float], n: int) -> bool:
    """File one request by Open311; tell whether it was accepted."""
    kinds = list(default_catalog().services)
    status = post(f"{base}/open311/v2/requests.json", {
        "api_key": key, "service_code": kinds[n % len(kinds)], "description": f"Yêu cầu thử tải số {n}",
        "lat": f"{point[1]:.6f}", "long": f"{point[0]:.6f}", "phone": f"09{n:08d}"})
    return status == 201


def form_intake(base: str, point: tuple[float, float], n: int) -> bool:
    """File one request by the public form (its form token read from the page first)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(f"{base}/gui-yeu-cau", timeout=30) as page:
        found = _CSRF.search(page.read().decode("utf-8", "replace"))
    fields = {"kind": "food", "description": f"Yêu cầu thử tải số {n}", "phone": f"08{n:08d}",
              "lat": f"{point[1]:.6f}", "lon": f"{point[0]:.6f}", "consent": "1"}
    if found:
        fields["csrf_token"] = found.group(1)
    request = urllib.request.Request(f"{base}/gui-yeu-cau", data=urllib.parse.urlencode(fields).encode(),
                                     method="POST")  # noqa: S310
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status in (200, 201, 303)
    except urllib.error.HTTPError:
        return False


def run_intake(base: str, key: str, points: list[tuple[float, float]], rate: float, seconds: int,
               form: bool) -> tuple[Timings, float, int]:
    """Send ``rate`` requests a second for ``seconds``, open-loop; return timings, achieved rate, sent."""
    timings, total = Timings("intake"), int(rate * seconds)
    start = time.monotonic() + 0.2

    def one(n: int) -> None:
        scheduled = start + n / rate
        time.sleep(max(0.0, scheduled - time.monotonic()))
        point = points[n % len(points)]
        ok = form_intake(base, point, n) if form and n % 2 else open311_intake(base, key, point, n)
        timings.add((time.monotonic() - scheduled) * 1000, ok)

    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(one, range(total)))
    return timings, total / (time.monotonic() - start), total


def operate(engine: Engine, principal: accounts.Principal, stop_at: float, timings: Timings,
            done: dict[str, int], seed: int) -> None:
    """Work the queue until ``stop_at``: list the new requests, assign one, resolve it."""
    chooser = random.Random(seed)  # noqa: S311 - picking rows, not secrets
    with session_scope(engine) as session:
        codes = tuple(accounts.units_within(session, SET_NAME, PROVINCE))
    while time.monotonic() < stop_at:
        began = time.monotonic()
        with session_scope(engine) as session:
            waiting = store.queue(session, store.QueueFilter(SET_NAME, codes, ("new",)), datetime.now(UTC),
                                  limit=50)
        timings.add((time.monotonic() - began) * 1000)
        if waiting:
            _work(engine, principal, chooser.choice(waiting).id, done)
        time.sleep(OPERATOR_PAUSE)


def _work(engine: Engine, principal: accounts.Principal, request_id: int, done: dict[str, int]) -> None:
    for status in ("assigned", "resolved"):
        try:
            with session_scope(engine) as session:
                workflow.move(session, principal, request_id, status, datetime.now(UTC), assignee="Tổ 1")
            done[status] = done.get(status, 0) + 1
        except accounts.Conflict:  # another operator took it first
            done["conflicts"] = done.get("conflicts", 0) + 1
            return


def cpu_used(server: subprocess.Popen, engine: Engine) -> dict[str, float]:
    """Return the CPU seconds the server's processes and the database's backends have used so far."""
    return {"app": sum(cpu_seconds(group_pids(server.pid)).values()),
            "db": sum(cpu_seconds(backend_pids(engine)).values())}


def noop_ceiling(port: int, seconds: int, workdir: Path):
    """Return what wrk measures on ``/api/ping`` (no database): the app's ceiling on this machine."""
    script = workdir / "noop.lua"
    script.write_text(NOOP_LUA)
    done = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(script),  # noqa: S603
                           f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True)
    return parse_wrk("no-op", done.stdout)


# --------------------------------------------------------------------------- the report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(intake: Timings, rate: float, sent: int, queue: Timings, done: dict[str, int], noop,
           before: int, after: int) -> list[str]:
    """Return the printed lines: figures, then each target with PASS or MISS."""
    accepted = len(intake.ms) - intake.errors
    kept = after - before
    fast = rate >= TARGET_RATE * 0.98 and intake.pct(99) < TARGET_P99_MS  # 2%: the schedule's rounding
    return [
        f"intake:   {rate:8.1f} req/s  p50 {intake.pct(50):7.1f} ms  p99 {intake.pct(99):7.1f} ms"
        f"  sent {sent}  accepted {accepted}  refused {intake.errors}",
        f"queue:    {len(queue.ms):8d} lists  p50 {queue.pct(50):7.1f} ms  p99 {queue.pct(99):7.1f} ms"
        f"  assigned {done.get('assigned', 0)}  resolved {done.get('resolved', 0)}"
        f"  conflicts {done.get('conflicts', 0)}",
        f"no-op:    {noop.rps:8.1f} req/s  p50 {noop.p50_ms:7.2f} ms  p99 {noop.p99_ms:7.2f} ms"
        f"  (wrk -t2 -c16 /api/ping, the app's ceiling)",
        f"stored:   {kept} of {accepted} accepted ({sent} sent)",
        f"target intake >= {TARGET_RATE:g} req/s sustained with p99 < {TARGET_P99_MS:g} ms: {verdict(fast)}"
        f" ({rate:.1f} req/s, p99 {intake.pct(99):.1f} ms)",
        f"target queue p99 < {TARGET_QUEUE_P99_MS:g} ms: {verdict(queue.pct(99) < TARGET_QUEUE_P99_MS)}"
        f" ({queue.pct(99):.1f} ms)",
        f"target count in = count stored: {verdict(kept == accepted == sent)} ({sent} sent, {kept} stored)",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.requests", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_DURATION}-second runs")
    parser.add_argument("--rate", type=float, default=RATE, help="new requests a second (default 50)")
    parser.add_argument("--duration", type=int, help=f"seconds of intake (default {DURATION})")
    parser.add_argument("--operators", type=int, default=OPERATORS, help="operators working the queue")
    parser.add_argument("--database", default=DATABASE, help=f"database to create and drop ({DATABASE}*)")
    parser.add_argument("--seed", type=int, default=20210816)
    args = parser.parse_args(argv)
    if not args.database.startswith(DATABASE):
        raise SystemExit(f"refusing to use database {args.database!r}: its name must start with {DATABASE}")
    seconds = args.duration or (SMOKE_DURATION if args.smoke else DURATION)
    url = bench_url(args.database)
    sys.stdout.reconfigure(line_buffering=True)
    print(f"Requests benchmark: intake at {args.rate:g}/s for {seconds} s while {args.operators} operators"
          f" work the queue; gunicorn -w {WORKERS}; database {args.database}")
    started = time.monotonic()
    engine, server = None, None
    try:
        engine, key, operator = prepare(url)
        points = places(engine, 3, args.seed)
        with tempfile.TemporaryDirectory(prefix="bench-requests-") as tmp:
            workdir, port = Path(tmp), free_port()
            server = start_gunicorn(url, port, workdir / "gunicorn.log")
            base = f"http://127.0.0.1:{port}"
            form = has_form(base)
            print(f"setup: {len(points)} places in {time.monotonic() - started:.1f} s;"
                  f" {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; doors: Open311"
                  + (" and the form /gui-yeu-cau" if form else " (no form /gui-yeu-cau in this portal)"))
            alone = Timings("one at a time")
            for n in range(WARMUP):  # each worker's first requests set up its catalogue and connections
                began = time.monotonic()
                ok = open311_intake(base, key, points[n % len(points)], 10**7 + n)
                if n >= WARMUP // 2:
                    alone.add((time.monotonic() - began) * 1000, ok)
            before, cpu = stored(engine), cpu_used(server, engine)
            queue, done = Timings("queue"), {}
            stop_at = time.monotonic() + seconds + 0.5
            operators = [threading.Thread(target=operate, args=(engine, operator, stop_at, queue, done, seed))
                         for seed in range(args.seed, args.seed + args.operators)]
            for thread in operators:
                thread.start()
            intake, rate, sent = run_intake(base, key, points, args.rate, seconds, form)
            for thread in operators:
                thread.join()
            after, cpu = stored(engine), {k: v - cpu[k] for k, v in cpu_used(server, engine).items()}
            noop = noop_ceiling(port, SMOKE_NOOP_SECONDS if args.smoke else NOOP_SECONDS, workdir)
        print(f"one at a time: p50 {alone.pct(50):.1f} ms over the last {WARMUP // 2} warm-up requests;"
              f" during the run, CPU per intake request: app {cpu['app'] * 1000 / max(sent, 1):.1f} ms,"
              f" PostgreSQL {cpu['db'] * 1000 / max(sent, 1):.1f} ms (operators' work included)")
        for line in report(intake, rate, sent, queue, done, noop, before, after):
            print(line)
        return 1 if intake.errors or after - before != sent or noop.errors else 0
    finally:
        if server is not None:
            stop(server)
        if engine is not None:
            engine.dispose()
        drop_database(url)
        print(f"dropped database {args.database}; total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
