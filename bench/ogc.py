"""Benchmark epimap's OGC API – Features items against tipg and pygeoapi on the same data.

``python -m bench.ogc [--points N] [--smoke] [--no-others] [--duration S] [--database NAME]``:

1. (re)creates its own database (``epimap_bench_ogc``; never ``epimap`` or ``epimap_test_*``),
   adds PostGIS, migrates it, loads the Bình Dương 2021 boundaries and mirrors the catalogue;
2. publishes N testing sites (default 1,000,000; smoke 20,000) drawn in SQL uniformly inside the
   province (``ST_GeneratePoints``) as the current rows of one publication, then VACUUM ANALYZE;
3. copies them into a plain table for the other servers, ``public.testing_sites_flat`` (id,
   source_id, the five public attributes as columns, a Point geometry; primary key, GiST index);
4. starts each server on a free local port and checks it returns the same features for sample
   boxes: epimap (gunicorn ``-w 4``), tipg (``uvicorn --workers 4`` in ``bench/.venv-tipg``) and
   pygeoapi (gunicorn ``-w 4`` in ``bench/.venv-pygeoapi``, with a generated configuration and
   OpenAPI document); the throwaway virtualenvs are made when missing;
5. measures each with ``wrk -t2 -c16 -d15s --latency`` and a Lua script asking random 0.01° boxes
   inside the province with ``limit=100`` (the same sequence of boxes for every server), after a
   short warm-up;
6. prints requests/s, p50 and p99 per server and the ratio epimap/tipg against the target (≥ 2×,
   PASS/MISS), then stops the servers and drops the database, also on failure.

A server that cannot be installed or started is reported as MISSING with the reason; the exit
status is non-zero only when epimap itself fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from bench.database import drop_database, recreate_database
from bench.database import render as _render
from epimap.settings import PROJECT_ROOT, load_settings
from layers.catalog import default_catalog
from layers.store import sync_catalog

DEFAULT_DATABASE = "epimap_bench_ogc"
SET_NAME, PROVINCE = "vn2021", "74"
LAYER, FLAT = "testing_sites", "testing_sites_flat"
DEFAULT_POINTS, SMOKE_POINTS = 1_000_000, 20_000
BOX, LIMIT = 0.01, 100
CENTRES, SAMPLES = 2000, 20
CONNECTIONS, THREADS = 16, 2
DURATION, SMOKE_DURATION, WARMUP = 15, 2, 5
WORKERS = 4
TARGET = 2.0
DEFAULT_SEED = 20210719
BENCH_DIR = Path(__file__).resolve().parent
TIPG_VENV, PYGEOAPI_VENV = BENCH_DIR / ".venv-tipg", BENCH_DIR / ".venv-pygeoapi"
TIPG_PACKAGES = ("tipg", "uvicorn")
PYGEOAPI_PACKAGES = ("pygeoapi", "gunicorn", "psycopg2-binary", "sqlalchemy", "geoalchemy2", "pygeofilter")
INSTALL_TIMEOUT, START_TIMEOUT = 900, 90

_NAMES = ("Trạm Y tế", "Điểm xét nghiệm lưu động", "Phòng khám Đa khoa", "Điểm lấy mẫu", "Trung tâm Y tế")
_KINDS = ("RT-PCR", "Test nhanh kháng nguyên", "RT-PCR, test nhanh", "Lấy mẫu gộp")
_HOURS = ("7h00 - 17h00 (T2-CN)", "24/7", "7h30 - 11h30, 13h30 - 16h30", "6h00 - 22h00")
_STREETS = ("Đại lộ Bình Dương", "Cách Mạng Tháng Tám", "Nguyễn Văn Tiết", "Phú Lợi", "Huỳnh Văn Lũy", "QL13")


# --------------------------------------------------------------------------- database


def bench_url(database: str) -> URL:
    """Return the benchmark database URL on the configured server; refuse any other database."""
    if not re.fullmatch(rf"{DEFAULT_DATABASE}[a-z0-9_]*", database):
        raise SystemExit(f"refusing to use database {database!r}: its name must start with"
                         f" {DEFAULT_DATABASE}")
    return make_url(load_settings().resolved_database_url()).set(database=database)



def tcp_url(url: URL) -> URL:
    """Return the URL over TCP on the loopback (tipg cannot use a socket directory): every server
    under test reaches PostgreSQL the same way."""
    query = dict(url.query)
    host = query.pop("host", None) or url.host
    port = query.pop("port", None) or url.port or 5432
    if not host or str(host).startswith("/"):
        host = "127.0.0.1"
    return url.set(host=str(host), port=int(port), query=query)



def prepare_database(url: URL) -> Engine:
    """Recreate the database with PostGIS, migrate it, load the boundaries, mirror the catalogue."""
    recreate_database(url)
    engine = create_engine(_render(url), pool_size=2)
    with Session(engine) as session, session.begin():
        sync_catalog(session, default_catalog())
    return engine



def _array(values: Sequence[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _pick(values: Sequence[str]) -> str:
    return f"({_array(values)})[1 + floor(random() * {len(values)})::int]"


# Points drawn by PostGIS inside the province polygon; properties look like the CDC's feed.
# Constant SQL: only this module's lists are formatted in, every value is bound.
_INSERT = f"""
INSERT INTO feature (layer_id, source_id, geom, props, units, approximate, content_hash, source_row,
                     valid_from_pub)
