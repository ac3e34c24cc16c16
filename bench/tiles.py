"""Benchmark epimap's layer vector tiles against the raw PostGIS ceiling and tipg.

``python -m bench.tiles [--points N] [--smoke] [--no-tipg]``:

1. (re)creates its own database (``epimap_bench_tiles``; never ``epimap`` or ``epimap_test_*``),
   migrates it, loads the Bình Dương 2021 boundaries and ingests the demo feeds (lockdown zones
   included);
2. publishes N testing sites (default 1,000,000; smoke 20,000) in one new publication, drawn in
   SQL: 70 % inside the three densest urban districts (Thủ Dầu Một, Thuận An, Dĩ An), the rest
   anywhere in the province, with the publication's cluster overview built as every publish
   builds it (its time is printed apart); then ANALYZE;
3. lists tiles: every z8-z10 tile over the province, up to ~300 z11-z14 tiles over the dense
   districts (testing sites at their current publication) and some lockdown-zone tiles;
4. measures, with 16 concurrent clients each:
   (a) the raw PostGIS ceiling: pgbench running exactly the SQL ``layers.tiles`` builds, rendered
       with literal parameters, cycling through the list (and, as a reference row, the same at 4
       clients: the database concurrency gunicorn's 4 sync workers give it);
   (b) epimap cold: gunicorn ``-w 4`` with ``EPIMAP_TILE_CACHE_SIZE=0``, under wrk;
   (c) epimap warm: the same with the default tile cache (in memory, per worker), after warm-up
       passes over the list (24 of them, so that every worker's own cache holds every tile);
   (d) tipg (in ``bench/.venv-tipg``, created when missing) over tables of the current rows with
       primary keys and GiST indexes, under uvicorn ``--workers 4``;
5. fetches every tile once per server (the largest tile; epimap's bytes compared with the raw
   SQL's), prints a table and the targets with PASS/MISS, and drops the database, also on failure.

Exit status is 0 unless pgbench or an epimap run fails or a tile exceeds 500 KB; tipg being
unavailable is reported as MISSING.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from bench.database import drop_database, recreate_database
from bench.database import render as _render
from epimap.demo import load_demo_feeds
from epimap.settings import PROJECT_ROOT, load_settings
from layers.catalog import default_catalog
from layers.overview import build_overview
from layers.tiles import tile_statement

DEFAULT_DATABASE = "epimap_bench_tiles"
SET_NAME, PROVINCE = "vn2021", "74"
DENSE_DISTRICTS = ("718", "725", "724")  # Thủ Dầu Một, Thuận An, Dĩ An
DENSE_SHARE = 0.7
POINTS_LAYER, ZONES_LAYER = "testing_sites", "lockdown_zones"
DEFAULT_POINTS, SMOKE_POINTS = 1_000_000, 20_000
LOW_ZOOMS, HIGH_ZOOMS, ZONE_ZOOMS = range(8, 11), range(11, 15), range(10, 15)
HIGH_SAMPLE, ZONE_SAMPLE = 300, 40
DEFAULT_SEED = 20210719
CONNECTIONS, THREADS = 16, 2
DURATION, SMOKE_DURATION = 15, 2
MAX_TILE_BYTES = 500 * 1024
TARGET_COLD_RAW, TARGET_COLD_TIPG, TARGET_WARM = 0.8, 2.0, 2000.0
TIPG_VENV = Path(__file__).resolve().parent / ".venv-tipg"
STATIC_PATH = "/static/epimap.js"
WARM_UP_PASSES = 24

_STREETS = ("Đại lộ Bình Dương", "Cách Mạng Tháng Tám", "Nguyễn Văn Tiết", "Trần Văn Ơn", "Lê Hồng Phong",
            "Phú Lợi", "Huỳnh Văn Lũy", "Mỹ Phước - Tân Vạn", "ĐT743", "QL13", "Nguyễn Trãi", "Yersin")
_PREFIXES = ("Trạm Y tế", "Điểm xét nghiệm lưu động", "Phòng khám Đa khoa", "Điểm lấy mẫu", "Trung tâm Y tế")
_KINDS = ("PCR", "Test nhanh kháng nguyên", "PCR, test nhanh", "Lấy mẫu gộp")
_HOURS = ("7h00 - 17h00", "24/7", "7h30 - 11h30, 13h30 - 16h30", "Thứ 2 - Thứ 7, 7h - 19h", "6h00 - 22h00")


# --------------------------------------------------------------------------- database


def bench_url(database: str) -> URL:
    """Return the benchmark database URL on the configured server; refuse any other database."""
    if not re.fullmatch(r"epimap_bench_tiles[a-z0-9_]*", database):
        raise SystemExit(f"refusing to use database {database!r}: the name must start with"
                         f" {DEFAULT_DATABASE}")
    return make_url(load_settings().resolved_database_url()).set(database=database)




def prepare_database(url: URL) -> Engine:
    """Recreate the database, migrate it, load the Bình Dương boundaries and the demo feeds."""
    recreate_database(url)
    engine = create_engine(_render(url), pool_size=2)
    data_dir = load_settings().data_dir
    load_demo_feeds(engine, data_dir)
    return engine



def _quoted(values: Sequence[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


# Candidate points uniformly in a polygon's bbox, kept when inside it; ``m`` candidates are drawn
# per round (about what ``n`` needs, given the polygon/bbox area ratio) and rounds repeat until
# ``n`` are kept.  Properties look like the CDC's testing-sites feed.
_INSERT_POINTS = """
WITH area AS (SELECT ST_Union(geom) AS g FROM admin_unit WHERE boundary_set = :s AND code = ANY(:codes)),
box AS (SELECT ST_XMin(g) AS x0, ST_YMin(g) AS y0, ST_XMax(g) - ST_XMin(g) AS w,
               ST_YMax(g) - ST_YMin(g) AS h FROM area),
