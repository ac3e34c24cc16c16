"""Benchmark ``/api/nearby`` under load against a no-op endpoint and the bare KNN query.

``python -m bench.nearby [--smoke] [--rows N] [--duration S]``:

1. (re)creates its own database ``epimap_bench_nearby`` on the configured server (never
   ``epimap`` or ``epimap_test``), migrates it and loads the Bình Dương 2021 boundaries;
2. inserts N testing sites (1,000,000; smoke: 5,000) at random points inside the province, in
   SQL, as one publication, then ``VACUUM ANALYZE``;
3. starts ``gunicorn -w 4`` on the portal with the rate limit off, and runs ``wrk -t2 -c16
   --latency`` with a Lua script asking ``/api/nearby?layer=testing_sites&limit=10`` at random
   points of the province's bounding box, then the same against ``/api/ping`` (no database);
4. runs ``pgbench -n -M prepared -c16 -j2 -f knn.sql`` with the very KNN statement the API runs
   (prepared, as the API's driver prepares it), at random points, on the same database
   (latencies from pgbench's per-transaction log);
5. prints requests/s, p50 and p99 of each, the ratios nearby/no-op and nearby/pgbench, and the
   targets (≥ 2,000 req/s with p99 < 25 ms, or ≥ 0.3× the no-op endpoint) with PASS/MISS; then
   drops the database.  Exit status 1 when a tool fails or a request is not answered 200.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from bench.database import drop_database, recreate_database
from bench.database import render as _render
from epimap import localdb
from epimap.settings import PROJECT_ROOT, load_settings
from layers.catalog import default_catalog
from layers.nearby import MAX_CANDIDATES, knn_sql
from layers.store import sync_catalog

DATABASE = "epimap_bench_nearby"
PROTECTED = frozenset({"epimap", "epimap_test", "postgres", "template0", "template1"})
SET_NAME, PROVINCE, LAYER, LIMIT = "vn2021", "74", "testing_sites", 10
ROWS, SMOKE_ROWS = 1_000_000, 5_000
DURATION, SMOKE_DURATION = 10, 2
CONNECTIONS, THREADS, WORKERS = 16, 2, 4
TARGET_RPS, TARGET_P99_MS, TARGET_RATIO = 2000.0, 25.0, 0.3
BIN = Path(sys.executable).parent
HOURS = ("7h00 - 17h00 (T2-CN)", "24/7", "7h30 - 11h30, 13h30 - 16h30", "Thứ 2 - Thứ 7, 7h - 19h",
         "6h00 - 22h00")

LUA = """
local west, south, east, north = {west}, {south}, {east}, {north}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + id)
end
function request()
  local lon = west + math.random() * (east - west)
  local lat = south + math.random() * (north - south)
  return wrk.format("GET", string.format("{path}?lat=%.6f&lon=%.6f&layer={layer}&limit={limit}", lat, lon))
end
"""


@dataclass
class Result:
    """Throughput and latency percentiles of one load run."""

    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int = 0

    def line(self, unit: str = "req/s") -> str:
        return (f"{self.name + ':':<9} {self.rps:>10,.1f} {unit}  p50 {self.p50_ms:7.2f} ms"
                f"  p99 {self.p99_ms:7.2f} ms" + (f"  errors {self.errors}" if self.errors else ""))


# --------------------------------------------------------------------------- database


def bench_url(database: str = DATABASE) -> URL:
    """Return the benchmark database's URL: the configured server, its own database."""
    if database in PROTECTED or not re.fullmatch(r"[a-z_][a-z0-9_]*", database):
        raise SystemExit(f"refusing to use database {database!r} for the benchmark")
    settings = load_settings()
    if not settings.database_url:
        localdb.up(localdb.cluster_for(settings))
    return make_url(settings.resolved_database_url()).set(database=database)




def create_database(url: URL) -> Engine:
    """Create, migrate and fill the boundaries of the benchmark database."""
    recreate_database(url)
    return create_engine(_render(url), isolation_level="AUTOCOMMIT")