SELECT :layer, 'XN-' || lpad(d.path[1]::text, 7, '0'), d.geom,
       jsonb_build_object(
           'name', {_pick(_NAMES)} || ' số ' || d.path[1],
           'address', 'Số ' || (1 + (random() * 998)::int) || ', đường ' || {_pick(_STREETS)},
           'test_types', {_pick(_KINDS)},
           'hours', {_pick(_HOURS)},
           'phone', '0274 3' || lpad((random() * 999)::int::text, 3, '0') || ' '
                    || lpad((random() * 9999)::int::text, 4, '0'),
           'note', 'nội bộ'),
       jsonb_build_object('province', :province), false, md5(d.path[1]::text), d.path[1], :pub
FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, :n, :seed))).* FROM admin_unit
      WHERE boundary_set = :s AND code = :province) d
"""  # noqa: S608

_FLAT = (
    f"""CREATE TABLE public.{FLAT} AS
SELECT id, source_id, props ->> 'name' AS name, props ->> 'address' AS address,
       props ->> 'test_types' AS test_types, props ->> 'hours' AS hours, props ->> 'phone' AS phone,
       geom::geometry(Point, 4326) AS geom
FROM feature WHERE layer_id = 'testing_sites' AND valid_to_pub IS NULL""",  # noqa: S608 - constant
    f"ALTER TABLE public.{FLAT} ADD PRIMARY KEY (id)",
    f"CREATE INDEX {FLAT}_geom_idx ON public.{FLAT} USING gist (geom)",
)


def publish_points(engine: Engine, n: int, seed: int) -> int:
    """Publish n testing sites inside the province as the current rows of one publication."""
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(:s)"), {"s": (seed % 1_000_000) / 1_000_000})
        pub = conn.execute(text(
            "INSERT INTO publication (layer_id, author, action, source_name, boundary_set, scope_code,"
            " scope_level, added) VALUES (:l, 'bench', 'ingest', 'bench_ogc', :s, :p, 'province', :n)"
            " RETURNING id"), {"l": LAYER, "s": SET_NAME, "p": PROVINCE, "n": n}).scalar_one()
        conn.execute(text(_INSERT), {"layer": LAYER, "province": PROVINCE, "s": SET_NAME, "n": n,
                                     "seed": seed, "pub": pub})
        for statement in _FLAT:
            conn.execute(text(statement))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text(f"VACUUM ANALYZE feature, publication, public.{FLAT}"))
    return pub


def box_centres(engine: Engine, count: int, seed: int) -> list[tuple[float, float]]:
    """Return random points inside the province: the centres of the queried boxes."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT ST_X(d.geom) AS x, ST_Y(d.geom) AS y FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, :n,"
            " :seed))).geom FROM admin_unit WHERE boundary_set = :s AND code = :p) d"),
            {"n": count, "seed": seed + 1, "s": SET_NAME, "p": PROVINCE}).all()
    return [(r.x, r.y) for r in rows]