candidate AS (
    SELECT ST_SetSRID(ST_MakePoint(x0 + random() * w, y0 + random() * h), 4326) AS g
    FROM box, generate_series(1, :m)
), kept AS (
    SELECT c.g, :first + row_number() OVER () - 1 AS n
    FROM (SELECT c.g FROM candidate c, area WHERE ST_Intersects(area.g, c.g) LIMIT :n) c
)
INSERT INTO feature (layer_id, source_id, geom, props, approximate, content_hash, source_row,
                     valid_from_pub)
SELECT :layer, 'XN-' || lpad(n::text, 7, '0'), g,
       jsonb_build_object(
           'name', {prefixes}[1 + n % {prefix_count}] || ' số ' || n,
           'address', 'Số ' || (1 + (random() * 998)::int) || ', đường '
                      || {streets}[1 + floor(random() * {street_count})::int]
                      || ', khu phố ' || (1 + (random() * 11)::int),
           'test_types', {kinds}[1 + floor(random() * {kind_count})::int],
           'hours', {hours}[1 + floor(random() * {hour_count})::int],
           'phone', '0274 3' || lpad((random() * 999)::int::text, 3, '0') || ' '
                    || lpad((random() * 9999)::int::text, 4, '0')),
       false, md5(n::text), n, :pub
