"""Benchmark a mixed citizen load on the portal, then the same load through three faults.

``python -m bench.load [--smoke] [--duration S] [--database NAME] [--submission-door PATH]
[--feed-rows N] [--no-faults]``:

1. starts a throwaway PostgreSQL + PostGIS cluster of its own (a temporary directory, a free
   port, ``epimap.localdb``): the restart fault stops it, so never the shared one; creates the
   database ``epimap_bench_load`` in it, migrates it, loads the Bình Dương 2021 boundaries, the
   demo feeds and a publisher's API token;
2. starts ``gunicorn -w 4`` on the portal (rate limit off) and checks each door answers;
3. **load**: ``wrk -t2 -c64 --latency`` for ``--duration`` seconds (600; smoke 5) with a Lua
   script mixing, per 50 requests, 10 map pages (``/map/<unit>``, Vietnamese and English), 12
   boundary tiles, 12 layer tiles, 6 ``/api/nearby``, 4 finder pages (``/tim-diem?q=``), 5
   TileJSON documents and 1 request submission (``POST /open311/v2/requests.json``; when that
   door answers 404 or 405 at the start it is printed ``submission door absent: SKIP`` and the
   slot is a map page); the gunicorn workers' resident memory is sampled throughout;
4. **ceiling**: the same gunicorn serving ``/static/epimap.css`` with the same wrk (for the
   run's duration, at most 60 s);
5. **faults**, each with the same load running (bench/load_faults.py): the cluster restarted
   (``localdb.down`` then ``localdb.up``); the job worker SIGKILLed while it publishes a large
   feed, then a worker started again; a burst of small feed uploads while a large one publishes;
6. prints one line per figure and per fault, each target with PASS/MISS, then ``verdict``;
   stops gunicorn and the workers, drops the database and destroys the cluster, also on failure.

Targets (issue 15): under the load, p99 < 250 ms, 0 errors, the workers' memory flat (the mean
of the last minute within 10 % of the first; smoke: the last fifth against the first) and at
least 0.5x the static file's requests/s; every accepted submission stored exactly once; and
through each fault, errors only inside the outage window, recovery without restarting the app,
no publication half-made, no upload lost.  Exit status 1 when a tool fails or a fault's
consistency check (not a speed target) fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, make_url, text

from bench.database import drop_database, recreate_database
from bench.database import render as _render
from bench.nearby import _free_port, parse_wrk, stop
from epimap import localdb
from epimap.db import session_scope
from epimap.demo import load_demo_feeds
from epimap.settings import PROJECT_ROOT, Settings, load_settings
from officials import accounts
from officials.audit import Where

DATABASE = "epimap_bench_load"
PROTECTED = frozenset({"epimap", "epimap_test", "postgres", "template0", "template1"})
SET_NAME, PROVINCE = "vn2021", "74"
DURATION, SMOKE_DURATION, STATIC_MAX = 600, 5, 60
CONNECTIONS, THREADS, WORKERS = 64, 2, 4
STARTUP_S = 180
STATIC = "/static/epimap.css"
SUBMISSION_DOOR = "/open311/v2/requests.json"
TARGET_P99_MS, TARGET_STATIC_RATIO, TARGET_MEMORY_DRIFT = 250.0, 0.5, 0.10
MARKER = "bench-load"  # the submissions' descriptions start with it, to count them stored
POINT_LAYERS = ("testing_sites", "vaccination_sites", "checkpoints", "quarantine_facilities")
NEARBY_LAYERS = ("testing_sites", "vaccination_sites")
BIN = Path(sys.executable).parent
DATA = PROJECT_ROOT / "data"
HERE = Where(ip="127.0.0.1", user_agent="bench.load")

# Requests per 50 of the mix, in the order of the Lua script's slots.
MIX = (("map", 10), ("boundary tile", 12), ("layer tile", 12), ("nearby", 6), ("finder", 4),
       ("tilejson", 5), ("submission", 1))

LUA = """
local doors = {doors}
local west, south, east, north = {west}, {south}, {east}, {north}
local nearby_layers = {nearby_layers}
local submit, submission_door, marker, api_key = {submit}, {submission_door}, {marker}, {api_key}
local weights = {weights}
local threads = {{}}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(os.time() * 1000 + id)
  sent, accepted, statuses, errors_at = 0, 0, {{}}, {{}}