def bbox_of(centre: tuple[float, float]) -> str:
    """Return the query value of the 0.01° box around a point."""
    x, y = centre
    h = BOX / 2
    return f"{x - h:.6f},{y - h:.6f},{x + h:.6f},{y + h:.6f}"


def expected_counts(engine: Engine, centres: Sequence[tuple[float, float]]) -> list[int]:
    """Return how many features each sample box should return (at most ``LIMIT``)."""
    counts = []
    with engine.connect() as conn:
        for centre in centres:
            w, s, e, n = (float(v) for v in bbox_of(centre).split(","))
            counts.append(min(LIMIT, conn.execute(text(
                "SELECT count(*) FROM feature WHERE layer_id = :l AND valid_to_pub IS NULL"
                " AND ST_Intersects(geom, ST_MakeEnvelope(:w, :s, :e, :n, 4326))"),
                {"l": LAYER, "w": w, "s": s, "e": e, "n": n}).scalar_one()))
    return counts


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """One server under test: how to start it and its items path (``{bbox}`` filled per request)."""

    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    items: str  # path and query with {bbox}
    cwd: Path = PROJECT_ROOT
    process: subprocess.Popen | None = None
    log: Path | None = None
    missing: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, bbox: str) -> str:
        return self.base + self.items.format(bbox=bbox)

    def start(self, logs: Path) -> None:
        self.log = logs / f"{self.name}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(self.command, cwd=self.cwd, env={**os.environ, **self.env},
                                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, probe: str, timeout: float = START_TIMEOUT) -> None:
        """Wait until ``probe`` answers 200; raise with the log's tail when the server dies or hangs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"exited with {self.process.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(probe, timeout=10) as response:  # noqa: S310 - local server
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"not ready after {timeout:.0f} s: {self.log_tail()}")

    def log_tail(self, lines: int = 8) -> str:
        if self.log is None or not self.log.exists():
            return ""
        tail = self.log.read_text(errors="replace").strip().splitlines()[-lines:]
        return " | ".join(line.strip() for line in tail)

    def stop(self) -> None:
        """Stop the process group this benchmark started (its own session), and only it."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass


def fetch_count(url: str) -> int:
    """Return the number of features in a GeoJSON answer."""
    request = urllib.request.Request(url, headers={"Accept": "application/geo+json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local server
        return len(json.loads(response.read())["features"])


def ensure_venv(venv: Path, packages: Sequence[str], module: str) -> None:
    """Make a throwaway virtualenv with the packages unless it already imports ``module``."""
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([python, "-c", f"import {module}"], capture_output=True,
                                          check=False).returncode == 0:
        return
    steps = [[sys.executable, "-m", "venv", str(venv)],
             [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False)
        if done.returncode != 0:
            reason = (done.stderr or done.stdout).strip().splitlines()
            raise RuntimeError(f"{' '.join(step[:4])} failed: {reason[-1] if reason else done.returncode}")


def epimap_server(url: URL) -> Server:
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return Server("epimap", [str(gunicorn), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "--log-level",
                             "warning", "portal:create_app()"],
                  {"EPIMAP_DATABASE_URL": _render(url)}, port,
                  f"/ogc/collections/{LAYER}/items?bbox={{bbox}}&limit={LIMIT}")


def _libpq_parts(url: URL) -> dict[str, str]:
    """Return host (a socket directory or a name), port, user, password and database of a URL."""
    query = dict(url.query)
    host = query.get("host") or url.host or "localhost"
    port = query.get("port") or (str(url.port) if url.port else "5432")
    return {"host": str(host), "port": str(port), "user": url.username or "", "password": url.password or "",
            "database": url.database or ""}


def tipg_server(url: URL) -> Server:
    port = free_port()
    dsn = _render(url.set(drivername="postgresql"))
    command = [str(TIPG_VENV / "bin" / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(WORKERS), "--log-level", "warning", "--no-access-log"]
    env = {"DATABASE_URL": dsn, "TIPG_DB_SCHEMAS": '["public"]', "TIPG_DB_TABLES": f'["public.{FLAT}"]',
           "TIPG_DB_EXCLUDE_FUNCTION_SCHEMAS": '["public"]'}
    return Server("tipg", command, env,
                  port, f"/collections/public.{FLAT}/items?bbox={{bbox}}&limit={LIMIT}", cwd=BENCH_DIR)


def pygeoapi_config(url: URL, port: int, bbox: Sequence[float]) -> str:
    """Return a pygeoapi configuration serving the flat table (JSON is valid YAML)."""
    parts = _libpq_parts(url)
    contact = {k: "bench" for k in ("name", "position", "address", "city", "stateorprovince", "postalcode",
                                    "country", "phone", "fax", "hours", "instructions")}
    config = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port}, "url": f"http://127.0.0.1:{port}",
            "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8", "language": "en-US",
            "cors": False, "pretty_print": False,
            "limits": {"default_items": 10, "max_items": 10000},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OpenStreetMap"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": "bench", "description": "bench", "keywords": ["bench"],
                               "keywords_type": "theme", "terms_of_service": "none", "url": "http://localhost"},
            "license": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"},
            "provider": {"name": "bench", "url": "http://localhost"},
            "contact": {**contact, "email": "bench@localhost", "url": "http://localhost",
                        "role": "pointOfContact"},
        },
        "resources": {
            LAYER: {
                "type": "collection", "title": "Testing sites", "description": "Testing sites",
                "keywords": ["testing"], "links": [],
                "extents": {"spatial": {"bbox": list(bbox), "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
                "providers": [{
                    "type": "feature", "name": "PostgreSQL",
                    "data": {"host": parts["host"], "port": int(parts["port"]), "dbname": parts["database"],
                             "user": parts["user"], "password": parts["password"], "search_path": ["public"]},
                    "id_field": "id", "table": FLAT, "geom_field": "geom",
                }],
            },
        },
    }
    return json.dumps(config, ensure_ascii=False, indent=1)


def pygeoapi_server(url: URL, work: Path, bbox: Sequence[float]) -> Server:
    port = free_port()
    config, openapi = work / "pygeoapi.config.yml", work / "pygeoapi.openapi.yml"
    config.write_text(pygeoapi_config(url, port, bbox), encoding="utf-8")
    env = {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    done = subprocess.run([str(PYGEOAPI_VENV / "bin" / "pygeoapi"), "openapi", "generate", str(config),
                           "--output-file", str(openapi)], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=300, check=False)
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(f"pygeoapi openapi generate failed: {reason[-1] if reason else done.returncode}")
    return Server("pygeoapi", [str(PYGEOAPI_VENV / "bin" / "gunicorn"), "-w", str(WORKERS), "-b",
                               f"127.0.0.1:{port}", "--log-level", "warning", "pygeoapi.flask_app:APP"],
                  env, port, f"/collections/{LAYER}/items?bbox={{bbox}}&limit={LIMIT}&f=json", cwd=work)


# --------------------------------------------------------------------------- wrk


@dataclass(frozen=True)
class Result:
    """What wrk measured."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    app_cpu_ms: float | None = None  # CPU of the server's processes per request
    db_cpu_ms: float | None = None  # CPU of its PostgreSQL backends per request


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise ValueError(f"unexpected latency {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> Result:
    """Read requests/s, the median and 99th percentile latencies and the errors from wrk's report."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        raise RuntimeError(f"cannot read wrk's output: {output.strip()[-300:]}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return Result(float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), int(total.group(1)), errors)


def lua_script(items: str, centres: Sequence[tuple[float, float]], seed: int) -> str:
    """Return a wrk script asking random boxes near random centres (no two alike, so no cache helps);
    each thread has its own seed, the same for every server."""
    prefix, suffix = items.split("{bbox}")
    table = ",\n".join(f"{{{x:.6f},{y:.6f}}}" for x, y in centres)
    return f"""-- generated by bench/ogc.py
local centres = {{
{table}
}}
local prefix, suffix, h = {json.dumps(prefix)}, {json.dumps(suffix)}, {BOX / 2}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed({seed} + id)
end
function request()
  local c = centres[math.random(#centres)]
  local x, y = c[1] + (math.random() - 0.5) * 2 * h, c[2] + (math.random() - 0.5) * 2 * h
  local bbox = string.format("%.6f,%.6f,%.6f,%.6f", x - h, y - h, x + h, y + h)
  return wrk.format("GET", prefix .. bbox .. suffix)
end
"""


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """Return the CPU time (user + system) each live process has used."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
        except (OSError, IndexError, ValueError):
            continue
    return used


def group_pids(pgid: int) -> list[int]:
    """Return the processes of a process group (a server and its workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def backend_pids(engine: Engine) -> list[int]:
    """Return the PostgreSQL backends connected to the benchmark database, but our own."""
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )).scalars())