FROM kept
"""


def _insert_points_sql() -> str:
    return _INSERT_POINTS.format(
        prefixes=f"({_quoted(_PREFIXES)})", prefix_count=len(_PREFIXES),
        streets=f"({_quoted(_STREETS)})", street_count=len(_STREETS),
        kinds=f"({_quoted(_KINDS)})", kind_count=len(_KINDS),
        hours=f"({_quoted(_HOURS)})", hour_count=len(_HOURS))


def publish_points(engine: Engine, n: int, seed: int) -> tuple[int, float]:
    """Publish n testing sites (70 % in the dense districts) as one new publication.

    Return its id and the seconds its cluster overview took to build.
    """
    dense = round(n * DENSE_SHARE)
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(:s)"), {"s": (seed % 1_000_000) / 1_000_000})
        pub = conn.execute(text(
            "INSERT INTO publication (layer_id, author, action, source_name, boundary_set, scope_code,"
            " scope_level, added, removed) VALUES (:l, 'bench', 'ingest', 'bench_tiles', :s, :p, 'province',"
            " :n, (SELECT count(*) FROM feature WHERE layer_id = :l AND valid_to_pub IS NULL)) RETURNING id"),
            {"l": POINTS_LAYER, "s": SET_NAME, "p": PROVINCE, "n": n}).scalar_one()
        conn.execute(text("UPDATE feature SET valid_to_pub = :pub WHERE layer_id = :l"
                          " AND valid_to_pub IS NULL"), {"pub": pub, "l": POINTS_LAYER})
        statement = text(_insert_points_sql())
        first = 1
        for codes, wanted in ((list(DENSE_DISTRICTS), dense), ([PROVINCE], n - dense)):
            ratio = conn.execute(text(
                "SELECT ST_Area(ST_Envelope(ST_Union(geom))) / ST_Area(ST_Union(geom)) FROM admin_unit"
                " WHERE boundary_set = :s AND code = ANY(:codes)"),
                {"s": SET_NAME, "codes": codes}).scalar_one()
            done = 0
            while done < wanted:
                left = wanted - done
                added = conn.execute(statement, {
                    "s": SET_NAME, "codes": codes, "m": int(left * ratio * 1.05) + 1000, "n": left,
                    "first": first, "layer": POINTS_LAYER, "pub": pub}).rowcount
                done, first = done + added, first + added
        started = time.perf_counter()
        build_overview(conn, default_catalog().layer(POINTS_LAYER), pub)
        overview_seconds = time.perf_counter() - started
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE feature, publication, cluster_overview"))
    settle(engine)
    return pub, overview_seconds


def settle(engine: Engine) -> None:
    """Write the publish's dirty pages out now, so that no tool is measured during that I/O.

    Without it the first tool measured (the raw SQL) ran at about 60 % of its steady rate.
    CHECKPOINT needs a superuser or pg_checkpoint; without either the benchmark goes on.
    """
    with engine.connect() as conn:
        try:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("CHECKPOINT"))
        except DBAPIError as error:
            print(f"CHECKPOINT refused ({error.orig}); measuring anyway")


def current_publication(engine: Engine, layer: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT max(id) FROM publication WHERE layer_id = :l"),
                            {"l": layer}).scalar_one()


# --------------------------------------------------------------------------- tiles


@dataclass(frozen=True)
class Tile:
    """One tile of a layer at a publication."""

    layer: str
    publication: int
    z: int
    x: int
    y: int

    @property
    def path(self) -> str:
        return f"/tiles/{self.layer}/{self.publication}/{self.z}/{self.x}/{self.y}.mvt"

    @property
    def tipg_path(self) -> str:
        return f"/collections/public.{self.layer}_current/tiles/WebMercatorQuad/{self.z}/{self.x}/{self.y}"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Return the x, y of the Web Mercator tile holding a point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tiles_over(bbox: Sequence[float], z: int) -> list[tuple[int, int, int]]:
    """Return every tile (z, x, y) over a bbox (west, south, east, north)."""
    (x0, y0), (x1, y1) = tile_of(bbox[0], bbox[3], z), tile_of(bbox[2], bbox[1], z)
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def _touching(engine: Engine, candidates: list[tuple[int, int, int]], area_sql: str,
              params: dict) -> list[tuple[int, int, int]]:
    """Keep the candidate tiles whose envelope intersects an area (SQL returning one geometry ``g``)."""
    if not candidates:
        return []
    with engine.connect() as conn:
        rows = conn.execute(text(
            f"WITH area AS ({area_sql}) SELECT t.z, t.x, t.y"  # noqa: S608 - constant SQL
            " FROM unnest(CAST(:zs AS int[]), CAST(:xs AS int[]), CAST(:ys AS int[])) AS t(z, x, y), area"
            " WHERE ST_Intersects(area.g, ST_Transform(ST_TileEnvelope(t.z, t.x, t.y), 4326))"
            " ORDER BY t.z, t.x, t.y"),
            {**params, "zs": [c[0] for c in candidates], "xs": [c[1] for c in candidates],
             "ys": [c[2] for c in candidates]}).all()
    return [(r.z, r.x, r.y) for r in rows]


def _bbox(engine: Engine, area_sql: str, params: dict) -> tuple[float, float, float, float]:
    with engine.connect() as conn:
        row = conn.execute(text(f"WITH area AS ({area_sql}) SELECT ST_XMin(g) AS w, ST_YMin(g) AS s,"  # noqa: S608
                                " ST_XMax(g) AS e, ST_YMax(g) AS n FROM area"), params).one()
    return row.w, row.s, row.e, row.n


def _sample(rng: random.Random, by_zoom: dict[int, list[tuple[int, int, int]]], total: int
            ) -> list[tuple[int, int, int]]:
    """Take up to ``total`` tiles, spread evenly over the zooms (a zoom's unused share goes on)."""
    chosen, zooms = [], sorted(by_zoom)
    for i, z in enumerate(zooms):
        quota = (total - len(chosen)) // (len(zooms) - i)
        tiles = by_zoom[z]
        chosen += tiles if len(tiles) <= quota else sorted(rng.sample(tiles, quota))
    return chosen


_UNITS = "SELECT ST_Union(geom) AS g FROM admin_unit WHERE boundary_set = :s AND code = ANY(:codes)"
_ZONES = "SELECT ST_Union(geom) AS g FROM feature WHERE layer_id = :l AND valid_to_pub IS NULL"


def tile_list(engine: Engine, seed: int) -> list[Tile]:
    """Testing sites: z8-z10 over the province, up to ~300 z11-z14 tiles over the dense districts;
    plus up to 40 z10-z14 lockdown-zone tiles; in a seeded random order."""
    rng = random.Random(seed)
    points_pub = current_publication(engine, POINTS_LAYER)
    zones_pub = current_publication(engine, ZONES_LAYER)
    province = {"s": SET_NAME, "codes": [PROVINCE]}
    dense = {"s": SET_NAME, "codes": list(DENSE_DISTRICTS)}
    box = _bbox(engine, _UNITS, province)
    low = [t for z in LOW_ZOOMS for t in tiles_over(box, z)]
    box = _bbox(engine, _UNITS, dense)
    high = {z: _touching(engine, tiles_over(box, z), _UNITS, dense) for z in HIGH_ZOOMS}
    zones = {"l": ZONES_LAYER}
    box = _bbox(engine, _ZONES, zones)
    zone_tiles = {z: _touching(engine, tiles_over(box, z), _ZONES, zones) for z in ZONE_ZOOMS}
    tiles = ([Tile(POINTS_LAYER, points_pub, *t) for t in low]
             + [Tile(POINTS_LAYER, points_pub, *t) for t in _sample(rng, high, HIGH_SAMPLE)]
             + [Tile(ZONES_LAYER, zones_pub, *t) for t in _sample(rng, zone_tiles, ZONE_SAMPLE)])
    # Clients cycle through the list from their own offsets and a 15 s run covers only a pass or
    # two: a seeded shuffle makes any stretch of the list mix the zooms as the whole list does
    # (the dozen z8-z10 tiles cost as much as all the others together).
    rng.shuffle(tiles)
    return tiles


_BIND = re.compile(r"(?<![:\w]):(\w+)")


def _literal(value: object) -> str:
    if isinstance(value, bool) or value is None:
        raise TypeError(f"unexpected parameter {value!r}")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list | tuple):
        return _quoted([str(v) for v in value]) + "::text[]"
    raise TypeError(f"unexpected parameter {value!r}")