end
local function pick(list) return list[math.random(#list)] end
function request()
  local r, slot = math.random(50), 0
  for i, w in ipairs(weights) do
    r = r - w
    if r <= 0 then slot = i break end
  end
  if slot == 4 then
    local lon = west + math.random() * (east - west)
    local lat = south + math.random() * (north - south)
    return wrk.format("GET", string.format("/api/nearby?lat=%.6f&lon=%.6f&layer=%s&limit=10",
                                           lat, lon, pick(nearby_layers)))
  end
  if slot == 7 then
    if not submit then return wrk.format("GET", pick(doors[1])) end
    sent = sent + 1
    local lon = west + 0.3 * (east - west) + math.random() * 0.2 * (east - west)
    local lat = south + 0.3 * (north - south) + math.random() * 0.2 * (north - south)
    local body = string.format("service_code=%s&lat=%.6f&long=%.6f&description=%s+%d-%d-%d"
                               .. "&first_name=Bench&phone=0912345678&api_key=%s",
                               submit, lat, lon, marker, id, sent, math.random(1000000000), api_key)
    return wrk.format("POST", submission_door,
                      {{["Content-Type"] = "application/x-www-form-urlencoded"}}, body)
  end
  return wrk.format("GET", pick(doors[slot]))
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 400 then
    local second = os.time()
    errors_at[second] = (errors_at[second] or 0) + 1
  elseif submit and (status == 200 or status == 201) and string.find(body, "service_request_id", 1, true) then
    accepted = accepted + 1
  end
end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("lua accepted %d\\n", thread:get("accepted")))
    for status, n in pairs(thread:get("statuses")) do
      io.write(string.format("lua status %d %d\\n", status, n))
    end
    for second, n in pairs(thread:get("errors_at")) do
      io.write(string.format("lua error_at %d %d\\n", second, n))
    end
  end
end
"""


@dataclass
class Run:
    """One wrk run of the mix: throughput, latency, answers by status and errors by second."""

    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers and socket errors
    statuses: dict[int, int] = field(default_factory=dict)
    errors_at: dict[int, int] = field(default_factory=dict)  # unix second -> answers >= 400
    accepted: int = 0  # submissions answered with a service_request_id

    def line(self) -> str:
        codes = ", ".join(f"{s}: {n:,}" for s, n in sorted(self.statuses.items()) if s >= 400)
        return (f"{self.name + ':':<9} {self.rps:>9,.1f} req/s  p50 {self.p50_ms:7.2f} ms"
                f"  p99 {self.p99_ms:7.2f} ms"
                f"  {self.requests:,} requests, {self.errors:,} errors" + (f" ({codes})" if codes else ""))


def parse_run(name: str, output: str) -> Run:
    """Read a wrk run of the mix: wrk's figures and what the Lua script's ``done`` printed."""
    base = parse_wrk(name, output)
    total = re.search(r"(\d+) requests in", output)
    statuses: dict[int, int] = {}
    errors_at: dict[int, int] = {}
    for status, n in re.findall(r"^lua status (\d+) (\d+)$", output, re.M):
        statuses[int(status)] = statuses.get(int(status), 0) + int(n)
    for second, n in re.findall(r"^lua error_at (\d+) (\d+)$", output, re.M):
        errors_at[int(second)] = errors_at.get(int(second), 0) + int(n)
    accepted = sum(int(n) for n in re.findall(r"^lua accepted (\d+)$", output, re.M))
    return Run(name, base.rps, base.p50_ms, base.p99_ms, int(total.group(1)) if total else 0, base.errors,
               statuses, errors_at, accepted)


# --------------------------------------------------------------------------- cluster and database


@dataclass(frozen=True)
class Bench:
    """Where the benchmark runs: its cluster, database, directory and the portal's port."""

    settings: Settings
    cluster: localdb.Cluster
    url: URL
    workdir: Path
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Return the environment of the portal and the job workers."""
        return dict(os.environ, EPIMAP_DATABASE_URL=_render(self.url), EPIMAP_API_RATE_LIMIT="",
                    EPIMAP_VAR_DIR=str(self.workdir), EPIMAP_UPLOAD_DIR=str(self.workdir / "uploads"),
                    EPIMAP_DB_PORT=str(self.cluster.port), EPIMAP_BASEMAP_URL="")


@contextmanager
def own_cluster(database: str) -> Iterator[Bench]:
    """Start a throwaway cluster in a temporary directory on a free port; destroy it afterwards."""
    if database in PROTECTED or not re.fullmatch(r"[a-z_][a-z0-9_]*", database):
        raise SystemExit(f"refusing to use database {database!r} for the benchmark")
    root = Path(tempfile.mkdtemp(prefix="epimap-bench-load-"))
    root.chmod(0o755)  # PostgreSQL runs as postgres when we are root
    settings = load_settings({"var_dir": root, "db_port": _free_port(), "database_url": ""})
    cluster = localdb.cluster_for(settings)
    try:
        localdb.up(cluster)
        url = make_url(settings.resolved_database_url()).set(database=database)
        yield Bench(settings, cluster, url, root)
    finally:
        localdb.destroy(cluster)
        shutil.rmtree(root, ignore_errors=True)


def create_database(url: URL) -> Engine:
    """Create and migrate the database; load the boundaries and the demo feeds."""
    recreate_database(url)
    engine = create_engine(_render(url), pool_pre_ping=True)  # the restart fault drops its connections
    load_demo_feeds(engine, DATA, SET_NAME, PROVINCE)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return engine


def make_token(engine: Engine) -> str:
    """Return a fresh publisher's API token for the province (its creator: a province admin)."""
    with session_scope(engine) as session:
        admin = accounts.create_account(session, "bench-load-admin@bench.vn", secrets.token_urlsafe(16),
                                        "admin", SET_NAME, PROVINCE, by=None, actor="bench.load")
    with session_scope(engine) as session:
        _token, raw = accounts.create_token(session, accounts.principal_of(admin), "bench.load", "publisher",
                                            PROVINCE, HERE)
    return raw


# --------------------------------------------------------------------------- the mix


@dataclass
class Mix:
    """The URLs the load asks, by slot, and the province's bounding box."""

    doors: list[list[str]]
    bbox: tuple[float, float, float, float]
    submit: str | None  # the request kind submitted, None when the door is absent


def _tiles(bbox: tuple[float, float, float, float], zooms: range, most: int) -> list[tuple[int, int, int]]:
    """Return up to ``most`` tiles per zoom covering the box."""
    import math

    def tile(lon: float, lat: float, z: int) -> tuple[int, int]:
        n = 2 ** z
        y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
        return int((lon + 180) / 360 * n), int(y)

    found = []
    for z in zooms:
        (x0, y0), (x1, y1) = tile(bbox[0], bbox[3], z), tile(bbox[2], bbox[1], z)
        cells = [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        found += cells[:: max(1, len(cells) // most)][:most]
    return found


def build_mix(engine: Engine, base: str, submission_door: str) -> Mix:
    """Return the mix's URLs: units, tiles of each point layer's publication, names to find."""
    with engine.connect() as conn:
        bbox = tuple(conn.execute(text(
            "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM admin_unit"
            " WHERE boundary_set = :s AND code = :c"), {"s": SET_NAME, "c": PROVINCE}).one())
        districts = list(conn.execute(text(
            "SELECT code FROM admin_unit WHERE boundary_set = :s AND parent_code = :c ORDER BY code"),
            {"s": SET_NAME, "c": PROVINCE}).scalars())
        names = list(conn.execute(text(
            "SELECT name FROM admin_unit WHERE boundary_set = :s AND level = 'commune'"
            " ORDER BY code LIMIT 40"),
            {"s": SET_NAME}).scalars())
        levels = list(conn.execute(text(
            "SELECT DISTINCT level FROM admin_unit WHERE boundary_set = :s AND level <> 'country'"),
            {"s": SET_NAME}).scalars())
    maps = [f"/map/{code}{lang}" for code in [PROVINCE, *districts] for lang in ("", "?lang=en")]
    tiles = _tiles(bbox, range(8, 13), 12)  # type: ignore[arg-type]
    boundary = [f"/tiles/boundaries/{SET_NAME}/{level}/{z}/{x}/{y}.mvt"
                for level in levels for z, x, y in tiles]
    layer_tiles = []
    for layer in POINT_LAYERS:
        template = _get_json(f"{base}/tiles/{layer}.json")["tiles"][0]
        path = urllib.parse.urlsplit(template).path
        layer_tiles += [path.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
                        for z, x, y in tiles]
    finder = [f"/tim-diem?q={urllib.parse.quote(name)}" for name in names]
    tilejson = [f"/tiles/{layer}.json" for layer in POINT_LAYERS]
    submit = submission_kind(base, submission_door)
    return Mix([maps, boundary, layer_tiles, [], finder, tilejson], bbox, submit)  # type: ignore[arg-type]


def submission_kind(base: str, door: str) -> str | None:
    """Return the request kind the load submits, or None when the door answers 404 or 405."""
    from layers.catalog import default_catalog

    try:
        _get(f"{base}{door}", data=b"")
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 405):
            return None
    return next(iter(default_catalog().services), None)


def _get(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310 - our own server
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return answer.read()


def _get_json(url: str) -> dict:
    return json.loads(_get(url))


def check_doors(base: str, mix: Mix) -> None:
    """Ask one URL of each slot before the load: each must answer 2xx."""
    west, south, east, north = mix.bbox
    probes = [doors[0] for doors in mix.doors if doors]
    probes.append(f"/api/nearby?lat={(south + north) / 2:.6f}&lon={(west + east) / 2:.6f}"
                  f"&layer={NEARBY_LAYERS[0]}&limit=10")
    for path in [*probes, STATIC]:
        _get(base + path)


def door_times(base: str, mix: Mix, each: int = 5) -> str:
    """Return each door's median latency asked alone, one request at a time, right after the load."""
    west, south, east, north = mix.bbox
    steps = [i / (each + 1) for i in range(1, each + 1)]
    nearby = [f"/api/nearby?lat={south + (north - south) * f:.6f}&lon={west + (east - west) * f:.6f}"
              f"&layer={NEARBY_LAYERS[0]}&limit=10" for f in steps]
    found = []
    for (name, _weight), doors in zip(MIX, [*mix.doors[:3], nearby, *mix.doors[4:]], strict=False):
        times = []
        for path in doors[:: max(1, len(doors) // each)][:each]:
            started = time.perf_counter()
            _get(base + path)
            times.append((time.perf_counter() - started) * 1000)
        found.append(f"{name} {statistics.median(times):.0f} ms")
    return "doors alone (median of 5, one at a time): " + ", ".join(found)


def write_script(mix: Mix, workdir: Path, submission_door: str, name: str, api_key: str) -> Path:
    """Write the mix's Lua script; its submissions carry ``api_key`` (an Open311 key)."""
    def lua(values: list[str]) -> str:
        return "{" + ", ".join(json.dumps(v) for v in values) + "}"

    doors = "{" + ", ".join(lua(d) for d in mix.doors) + "}"
    west, south, east, north = mix.bbox
    script = workdir / f"{name}.lua"
    script.write_text(LUA.format(
        doors=doors, west=west, south=south, east=east, north=north, nearby_layers=lua(list(NEARBY_LAYERS)),
        submit=json.dumps(mix.submit) if mix.submit else "false", submission_door=json.dumps(submission_door),
        marker=json.dumps(MARKER), api_key=json.dumps(api_key),
        weights="{" + ", ".join(str(w) for _, w in MIX) + "}"))
    return script


def wrk_command(base: str, script: Path | None, seconds: float, path: str = "/") -> list[str]:
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency",
               "--timeout", "10s"]
    return command + (["-s", str(script)] if script else []) + [base + path]


def run_load(name: str, base: str, script: Path | None, seconds: float, path: str = "/") -> Run:
    done = subprocess.run(wrk_command(base, script, seconds, path),  # noqa: S603
                          capture_output=True, text=True, check=True)
    return parse_run(name, done.stdout)


# --------------------------------------------------------------------------- gunicorn and its memory


def start_gunicorn(bench: Bench, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
        [str(BIN / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{bench.port}", "portal:create_app()"],
        cwd=PROJECT_ROOT, env=bench.env(), stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    deadline = time.monotonic() + STARTUP_S  # four workers import the app at once on a busy machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            _get(f"{bench.base}/api/ping")
            if len(worker_pids(process.pid)) == WORKERS:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"gunicorn did not answer within {STARTUP_S} s: {log.read_text()[-2000:]}")


def worker_pids(master: int) -> set[int]:
    """Return the pids of a process's children (gunicorn's workers), from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            found.add(int(stat.parent.name))
    return found


def rss_mb(pids: set[int]) -> float:
    """Return the summed resident memory of processes, in MB."""
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total += int(found.group(1)) if found else 0
    return total / 1024


class MemorySampler(threading.Thread):
    """Sample the gunicorn workers' summed RSS every ``every`` seconds while the load runs."""

    def __init__(self, master: int, every: float) -> None:
        super().__init__(daemon=True)
        self.master, self.every = master, every
        self.samples: list[tuple[float, float]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self.halt.is_set():
            self.samples.append((time.monotonic() - start, rss_mb(worker_pids(self.master))))
            self.halt.wait(self.every)

    def drift(self, seconds: float, window: float) -> tuple[float, float, float]:
        """Return the mean RSS of the first and last ``window`` seconds and their relative change."""
        first = [mb for t, mb in self.samples if t <= window] or [self.samples[0][1]]
        last = [mb for t, mb in self.samples if t >= seconds - window] or [self.samples[-1][1]]
        a, b = statistics.fmean(first), statistics.fmean(last)
        return a, b, (b - a) / a if a else float("nan")


# --------------------------------------------------------------------------- the report


def stored_submissions(engine: Engine, prefix: str) -> tuple[int, int]:
    """Return the stored requests whose description starts with ``prefix``: rows, distinct ones."""
    with engine.connect() as conn:
        return tuple(conn.execute(text(  # type: ignore[return-value]
            "SELECT count(*), count(DISTINCT description) FROM service_request WHERE description LIKE :p"),
            {"p": prefix + " %"}).one())


def load_lines(mix_run: Run, static: Run, memory: tuple[float, float, float], window: float,
               submissions: str) -> tuple[list[str], bool]:
    """Return the load's lines and whether every target passed."""
    ratio = mix_run.rps / static.rps if static.rps else 0.0
    first, last, drift = memory
    checks = [
        (f"target p99 < {TARGET_P99_MS:.0f} ms", mix_run.p99_ms < TARGET_P99_MS,
         f"p99 {mix_run.p99_ms:.1f} ms"),
        ("target 0 errors", mix_run.errors == 0, f"{mix_run.errors:,} errors"),
        (f"target worker memory flat (last {window:.0f} s within {TARGET_MEMORY_DRIFT:.0%} of the first)",
         abs(drift) <= TARGET_MEMORY_DRIFT, f"{first:,.1f} MB -> {last:,.1f} MB, {drift:+.1%}"),
        (f"target >= {TARGET_STATIC_RATIO}x static file", ratio >= TARGET_STATIC_RATIO, f"{ratio:.2f}x"),
    ]
    lines = [mix_run.line(), static.line(), f"ratio load/static: {ratio:.2f}",
             f"memory: gunicorn workers' RSS {first:,.1f} MB in the first {window:.0f} s,"
             f" {last:,.1f} MB in the last {window:.0f} s ({drift:+.1%})", submissions]
    lines += [f"{label}: {'PASS' if ok else 'MISS'} ({value})" for label, ok, value in checks]
    return lines, all(ok for _, ok, _ in checks)


def submissions_line(run: Run, mix: Mix, engine: Engine) -> tuple[str, bool]:
    """Return the submissions' line: accepted against stored, exactly once; and whether it holds."""
    if mix.submit is None:
        return "submission door absent: SKIP (its 1-in-50 slot asks a map page)", True
    rows, distinct = stored_submissions(engine, MARKER)
    ok = rows == distinct >= run.accepted  # a request in flight when wrk stops is stored unanswered
    return (f"submissions: {run.accepted:,} accepted, {rows:,} stored ({distinct:,} distinct):"
            f" exactly once {'PASS' if ok else 'MISS'}"), ok


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    from bench import load_faults

    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="5-second load, short faults, small feeds")
    parser.add_argument("--duration", type=int, help=f"seconds of the load (default {DURATION})")
    parser.add_argument("--database", default=DATABASE, help=f"database to create (default {DATABASE})")
    parser.add_argument("--submission-door", default=SUBMISSION_DOOR,
                        help=f"where citizens' requests are posted (default {SUBMISSION_DOOR})")
    parser.add_argument("--no-faults", action="store_true", help="the load and its ceiling only")
    parser.add_argument("--feed-rows", type=int,
                        help="rows of the faults' large feeds (100,000; smoke 10,000)")
    args = parser.parse_args(argv)
    seconds = args.duration or (SMOKE_DURATION if args.smoke else DURATION)
    started = time.monotonic()
    with own_cluster(args.database) as where:
        bench = Bench(where.settings, where.cluster, where.url, where.workdir, _free_port())
        engine = create_database(bench.url)
        server = None
        try:
            token = make_token(engine)
            server = start_gunicorn(bench, bench.workdir / "gunicorn.log")
            mix = build_mix(engine, bench.base, args.submission_door)
            check_doors(bench.base, mix)
            script = write_script(mix, bench.workdir, args.submission_door, "mix", token)
            print(f"load benchmark: database {args.database} on a cluster of its own"
                  f" (port {bench.cluster.port});"
                  f" setup {time.monotonic() - started:.1f} s; {os.cpu_count()} cores, load average"
                  f" {os.getloadavg()[0]:.1f} before the runs (other work skews the figures)", flush=True)
            print(f"mix per 50 requests: {', '.join(f'{w} {n}' for n, w in MIX)};"
                  f" gunicorn -w {WORKERS}; wrk -t{THREADS} -c{CONNECTIONS} -d{seconds}s", flush=True)
            run_load("warmup", bench.base, script, 3 if args.smoke else 10)
            sampler = MemorySampler(server.pid, 0.25 if seconds < 60 else 2.0)
            sampler.start()
            mix_run = run_load("load", bench.base, script, seconds)
            sampler.halt.set()
            sampler.join()
            doors = door_times(bench.base, mix)  # at once, while the map pages are kept (60 s)
            static = run_load("static", bench.base, None, min(seconds, STATIC_MAX), STATIC)
            window = 60.0 if seconds >= 300 else seconds / 5
            submissions, stored_ok = submissions_line(mix_run, mix, engine)
            lines, passed = load_lines(mix_run, static, sampler.drift(seconds, window), window, submissions)
            for line in [*lines, doors]:
                print(line, flush=True)
            consistent = stored_ok
            if not args.no_faults:
                faults = load_faults.Faults(bench, engine, server, script, token, args.smoke, mix,
                                           mix_run.accepted, args.feed_rows)
                for outcome in faults.run_all():
                    print(outcome.line(), flush=True)
                    passed = passed and outcome.passed
                    consistent = consistent and outcome.consistent
            print(f"verdict: {'PASS' if passed and stored_ok else 'MISS'}"
                  f" (in {time.monotonic() - started:.0f} s)")
            return 0 if consistent else 1
        finally:
            if server is not None:
                stop(server)
            engine.dispose()
            drop_database(bench.url)
            print(f"dropped database {args.database};"
                  f" its cluster (port {bench.cluster.port}) is destroyed next")


if __name__ == "__main__":
    sys.exit(main())