def run_wrk(server: Server, script: Path, duration: int, engine: Engine | None = None) -> Result:
    """Run wrk against a server; with an engine, also account the CPU its processes and backends used."""
    before = {}
    if engine is not None and server.process is not None:
        before = {"app": cpu_seconds(group_pids(server.process.pid)), "db": cpu_seconds(backend_pids(engine))}
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", "-s", str(script),
               server.base]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr.strip()[-300:]}")
    result = parse_wrk(done.stdout)
    if not before or not result.requests:
        return result
    after = {"app": cpu_seconds(group_pids(server.process.pid)), "db": cpu_seconds(backend_pids(engine))}
    used = {k: sum(t - before[k].get(pid, 0.0) for pid, t in after[k].items()) for k in after}
    return replace(result, app_cpu_ms=used["app"] * 1000 / result.requests,
                   db_cpu_ms=used["db"] * 1000 / result.requests)


# --------------------------------------------------------------------------- the run


@dataclass
class Outcome:
    server: str
    result: Result | None = None
    missing: str | None = None
    returned: int | None = None


def _province_bbox(engine: Engine) -> tuple[float, float, float, float]:
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT ST_XMin(geom) AS w, ST_YMin(geom) AS s, ST_XMax(geom) AS e, ST_YMax(geom) AS n"
            " FROM admin_unit WHERE boundary_set = :s AND code = :p"), {"s": SET_NAME, "p": PROVINCE}).one()
    return round(row.w, 4), round(row.s, 4), round(row.e, 4), round(row.n, 4)


def measure(server: Server, work: Path, centres: Sequence[tuple[float, float]], samples: Sequence[str],
            expected: int, duration: int, seed: int, engine: Engine) -> Outcome:
    """Start a server, check its answers, warm it up, measure it and stop it."""
    outcome = Outcome(server.name)
    try:
        server.start(work)
        server.wait_ready(server.url(samples[0]))
        outcome.returned = sum(fetch_count(server.url(bbox)) for bbox in samples)
        script = work / f"{server.name}.lua"
        script.write_text(lua_script(server.items, centres, seed), encoding="utf-8")
        run_wrk(server, script, min(WARMUP, duration))
        outcome.result = run_wrk(server, script, duration, engine)
    except (RuntimeError, OSError, subprocess.SubprocessError, ValueError, KeyError) as exc:
        outcome.missing = f"{type(exc).__name__}: {exc}"[:400]
    finally:
        server.stop()
    if outcome.returned is not None and outcome.returned != expected:
        server.notes.append(f"returned {outcome.returned} features for the sample boxes, expected {expected}")
    return outcome