def tile_sql(tile: Tile) -> str:
    """Render the exact statement ``layers.tiles`` runs for a tile, with literal parameters."""
    layer = default_catalog().layer(tile.layer)
    statement, params = tile_statement(layer, tile.publication, tile.z, tile.x, tile.y)
    return _BIND.sub(lambda m: _literal(params[m.group(1)]), statement.text).strip()


# --------------------------------------------------------------------------- measuring


@dataclass
class Result:
    """One tool's run: throughput, latency and the largest tile it served."""

    tool: str
    rate: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    largest: int | None = None
    requests: int = 0
    errors: int = 0
    missing: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.missing is None and self.errors == 0 and self.requests > 0


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def _tail(path: Path, lines: int = 20) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text("utf-8", errors="replace").splitlines()[-lines:])


def _libpq(url: URL) -> dict[str, str]:
    query = url.query
    host = url.host or query.get("host") or ""
    port = url.port or query.get("port") or ""
    return {"host": str(host), "port": str(port), "user": url.username or "", "dbname": url.database or ""}


def raw_tiles(engine: Engine, tiles: Sequence[Tile]) -> dict[Tile, bytes]:
    """Run every tile's rendered SQL once (this also warms the database's caches)."""
    out = {}
    with engine.connect() as conn:
        for tile in tiles:
            found, data = conn.exec_driver_sql(tile_sql(tile)).one()
            assert found, tile
            out[tile] = bytes(data or b"")
    return out