def insert_sites(engine: Engine, rows: int) -> None:
    """Publish ``rows`` testing sites at random points inside the province, in SQL."""
    with Session(engine) as session, session.begin():
        sync_catalog(session, default_catalog())
        publication = session.execute(text(
            "INSERT INTO publication (layer_id, author, action, boundary_set, scope_code, scope_level, added)"
            " VALUES (:l, 'bench', 'ingest', :s, :c, 'province', :n) RETURNING id"),
            {"l": LAYER, "s": SET_NAME, "c": PROVINCE, "n": rows}).scalar_one()
    done = 0
    while done < rows:  # about 55 % of the bounding box is inside the province: draw twice as many
        with engine.connect() as conn:
            done += conn.execute(text(
                """
                WITH province AS (SELECT geom, geom::box2d AS b FROM admin_unit
                                  WHERE boundary_set = :s AND code = :c)
                INSERT INTO feature (layer_id, source_id, geom, props, content_hash, valid_from_pub)
                SELECT :l, 'bench-' || (:done + row_number() OVER ()), p,
                       jsonb_build_object('name', 'Điểm xét nghiệm ' || (:done + row_number() OVER ()),
                                          'address', 'Số ' || (1 + n % 500) || ' đường ĐT7' || (n % 50),
                                          'hours', (CAST(:hours AS text[]))[1 + n % 5],
                                          'phone', '0274' || lpad((n % 10000000)::text, 7, '0')),
                       md5(n::text), :pub
                FROM (SELECT n, ST_SetSRID(ST_MakePoint(ST_XMin(b) + random() * (ST_XMax(b) - ST_XMin(b)),
                                                        ST_YMin(b) + random() * (ST_YMax(b) - ST_YMin(b))),
                                           4326) AS p
                      FROM generate_series(1, :draw) AS n, province) candidates
                WHERE ST_Intersects(p, (SELECT geom FROM province))
                LIMIT :want
                """), {"s": SET_NAME, "c": PROVINCE, "l": LAYER, "pub": publication, "done": done,
                        "hours": list(HOURS), "draw": 2 * (rows - done) + 100, "want": rows - done}).rowcount
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE feature"))
        conn.execute(text("VACUUM ANALYZE publication"))


def province_bbox(engine: Engine) -> tuple[float, float, float, float]:
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM admin_unit"
            " WHERE boundary_set = :s AND code = :c"), {"s": SET_NAME, "c": PROVINCE}).one()
    return tuple(row)  # type: ignore[return-value]


_SCANS = text("SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables"
              " WHERE relid = feature_partition(:layer)::regclass")


def knn_scans(engine: Engine, bbox: tuple[float, float, float, float]) -> str:
    """Return how the KNN statement reads the features, for the record: index and sequential
    scans of the layer's partition of ``feature`` by one run at the middle of the province (inside
    the walk too)."""
    sql, params = _pgbench_sql(), {"lon": (bbox[0] + bbox[2]) / 2, "lat": (bbox[1] + bbox[3]) / 2}
    with engine.connect() as conn, conn.begin():
        seq_before, index_before = conn.execute(_SCANS, {"layer": LAYER}).one()
        conn.execute(text(sql), params).fetchall()
        seq_after, index_after = conn.execute(_SCANS, {"layer": LAYER}).one()
    return f"{index_after - index_before} index scans, {seq_after - seq_before} sequential scans"