def report(outcomes: Sequence[Outcome], expected: int, notes: dict[str, list[str]]) -> bool:
    """Print the table and the target; return whether epimap was measured."""
    print(f"{'server':<10} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7}"
          f" {'sample features':>16} {'app CPU ms/req':>15} {'db CPU ms/req':>14}")
    for o in outcomes:
        if o.result is None:
            print(f"{o.server:<10} MISSING ({o.missing})")
            continue
        r = o.result
        check = f"{o.returned}/{expected}" + ("" if o.returned == expected else " MISMATCH")
        cpu = [f"{v:.2f}" if v is not None else "?" for v in (r.app_cpu_ms, r.db_cpu_ms)]
        print(f"{o.server:<10} {r.requests_per_s:>11.1f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.requests:>9}"
              f" {r.errors:>7} {check:>16} {cpu[0]:>15} {cpu[1]:>14}")
        for note in notes.get(o.server, []):
            print(f"{'':<10} note: {note}")
    found = {o.server: o for o in outcomes}
    epimap, tipg = found.get("epimap"), found.get("tipg")
    if epimap and epimap.result and tipg and tipg.result:
        ratio = epimap.result.requests_per_s / tipg.result.requests_per_s
        verdict = "PASS" if ratio >= TARGET else "MISS"
        print(f"epimap/tipg requests/s: {ratio:.2f}x (target >= {TARGET:g}x): {verdict}")
    else:
        reason = "tipg not measured" if epimap and epimap.result else "epimap not measured"
        print(f"epimap/tipg requests/s: n/a ({reason}; target >= {TARGET:g}x)")
    return bool(epimap and epimap.result and epimap.result.errors == 0 and epimap.returned == expected)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ogc", description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, help=f"testing sites (default {DEFAULT_POINTS:,})")
    parser.add_argument("--smoke", action="store_true",
                        help=f"{SMOKE_POINTS:,} points, {SMOKE_DURATION} s per server")
    parser.add_argument("--no-others", action="store_true", help="measure epimap only (no tipg, no pygeoapi)")
    parser.add_argument("--duration", type=int, help=f"seconds of wrk per server (default {DURATION})")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="benchmark database (epimap_bench_ogc*)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    points = args.points or (SMOKE_POINTS if args.smoke else DEFAULT_POINTS)
    duration = args.duration or (SMOKE_DURATION if args.smoke else DURATION)
    url = bench_url(args.database)
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens, also in a file
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below
    print(f"OGC API – Features benchmark: {points:,} testing sites in database {url.database}")
    print(f"wrk -t{THREADS} -c{CONNECTIONS} -d{duration}s --latency; random {BOX:g}° bbox inside the"
          f" province, limit={LIMIT}; {WORKERS} workers per server")
    started = time.monotonic()
    engine: Engine | None = None
    try:
        engine = prepare_database(url)
        publish_points(engine, points, args.seed)
        centres = box_centres(engine, CENTRES, args.seed)
        samples = [bbox_of(c) for c in centres[:SAMPLES]]
        expected = sum(expected_counts(engine, centres[:SAMPLES]))
        province = _province_bbox(engine)
        served = tcp_url(url)
        print(f"data ready in {time.monotonic() - started:.0f} s; {SAMPLES} sample boxes hold {expected}"
              f" features (at most {LIMIT} each)")
        outcomes: list[Outcome] = []
        notes: dict[str, list[str]] = {}
        with tempfile.TemporaryDirectory(prefix="bench-ogc-") as tmp:
            work = Path(tmp)
            makers = [("epimap", lambda: epimap_server(served))]
            if args.no_others:
                print("tipg: SKIPPED (--no-others)")
                print("pygeoapi: SKIPPED (--no-others)")
            else:
                makers += [("tipg", lambda: _prepared(TIPG_VENV, TIPG_PACKAGES, "tipg",
                                                      lambda: tipg_server(served))),
                           ("pygeoapi", lambda: _prepared(PYGEOAPI_VENV, PYGEOAPI_PACKAGES, "pygeoapi",
                                                          lambda: pygeoapi_server(served, work, province)))]
            for name, make in makers:
                try:
                    server = make()
                except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                    outcomes.append(Outcome(name, missing=f"{type(exc).__name__}: {exc}"[:400]))
                    continue
                outcomes.append(measure(server, work, centres, samples, expected, duration, args.seed,
                                        engine))
                notes[name] = server.notes
        engine.dispose()
        ok = report(outcomes, expected, notes)
        return 0 if ok else 1
    finally:
        if engine is not None:
            engine.dispose()
        drop_database(url)
        print(f"database {url.database} dropped; total {time.monotonic() - started:.0f} s")


def _prepared(venv: Path, packages: Sequence[str], module: str, make):
    ensure_venv(venv, packages, module)
    return make()


if __name__ == "__main__":
    sys.exit(main())