def run_pgbench(url: URL, tiles: Sequence[Tile], duration: int, workdir: Path,
                clients: int = CONNECTIONS) -> Result:
    """The raw PostGIS ceiling: pgbench runs the tiles' rendered SQL, one tile a transaction.

    Like the wrk script, each client cycles through the (shuffled) list from its own offset: with a
    few z8-z10 tiles costing a hundred times the others, random picks would swing a 15 s run by
    ±15 %.
    """
    script = workdir / f"tile_c{clients}.sql"
    n = len(tiles)
    lines = [f"\\set i (:i + 1) % {n}", f"\\set t (:client_id * {n} / {clients} + :i) % {n}"]
    for i, tile in enumerate(tiles):
        lines += [("\\if" if i == 0 else "\\elif") + f" :t = {i}", tile_sql(tile) + ";"]
    lines.append("\\endif")
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    conn = _libpq(url)
    logs = workdir / f"pgbench_c{clients}_log"
    cmd = ["pgbench", "-n", f"-c{clients}", f"-j{THREADS}", f"-T{duration}", "-D", "i=-1",
           "-f", str(script), "-l", f"--log-prefix={logs}", "-h", conn["host"], "-p", conn["port"],
           "-U", conn["user"], conn["dbname"]]
    result = Result("raw PostGIS" if clients == CONNECTIONS else f"raw, {clients} conns")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    (workdir / f"pgbench_c{clients}.out").write_text(done.stdout + done.stderr, encoding="utf-8")
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    if done.returncode != 0 or not tps:
        output = (done.stderr or done.stdout).strip()[-400:]
        result.missing = f"pgbench failed (exit {done.returncode}): {output}"
        return result
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    result.errors = int(failed.group(1)) if failed else 0
    latencies = [int(line.split()[2]) / 1000 for path in workdir.glob(f"{logs.name}.*")
                 for line in path.read_text().splitlines() if line.strip()]
    result.rate, result.requests = float(tps.group(1)), len(latencies)
    if latencies:
        result.p50_ms, result.p99_ms = _percentile(latencies, 50), _percentile(latencies, 99)
    return result


_WRK_LUA = """-- Cycles through the tile list; each wrk thread starts at its own offset.
local paths = {
%s
}
local index = 0
local count = 0

function setup(thread)
  thread:set("thread_number", count)
  count = count + 1
end

function init(args)
  index = math.floor((thread_number or 0) * #paths / %d)
end

function request()
  index = index %% #paths + 1
  return wrk.format("GET", paths[index])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK requests=%%d duration_us=%%d status=%%d timeout=%%d connect=%%d read=%%d"
    .. " write=%%d p50_us=%%d p99_us=%%d\\n", summary.requests, summary.duration, e.status, e.timeout,
    e.connect, e.read, e.write, latency:percentile(50), latency:percentile(99)))
end
"""


def run_wrk(tool: str, base: str, paths: Sequence[str], duration: int, workdir: Path) -> Result:
    """Load a server with wrk (16 connections) cycling through the paths; return its figures."""
    name = re.sub(r"\W+", "_", tool)
    script = workdir / f"urls_{name}.lua"
    script.write_text(_WRK_LUA % (",\n".join(f'  "{p}"' for p in paths), THREADS), encoding="utf-8")
    # wrk's default 2 s timeout would drop the slowest tiles from the figures: allow 30 s.
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--timeout", "30s", "--latency",
           "-s", str(script), base]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    (workdir / f"wrk_{name}.out").write_text(done.stdout + done.stderr, encoding="utf-8")
    found = re.search(r"WRK (.*)", done.stdout)
    result = Result(tool)
    if done.returncode != 0 or not found:
        result.missing = f"wrk failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()[-400:]}"
        return result
    figures = {k: int(v) for k, v in (item.split("=") for item in found.group(1).split())}
    result.requests = figures["requests"]
    result.rate = figures["requests"] / (figures["duration_us"] / 1e6)
    result.p50_ms, result.p99_ms = figures["p50_us"] / 1000, figures["p99_us"] / 1000
    result.errors = sum(figures[k] for k in ("status", "timeout", "connect", "read", "write"))
    if result.errors:
        result.notes.append(f"{tool}: {result.errors} errors (status {figures['status']}, timeout"
                            f" {figures['timeout']}, connect {figures['connect']}, read {figures['read']},"
                            f" write {figures['write']})")
    return result