# --------------------------------------------------------------------------- load


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: URL, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, EPIMAP_DATABASE_URL=_render(url), EPIMAP_API_RATE_LIMIT="")
    process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
        [str(BIN / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "portal:create_app()"],
        cwd=PROJECT_ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ping", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS_MS[unit]


def parse_wrk(name: str, output: str) -> Result:
    """Read requests/s, the 50th and 99th percentile latencies and failures from ``wrk --latency``."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        int(sockets.group(1)) + int(sockets.group(3)) + int(sockets.group(4)) if sockets else 0)
    return Result(name, rps, p50, p99, errors)


def run_wrk(name: str, port: int, path: str, bbox: tuple[float, float, float, float], seconds: int,
            workdir: Path) -> Result:
    script = workdir / f"{name}.lua"
    west, south, east, north = bbox
    script.write_text(LUA.format(west=west, south=south, east=east, north=north, path=path, layer=LAYER,
                                 limit=LIMIT))
    done = subprocess.run(  # noqa: S603
        ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True)
    return parse_wrk(name, done.stdout)


def _pgbench_sql() -> str:
    """The API's KNN statement with its constant parameters filled in; ``:lon``/``:lat`` stay."""
    constants = {"layer": f"'{LAYER}'", "day": f"'{date.today()}'", "k": str(LIMIT),
                 "cap": str(MAX_CANDIDATES)}
    blockers = [layer.id for layer in default_catalog().access_blockers()]
    return re.sub(r"(?<!:):(\w+)", lambda m: constants.get(m.group(1), m.group(0)), knn_sql(blockers))


def pg_env(url: URL) -> dict[str, str]:
    query = url.query
    values = {"PGHOST": url.host or query.get("host"), "PGPORT": url.port or query.get("port"),
              "PGUSER": url.username, "PGPASSWORD": url.password, "PGDATABASE": url.database}
    return dict(os.environ, **{k: str(v) for k, v in values.items() if v})


def run_pgbench(url: URL, bbox: tuple[float, float, float, float], seconds: int, workdir: Path) -> Result:
    west, south, east, north = bbox
    script = workdir / "knn.sql"
    script.write_text(
        f"\\set lon {west:.6f} + random(0, 1000000) * {(east - west) / 1e6:.12f}\n"
        f"\\set lat {south:.6f} + random(0, 1000000) * {(north - south) / 1e6:.12f}\n"
        + _pgbench_sql().strip() + ";\n")
    logs = workdir / "pgbench-log"
    logs.mkdir()
    done = subprocess.run(  # noqa: S603
        ["pgbench", "-n", "-M", "prepared", f"-c{CONNECTIONS}", f"-j{THREADS}", f"-T{seconds}",
         "-f", str(script), "-l", "--log-prefix", str(logs / "knn")],
        capture_output=True, text=True, check=True, env=pg_env(url))
    tps = float(re.search(r"tps = ([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    latencies = sorted(int(line.split()[2]) / 1000 for f in logs.iterdir()
                       for line in f.read_text().splitlines() if line.strip())
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    return Result("pgbench", tps, _percentile(latencies, 50), _percentile(latencies, 99),
                  int(failed.group(1)) if failed else 0)


def _percentile(values: list[float], pct: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


# --------------------------------------------------------------------------- report


def report(database: str, rows: int, seconds: int, scans: str, nearby: Result, noop: Result,
           knn: Result) -> list[str]:
    """Return the lines the benchmark prints (the test reads them)."""
    vs_noop, vs_pgbench = nearby.rps / noop.rps, nearby.rps / knn.rps
    absolute = nearby.rps >= TARGET_RPS and nearby.p99_ms < TARGET_P99_MS
    relative = vs_noop >= TARGET_RATIO
    return [
        f"nearby benchmark: {rows:,} testing sites in database {database}; KNN statement: {scans}",
        f"load: gunicorn -w {WORKERS}; wrk -t{THREADS} -c{CONNECTIONS} -d{seconds}s;"
        f" pgbench -M prepared -c{CONNECTIONS} -j{THREADS} -T{seconds}",
        nearby.line(), noop.line(), knn.line("tps  "),
        f"ratio nearby/no-op: {vs_noop:.2f}",
        f"ratio nearby/pgbench: {vs_pgbench:.2f}",
        f"target >= {TARGET_RPS:,.0f} req/s with p99 < {TARGET_P99_MS:.0f} ms:"
        f" {'PASS' if absolute else 'MISS'} ({nearby.rps:,.0f} req/s, p99 {nearby.p99_ms:.1f} ms)",
        f"target >= {TARGET_RATIO}x no-op: {'PASS' if relative else 'MISS'} ({vs_noop:.2f}x)",
        f"verdict: {'PASS' if absolute or relative else 'MISS'}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.nearby", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="5,000 sites and 2-second runs")
    parser.add_argument("--rows", type=int, help="testing sites to insert (default 1,000,000)")
    parser.add_argument("--duration", type=int, help="seconds of each load run (default 10)")
    parser.add_argument("--database", default=DATABASE,
                        help=f"database to create and drop (default {DATABASE})")
    args = parser.parse_args(argv)
    rows = args.rows or (SMOKE_ROWS if args.smoke else ROWS)
    seconds = args.duration or (SMOKE_DURATION if args.smoke else DURATION)
    url = bench_url(args.database)
    started = time.monotonic()
    engine = create_database(url)
    server = None
    try:
        insert_sites(engine, rows)
        bbox = province_bbox(engine)
        scans = knn_scans(engine, bbox)
        print(f"setup: {rows:,} sites in {time.monotonic() - started:.1f} s; {os.cpu_count()} cores,"
              f" load average {os.getloadavg()[0]:.1f} before the runs (other work skews the figures)",
              flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-nearby-") as tmp:
            workdir = Path(tmp)
            port = _free_port()
            server = start_gunicorn(url, port, workdir / "gunicorn.log")
            run_wrk("warmup", port, "/api/nearby", bbox, 1, workdir)  # connections, caches, plans
            nearby = run_wrk("nearby", port, "/api/nearby", bbox, seconds, workdir)
            noop = run_wrk("no-op", port, "/api/ping", bbox, seconds, workdir)
            stop(server)
            server = None
            knn = run_pgbench(url, bbox, seconds, workdir)
        for line in report(args.database, rows, seconds, scans, nearby, noop, knn):
            print(line)
        return 1 if nearby.errors or noop.errors or knn.errors else 0
    finally:
        if server is not None:
            stop(server)
        engine.dispose()
        drop_database(url)
        print(f"dropped database {args.database}")


if __name__ == "__main__":
    sys.exit(main())