def fetch_all(base: str, paths: Sequence[str]) -> dict[str, bytes]:
    """GET every path once; raise when one is not a 200."""
    out = {}
    for path in paths:
        with urllib.request.urlopen(base + path, timeout=120) as response:  # noqa: S310 - local server
            if response.status != 200:
                raise RuntimeError(f"GET {path}: HTTP {response.status}")
            out[path] = response.read()
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A server child process in its own process group, stopped by that group's id."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path, workdir: Path,
                 port: int) -> None:
        self.name, self.base, self.log = name, f"http://127.0.0.1:{port}", workdir / f"{name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def wait_ready(self, path: str, timeout: float) -> None:
        """Wait until ``path`` answers 200; raise with the server's log when it never does."""
        deadline, last = time.monotonic() + timeout, ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{_tail(self.log)}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=30) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                last = str(error)
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s ({last}):\n{_tail(self.log)}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def epimap_server(url: URL, workdir: Path, cache: bool) -> Server:
    """Start gunicorn (4 sync workers) on the benchmark database, with or without the tile cache."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("EPIMAP_TILE_CACHE_SIZE", "EPIMAP_TILE_CACHE_DIR")}
    env.update(EPIMAP_DATABASE_URL=_render(url), EPIMAP_BASEMAP_URL="")
    if not cache:
        env["EPIMAP_TILE_CACHE_SIZE"] = "0"
    port = free_port()
    cmd = [str(Path(sys.executable).with_name("gunicorn")), "-w", "4", "-b", f"127.0.0.1:{port}",
           "portal:create_app()"]
    server = Server("epimap_warm" if cache else "epimap_cold", cmd, env, PROJECT_ROOT, workdir, port)
    server.wait_ready(f"/tiles/{POINTS_LAYER}.json", timeout=60)
    return server


def warm_up(base: str, paths: Sequence[str]) -> float:
    """Request every path WARM_UP_PASSES times, 16 at a time; return the seconds it took.

    Each gunicorn worker keeps its own cache and the kernel hands a connection to whichever worker
    is free, so one pass leaves about three quarters of the (worker, tile) pairs cold; after 24
    passes the odds that a worker never saw a given tile are (3/4)^24 = 0.1 %.
    """
    started = time.perf_counter()
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        list(pool.map(lambda path: fetch_all(base, [path]), list(paths) * WARM_UP_PASSES))
    return time.perf_counter() - started


def measure_epimap(url: URL, tiles: Sequence[Tile], duration: int, workdir: Path, cache: bool,
                   raw: dict[Tile, bytes]) -> Result:
    """Cold: every tile from the database.  Warm: the default cache, after the warm-up passes."""
    tool = "epimap warm" if cache else "epimap cold"
    paths = [t.path for t in tiles]
    server = None
    try:
        server = epimap_server(url, workdir, cache)
        served = fetch_all(server.base, paths)
        warm_seconds = warm_up(server.base, paths) if cache else 0.0
        result = run_wrk(tool, server.base, paths, duration, workdir)
        if cache:  # the yardstick: the same server sending a static file, no tile code at all
            static = run_wrk("static file", server.base, [STATIC_PATH], duration, workdir)
    except Exception as error:  # noqa: BLE001 - reported as a failed tool
        return Result(tool, missing=f"{type(error).__name__}: {error}")
    finally:
        if server is not None:
            server.stop()
    result.largest = max(len(b) for b in served.values())
    if cache:
        result.notes.append(f"{tool}: measured after {WARM_UP_PASSES} warm-up passes ({warm_seconds:.0f} s),"
                            " so that each of the 4 workers' own caches holds every tile")
        result.notes.append(f"{tool}: the same gunicorn serves {static.rate:,.0f} req/s of {STATIC_PATH}"
                            f" (p50 {_ms(static.p50_ms)} ms, {static.errors} errors)")
    else:
        same = sum(served[t.path] == raw[t] for t in tiles)
        differ = "" if same == len(tiles) else " (a plan may order a tile's rows differently)"
        result.notes.append(f"{tool}: {same}/{len(tiles)} tiles byte-identical to the raw SQL's{differ}")
    return result


# --------------------------------------------------------------------------- tipg


def _tipg_table_sql(layer_id: str) -> str:
    layer = default_catalog().layer(layer_id)
    columns = ", ".join(f"f.props->>'{name}' AS \"{name}\"" for name in layer.public_attributes)
    table = f"public.{layer_id}_current"
    return (f"DROP TABLE IF EXISTS {table};"  # noqa: S608 - catalogue names only
            f" CREATE TABLE {table} AS SELECT f.id, f.source_id, f.approximate,"
            f" extract(epoch FROM p.created_at)::bigint AS updated, {columns},"
            f" f.geom::geometry({'Point' if layer.geometry == 'point' else 'Geometry'}, 4326) AS geom"
            f" FROM feature f JOIN publication p ON p.id = f.valid_from_pub"
            f" WHERE f.layer_id = '{layer_id}' AND f.valid_to_pub IS NULL ORDER BY f.id;"
            f" ALTER TABLE {table} ADD PRIMARY KEY (id);"
            f" CREATE INDEX ON {table} USING gist (geom);"
            f" ANALYZE {table};")


def prepare_tipg_tables(engine: Engine) -> None:
    """Copy the current rows of the layers into plain tables (primary key, GiST index) for tipg."""
    with engine.begin() as conn:
        for layer_id in (POINTS_LAYER, ZONES_LAYER):
            conn.exec_driver_sql(_tipg_table_sql(layer_id))


def ensure_tipg() -> Path:
    """Return tipg's uvicorn in ``bench/.venv-tipg``, creating the virtualenv when missing."""
    uvicorn = TIPG_VENV / "bin" / "uvicorn"
    if uvicorn.exists():
        return uvicorn
    python = shutil.which("python3") or sys.executable
    steps = ([python, "-m", "venv", str(TIPG_VENV)],
             [str(TIPG_VENV / "bin" / "pip"), "install", "--quiet", "tipg", "uvicorn"])
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(step[:3])} failed: {(done.stderr or done.stdout).strip()[-400:]}")
        if step is steps[0]:
            (TIPG_VENV / ".gitignore").write_text("*\n")  # a throwaway environment: never committed
    return uvicorn


def tipg_database_url(url: URL) -> str:
    """asyncpg's URL for the database; a socket directory goes percent-encoded in the host."""
    conn = _libpq(url)
    host = urllib.parse.quote(conn["host"], safe="")
    return f"postgresql://{urllib.parse.quote(conn['user'])}@{host}:{conn['port']}/{conn['dbname']}"


def measure_tipg(engine: Engine, url: URL, tiles: Sequence[Tile], duration: int, workdir: Path) -> Result:
    """tipg under uvicorn (4 workers) on tables of the current rows, over the same tiles."""
    server = None
    try:
        uvicorn = ensure_tipg()
        prepare_tipg_tables(engine)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TIPG_", "DATABASE_URL", "POSTGRES_"))}
        tables = [f"public.{layer}_current" for layer in (POINTS_LAYER, ZONES_LAYER)]
        env.update(DATABASE_URL=tipg_database_url(url), TIPG_DB_SCHEMAS='["public"]',
                   TIPG_DB_TABLES="[" + ",".join(f'"{t}"' for t in tables) + "]",
                   TIPG_TILE_BUFFER="64")  # epimap's buffer; tipg's default is 256
        port = free_port()
        cmd = [str(uvicorn), "tipg.main:app", "--host", "127.0.0.1", "--port", str(port), "--workers", "4",
               "--no-access-log", "--log-level", "warning"]
        server = Server("tipg", cmd, env, workdir, workdir, port)  # cwd: no stray .env is read
        server.wait_ready(f"/collections/{tables[0]}", timeout=180)
        paths = [t.tipg_path for t in tiles]
        served = fetch_all(server.base, paths)
        result = run_wrk("tipg", server.base, paths, duration, workdir)
    except Exception as error:  # noqa: BLE001 - tipg is optional: reported as MISSING
        return Result("tipg", missing=f"{type(error).__name__}: {str(error).strip()[:600]}")
    finally:
        if server is not None:
            server.stop()
    result.largest = max(len(b) for b in served.values())
    result.notes.append("tipg: no clustering; at most 10,000 features a tile (TIPG_MAX_FEATURES_PER_TILE)")
    return result


# --------------------------------------------------------------------------- report


def _ms(value: float | None) -> str:
    return f"{value:,.1f}" if value is not None else "-"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_report(title: str, results: list[Result], largest: int) -> None:
    """Print the table, the notes, the tile-size check and the ratios with PASS/MISS."""
    print(f"\n== {title} ==")
    print(f"{'tool':<12} {'tiles/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'largest tile bytes':>19}")
    for r in results:
        if r.missing:
            print(f"{r.tool:<12} MISSING: {r.missing}")
            continue
        size = f"{r.largest:,}" if r.largest is not None else "-"
        failed = f"  ({r.errors} errors)" if r.errors else ""
        print(f"{r.tool:<12} {r.rate:>10,.1f} {_ms(r.p50_ms):>9} {_ms(r.p99_ms):>9} {size:>19}{failed}")
    for r in results:
        for note in r.notes:
            print(f"  {note}")
    print(f"no tile > 500 KB: {_verdict(largest <= MAX_TILE_BYTES)} (largest epimap tile {largest:,} bytes)")
    tools = {r.tool: r for r in results}
    raw, cold, warm, tipg = (tools.get(k) for k in ("raw PostGIS", "epimap cold", "epimap warm", "tipg"))

    def ratio(label: str, a: Result | None, b: Result | None, target: float) -> None:
        if a is None or b is None or not a.ok or not b.ok or b.rate <= 0:
            print(f"ratio {label}: n/a (not measured) (target >= {target:g}): MISS")
            return
        value = a.rate / b.rate
        print(f"ratio {label}: {value:.2f} (target >= {target:g}): {_verdict(value >= target)}")

    ratio("cold/raw", cold, raw, TARGET_COLD_RAW)
    raw4 = tools.get("raw, 4 conns")
    if cold is not None and raw4 is not None and cold.ok and raw4.ok and raw4.rate > 0:
        print(f"ratio cold/raw at 4 connections: {cold.rate / raw4.rate:.2f} (a reference, no target)")
    ratio("cold/tipg", cold, tipg, TARGET_COLD_TIPG)
    rate = warm.rate if warm is not None and warm.ok else 0.0
    print(f"warm tiles/s: {rate:,.0f} (target >= {TARGET_WARM:,.0f}): {_verdict(rate >= TARGET_WARM)}")


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.tiles", description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int,
                        help=f"testing sites to publish (default {DEFAULT_POINTS:,}; smoke {SMOKE_POINTS:,})")
    parser.add_argument("--smoke", action="store_true", help=f"quick run: {SMOKE_DURATION} s per tool")
    parser.add_argument("--no-tipg", action="store_true", help="skip tipg")
    parser.add_argument("--duration", type=int, help=f"seconds per tool (default {DURATION}; smoke"
                        f" {SMOKE_DURATION})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--database", default=DEFAULT_DATABASE,
                        help=f"database to (re)create and drop (must start with {DEFAULT_DATABASE})")
    parser.add_argument("--workdir", type=Path, help="keep the scripts, outputs and logs here")
    args = parser.parse_args(argv)
    args.points = args.points or (SMOKE_POINTS if args.smoke else DEFAULT_POINTS)
    args.duration = args.duration or (SMOKE_DURATION if args.smoke else DURATION)
    if args.points < 1 or args.duration < 1:
        parser.error("--points and --duration must be positive")
    return args


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks: servers stop, database drops


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    url = bench_url(args.database)
    missing = [tool for tool in ("wrk", "pgbench") if shutil.which(tool) is None]
    if missing:
        print(f"missing tools: {', '.join(missing)}")
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    print(f"epimap tile benchmark: database {url.database}, {args.points:,} testing sites, seed {args.seed},"
          f" {CONNECTIONS} connections, {args.duration} s per tool, load average"
          f" {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs")
    tmp = None
    if args.workdir:
        workdir = args.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="epimap-bench-tiles-")
        workdir = Path(tmp.name)
    engine = None
    try:
        started = time.perf_counter()
        engine = prepare_database(url)
        print(f"database ready in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        pub, overview_seconds = publish_points(engine, args.points, args.seed)
        print(f"published {args.points:,} testing sites (publication {pub}) in"
              f" {time.perf_counter() - started:.1f} s, of which {overview_seconds:.1f} s building"
              " its cluster overview")
        tiles = tile_list(engine, args.seed)
        zooms = sorted({t.z for t in tiles})
        print(f"{len(tiles)} tiles: {sum(t.layer == POINTS_LAYER for t in tiles)} testing-sites tiles,"
              f" {sum(t.layer == ZONES_LAYER for t in tiles)} lockdown-zones tiles, z{zooms[0]}-z{zooms[-1]}")
        raw = raw_tiles(engine, tiles)
        # The ceiling, then a reference: the database at the concurrency gunicorn -w 4 gives it.
        results = [run_pgbench(url, tiles, args.duration, workdir),
                   run_pgbench(url, tiles, args.duration, workdir, clients=4)]
        for r in results:
            r.largest = max(len(b) for b in raw.values())
        results[1].notes.append(f"{results[1].tool}: pgbench at 4 clients, the database concurrency of"
                                " gunicorn -w 4 (a reference row, not a target)")
        results.append(measure_epimap(url, tiles, args.duration, workdir, cache=False, raw=raw))
        results.append(measure_epimap(url, tiles, args.duration, workdir, cache=True, raw=raw))
        if args.no_tipg:
            print("tipg: skipped (--no-tipg)")
        else:
            results.append(measure_tipg(engine, url, tiles, args.duration, workdir))
        largest = max(r.largest or 0 for r in results if r.tool != "tipg")  # the raw SQL's tiles too
        print_report(f"{args.points:,} testing sites, {len(tiles)} tiles, wrk/pgbench {CONNECTIONS}"
                     f" connections, {args.duration} s", results, largest)
        print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        failed = [r for r in results if r.tool != "tipg" and not r.ok]
        return 1 if failed or largest > MAX_TILE_BYTES else 0
    finally:
        if engine is not None:
            engine.dispose()
        drop_database(url)
        print(f"dropped database {url.database}")
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
