"""Benchmark ``epimap ingest`` against ``ogr2ogr`` on a large, seeded testing-sites feed.

``python -m bench.ingest [--rows N] [--xlsx-rows N] [--smoke]`` (``make bench``, ``make bench-smoke``):

1. (re)creates its own database (``epimap_bench`` on the configured server; never ``epimap`` or
   ``epimap_test*``), migrates it and loads the Bình Dương 2021 boundaries (and drops it at the end
   unless ``--keep-database``);
2. generates an N-row CSV shaped like the CDC's testing-sites feed, with points drawn uniformly
   inside the province polygon (and its communes), plus planted bad rows: 0.1 % outside the
   province, 0.1 % without a name (both rejected), 0.5 % located only by their commune name;
3. times ``ogr2ogr`` loading it into PostGIS, the raw PostGIS floor (``bench.ingest_floor``: the
   least SQL that stores the rows located and indexed as epimap stores them), then ``epimap ingest
   --layer testing_sites`` (full validation, commune assignment, publication), each from empty
   tables, each under a tiny stdlib parent that reaps it with ``os.wait4``: wall seconds, CPU
   seconds and peak RSS of that process alone (the database server's work shows in the wall time
   only);
4. does the same for an XLSX workbook (openpyxl write-only; ogr2ogr's XLSX driver builds the
   points through its SQLite dialect);
5. prints a table per format, the floor's and epimap's ratios and the targets (within 1.5×
   of ogr2ogr; peak RSS under 1 GB) with PASS/MISS.  Exit status is 0 unless a tool fails or
   epimap accepts a different number of rows than planted.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from openpyxl import Workbook
from sqlalchemy import URL, Engine, create_engine, make_url, text

from bench.database import drop_database, recreate_database
from bench.database import render as _render
from bench.ingest_floor import FLOOR_TABLE, floor_script
from epimap.settings import load_settings
from ingest.locate import PIECE_VERTICES

DEFAULT_DATABASE = "epimap_bench"
LAYER = "testing_sites"
SET_NAME, PROVINCE = "vn2021", "74"
DEFAULT_ROWS, DEFAULT_XLSX_ROWS = 1_000_000, 100_000
SMOKE_ROWS, SMOKE_XLSX_ROWS = 2_000, 500
DEFAULT_SEED = 20210801
RATIO_TARGET = 1.5
RSS_TARGET_MB = 1024.0
MB = 1024 * 1024

HEADERS = ("Tên cơ sở xét nghiệm", "Địa chỉ", "Xã/Phường", "Vĩ độ", "Kinh độ", "Hình thức",
           "Thời gian làm việc", "Số điện thoại")
_PREFIXES = ("Trạm Y tế", "Điểm xét nghiệm lưu động", "Phòng khám Đa khoa", "Bệnh viện",
             "Điểm lấy mẫu", "Trung tâm Y tế")
_STREETS = ("Đại lộ Bình Dương", "Cách Mạng Tháng Tám", "Nguyễn Văn Tiết", "Trần Văn Ơn", "Lê Hồng Phong",
            "Phú Lợi", "Huỳnh Văn Lũy", "Mỹ Phước - Tân Vạn", "ĐT743", "QL13", "Nguyễn Trãi", "Yersin")
_KINDS = ("PCR", "Test nhanh kháng nguyên", "PCR, test nhanh", "Lấy mẫu gộp", "Test nhanh")
_HOURS = ("7h00 - 17h00", "24/7", "7h30 - 11h30, 13h30 - 16h30", "Thứ 2 - Thứ 7, 7h - 19h", "6h00 - 22h00")


# --------------------------------------------------------------------------- database


def bench_url(database: str = DEFAULT_DATABASE) -> URL:
    """Return the URL of the benchmark database on the configured server (EPIMAP_DATABASE_URL or
    the local cluster); the name must start with ``epimap_bench``, so no real database is touched."""
    if not re.fullmatch(rf"{DEFAULT_DATABASE}[a-z0-9_]*", database):
        raise SystemExit(f"refusing database {database!r}: the name must start with {DEFAULT_DATABASE}")
    return make_url(load_settings().resolved_database_url()).set(database=database)




def prepare_database(url: URL) -> Engine:
    """Drop and recreate the benchmark database, migrate it and load the Bình Dương boundaries."""
    recreate_database(url)
    return create_engine(_render(url), isolation_level="AUTOCOMMIT")



def reset_layers(engine: Engine) -> None:
    """Empty the published features and the ogr2ogr tables, so every run starts from nothing."""
    with engine.connect() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS ogr_sites, ogr_sites_xlsx, {FLOOR_TABLE}"))
        conn.execute(text("TRUNCATE feature, publication, cluster_overview RESTART IDENTITY CASCADE"))


def _libpq_value(value: str) -> str:
    if value and not re.search(r"[\s'\\]", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pg_conninfo(url: URL) -> tuple[str, dict[str, str]]:
    """Return ogr2ogr's ``PG:`` connection string for a SQLAlchemy URL, and extra environment."""
    query = url.query
    host = url.host or query.get("host")
    port = url.port or query.get("port")
    parts = {"dbname": url.database, "host": host, "port": port, "user": url.username}
    info = " ".join(f"{k}={_libpq_value(str(v))}" for k, v in parts.items() if v)
    env = {"PGPASSWORD": url.password} if url.password else {}
    return "PG:" + info, env


def province_and_communes(engine: Engine) -> tuple[shapely.Geometry, list[str], list[shapely.Geometry],
                                                     list[str]]:
    """Return the province polygon, commune names and polygons, and the commune names that are unique."""
    with engine.connect() as conn:
        province = conn.execute(text(
            "SELECT ST_AsBinary(geom) FROM admin_unit WHERE boundary_set = :s AND code = :c"),
            {"s": SET_NAME, "c": PROVINCE}).scalar_one()
        rows = conn.execute(text(
            "SELECT name, ST_AsBinary(geom) AS geom, count(*) OVER (PARTITION BY name_key) AS same"
            " FROM admin_unit WHERE boundary_set = :s AND level = 'commune' ORDER BY code"),
            {"s": SET_NAME}).all()
    names = [r.name for r in rows]
    polygons = list(shapely.from_wkb([bytes(r.geom) for r in rows]))
    unique = [r.name for r in rows if r.same == 1]
    return shapely.from_wkb(bytes(province)), names, polygons, unique


# --------------------------------------------------------------------------- data


@dataclass
class Dataset:
    """The generated rows (column lists) and what epimap should make of them."""

    columns: list[list]
    outside: int = 0
    unnamed: int = 0
    by_commune: int = 0

    @property
    def rows(self) -> int:
        return len(self.columns[0])

    @property
    def expected_accepted(self) -> int:
        return self.rows - self.outside - self.unnamed


def _micro_degrees(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    """Draw coordinates on a 1e-6° grid, as doubles equal to what their 6-decimal text parses to."""
    return rng.integers(int(low * 1e6), int(high * 1e6) + 1, n) / 1e6


def sample_points(rng: np.random.Generator, n: int, inside: Sequence[shapely.Geometry],
                  outside: shapely.Geometry | None = None, margin: float = 0.0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Draw n points in the first polygon's bbox (grown by margin) inside all of ``inside``,
    or, when ``outside`` is given, outside it instead."""
    min_x, min_y, max_x, max_y = inside[0].bounds
    for polygon in (*inside, outside):
        if polygon is not None:
            shapely.prepare(polygon)
    xs, ys, found = [], [], 0
    while found < n:
        batch = max(1024, 2 * (n - found))
        x = _micro_degrees(rng, min_x - margin, max_x + margin, batch)
        y = _micro_degrees(rng, min_y - margin, max_y + margin, batch)
        if outside is not None:
            keep = ~shapely.contains_xy(outside, x, y)
        else:
            keep = np.ones(batch, dtype=bool)
            for polygon in inside:
                keep &= shapely.contains_xy(polygon, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
        found += int(keep.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def generate(engine: Engine, n: int, seed: int) -> Dataset:
    """Generate n testing-site rows inside Bình Dương, some of them planted to be rejected."""
    rng = np.random.default_rng(seed)
    province, names, polygons, unique_names = province_and_communes(engine)
    communes = shapely.union_all(polygons)
    x, y = sample_points(rng, n, [province, communes])
    data = Dataset(columns=[], outside=max(1, n // 1000), unnamed=max(1, n // 1000),
                   by_commune=max(1, n // 200))
    planted = rng.choice(n, size=data.outside + data.unnamed + data.by_commune, replace=False)
    outside_rows = planted[:data.outside]
    unnamed_rows = planted[data.outside:data.outside + data.unnamed]
    commune_rows = planted[data.outside + data.unnamed:]
    ox, oy = sample_points(rng, data.outside, [province], outside=province.buffer(0.02), margin=0.2)
    x[outside_rows], y[outside_rows] = ox, oy

    tree = shapely.STRtree(polygons)
    point_index, polygon_index = tree.query(shapely.points(x, y), predicate="within")
    commune_of = np.full(n, -1)
    commune_of[point_index[::-1]] = polygon_index[::-1]  # the first match wins
    commune = [names[i] if i >= 0 else "" for i in commune_of.tolist()]
    pick = rng.integers(0, len(unique_names), len(commune_rows))
    for row, k in zip(commune_rows.tolist(), pick.tolist(), strict=True):
        commune[row] = unique_names[k]

    prefix = rng.integers(0, len(_PREFIXES), n).tolist()
    name = [f"{_PREFIXES[p]} {c.split(' ', 1)[-1] if c else 'Bình Dương'} số {i + 1}"
            for i, (p, c) in enumerate(zip(prefix, commune, strict=True))]
    for row in unnamed_rows.tolist():
        name[row] = ""
    house, quarter = rng.integers(1, 999, n), rng.integers(1, 12, n)
    street = rng.integers(0, len(_STREETS), n)
    address = [f"Số {h}, đường {_STREETS[s]}, khu phố {q}"
               for h, s, q in zip(house.tolist(), street.tolist(), quarter.tolist(), strict=True)]
    lat = [f"{v:.6f}" for v in y.tolist()]
    lon = [f"{v:.6f}" for v in x.tolist()]
    for row in commune_rows.tolist():
        lat[row] = lon[row] = ""
    kinds = [_KINDS[k] for k in rng.integers(0, len(_KINDS), n).tolist()]
    hours = [_HOURS[k] for k in rng.integers(0, len(_HOURS), n).tolist()]
    mobile = rng.random(n) < 0.4
    digits = rng.integers(0, 10_000_000, n).tolist()
    phone = [f"09{d // 100_000 % 100:02d} {d // 1000 % 1000:03d} {d % 1000:03d}" if m
             else f"0274 3{d // 10_000 % 100:02d} {d % 10_000:04d}"
             for d, m in zip(digits, mobile.tolist(), strict=True)]
    data.columns = [name, address, commune, lat, lon, kinds, hours, phone]
    return data


def write_csv(path: Path, data: Dataset) -> None:
    """Write the rows as a UTF-8 CSV with the feed's Vietnamese headers."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(zip(*data.columns, strict=True))


def write_xlsx(path: Path, data: Dataset) -> None:
    """Write the rows as an XLSX workbook (openpyxl write-only), coordinates as numbers."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Điểm xét nghiệm")
    sheet.append(HEADERS)
    for row in zip(*data.columns, strict=True):
        cells = list(row)
        for i in (3, 4):
            cells[i] = float(cells[i]) if cells[i] else None
        sheet.append(cells)
    book.save(path)


# --------------------------------------------------------------------------- measuring


@dataclass
class Measured:
    """One tool's run over one file."""

    tool: str
    rows: int
    loaded: int | None = None
    wall: float = 0.0
    cpu: float = 0.0
    rss_mb: float = 0.0
    returncode: int = 0
    log: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def rate(self) -> float:
        return self.rows / self.wall if self.wall else 0.0


# A small stdlib-only parent for each measured tool: Popen from this process would carry its
# own (large) RSS into the child's ru_maxrss, since Linux keeps the pre-exec high-water mark.
_WRAPPER = """
import os, sys, time
report, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(report, "w") as handle:
    cpu = usage.ru_utime + usage.ru_stime
    handle.write(f"{wall} {cpu} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run_child(cmd: list[str], env: dict[str, str], log: Path) -> tuple[float, float, float, int]:
    """Run one command; return its wall seconds, CPU seconds, own peak RSS in MB and exit code.

    The command runs under a tiny ``python -S`` parent that reaps it with ``os.wait4``, so
    ``ru_maxrss`` (KiB on Linux) is that command's alone (floored at the parent's ~10 MB).
    """
    report = log.with_suffix(".usage")
    with log.open("wb") as out:
        subprocess.run([sys.executable, "-S", "-c", _WRAPPER, str(report), *cmd], env=env, stdout=out,
                       stderr=subprocess.STDOUT, check=False)
    wall, cpu, rss_kib, code = report.read_text().split()
    return float(wall), float(cpu), int(rss_kib) / 1024, int(code)


def _count(engine: Engine, sql: str) -> int | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text(sql)).scalar()
        except Exception:  # noqa: BLE001 - a missing table means nothing was loaded
            return None


def run_ogr2ogr(engine: Engine, url: URL, path: Path, rows: int, workdir: Path) -> Measured:
    """Load a CSV or XLSX file into PostGIS with ogr2ogr."""
    conninfo, extra = pg_conninfo(url)
    common = ["-a_srs", "EPSG:4326", "-overwrite", "-lco", "GEOMETRY_NAME=geom",
              "--config", "PG_USE_COPY", "YES"]
    if path.suffix == ".csv":
        table = "ogr_sites"
        cmd = ["ogr2ogr", "-f", "PostgreSQL", conninfo, str(path), "-oo", "X_POSSIBLE_NAMES=Kinh*",
               "-oo", "Y_POSSIBLE_NAMES=Vĩ*", "-oo", "AUTODETECT_TYPE=YES", "-nln", table, *common]
    else:
        table = "ogr_sites_xlsx"
        sql = ('SELECT *, MakePoint(CAST("Kinh độ" AS REAL), CAST("Vĩ độ" AS REAL), 4326) AS geom'
               ' FROM "Điểm xét nghiệm"')
        cmd = ["ogr2ogr", "-f", "PostgreSQL", conninfo, str(path), "-oo", "HEADERS=FORCE",
               "-dialect", "SQLite", "-sql", sql, "-nlt", "POINT", "-nln", table, *common]
    result = Measured("ogr2ogr", rows, log=workdir / f"ogr2ogr{path.suffix}.log")
    result.wall, result.cpu, result.rss_mb, result.returncode = run_child(cmd, {**os.environ, **extra},
                                                                          result.log)
    result.loaded = _count(engine, f'SELECT count(*) FROM "{table}"')  # noqa: S608 - constant names
    if result.ok and result.loaded is not None:
        located = _count(engine, f'SELECT count(*) FROM "{table}" WHERE geom IS NOT NULL')  # noqa: S608
        result.notes.append(f"ogr2ogr: {located:,} rows with a point")
    return result


def run_floor(engine: Engine, url: URL, path: Path, data: Dataset, workdir: Path) -> Measured:
    """Store a CSV's rows located and indexed as epimap does, in raw SQL (``bench.ingest_floor``)."""
    conninfo, extra = pg_conninfo(url)
    script = workdir / "floor.sql"
    script.write_text(floor_script(path.resolve(), LAYER, SET_NAME, "commune", PIECE_VERTICES), "utf-8")
    cmd = ["psql", "-X", "-q", "-d", conninfo.removeprefix("PG:"), "-f", str(script)]
    result = Measured("postgis", data.rows, log=workdir / "postgis.log")
    result.wall, result.cpu, result.rss_mb, result.returncode = run_child(cmd, {**os.environ, **extra},
                                                                          result.log)
    result.loaded = _count(engine, f"SELECT count(*) FROM {FLOOR_TABLE}")  # noqa: S608 - a constant
    return result


def epimap_command() -> list[str]:
    """Return the ``epimap`` console script next to this interpreter, or a ``python -c`` fallback."""
    script = Path(sys.executable).with_name("epimap")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from epimap.cli import main; main()"]


def run_epimap(engine: Engine, url: URL, path: Path, data: Dataset, workdir: Path) -> Measured:
    """Ingest a file with ``epimap ingest`` (validation, commune assignment, publication)."""
    max_mb = path.stat().st_size // MB + 1
    cmd = [*epimap_command(), "ingest", str(path), "--layer", LAYER, "--scope", PROVINCE, "--set", SET_NAME,
           "--author", "bench", "--max-mb", str(max_mb), "--lang", "en"]
    env = {**os.environ, "EPIMAP_DATABASE_URL": _render(url)}
    result = Measured("epimap", data.rows, log=workdir / f"epimap{path.suffix}.log")
    result.wall, result.cpu, result.rss_mb, result.returncode = run_child(cmd, env, result.log)
    with engine.connect() as conn:
        published = conn.execute(text(
            "SELECT added, rejected FROM publication WHERE layer_id = :l ORDER BY id DESC LIMIT 1"),
            {"l": LAYER}).first()
    if published is not None:
        result.loaded = published.added
        expected = data.expected_accepted
        verdict = "OK" if published.added == expected else "WRONG"
        result.notes.append(f"epimap accepted {published.added:,} of {data.rows:,} rows"
                            f" (expected {expected:,}), rejected {published.rejected:,}: {verdict}")
        if verdict != "OK":
            result.returncode = result.returncode or 1
    return result


# --------------------------------------------------------------------------- report


def _tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text("utf-8", errors="replace").splitlines()[-lines:])


def print_table(title: str, results: list[Measured]) -> None:
    """Print one format's table, the ratio and the targets."""
    print(f"\n== {title} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs) ==")
    print(f"{'tool':<8} {'rows':>11} {'loaded':>11} {'wall s':>9} {'rows/s':>10} {'peak RSS MB':>12}"
          f" {'cpu s':>8}")
    for r in results:
        loaded = f"{r.loaded:,}" if r.loaded is not None else "-"
        status = "" if r.ok else f"  FAILED (exit {r.returncode})"
        print(f"{r.tool:<8} {r.rows:>11,} {loaded:>11} {r.wall:>9.2f} {r.rate:>10,.0f}"
              f" {r.rss_mb:>12.1f} {r.cpu:>8.2f}{status}")
    for r in results:
        for note in r.notes:
            print(note)
        if not r.ok:
            print(f"--- {r.tool} output (last lines) ---\n{_tail(r.log)}")
    tools = {r.tool: r for r in results}
    epimap, ogr, floor = tools.get("epimap"), tools.get("ogr2ogr"), tools.get("postgis")
    if floor and ogr and floor.ok and ogr.ok and ogr.wall > 0:
        print(f"floor raw PostGIS/ogr2ogr wall time: {floor.wall / ogr.wall:.2f}x"
              " (the SQL alone that stores epimap's located, indexed rows; no validation)")
    if floor and epimap and floor.ok and epimap.ok and floor.wall > 0:
        print(f"ratio epimap/raw PostGIS wall time: {epimap.wall / floor.wall:.2f}x")
    if epimap and ogr and epimap.ok and ogr.ok and ogr.wall > 0:
        ratio = epimap.wall / ogr.wall
        verdict = "PASS" if ratio <= RATIO_TARGET else "MISS"
        print(f"ratio epimap/ogr2ogr wall time: {ratio:.2f}x (target <= {RATIO_TARGET}x): {verdict}")
    elif epimap:
        print("ratio epimap/ogr2ogr wall time: n/a (ogr2ogr did not run)")
    if epimap:
        verdict = "PASS" if epimap.ok and epimap.rss_mb < RSS_TARGET_MB else "MISS"
        print(f"epimap peak RSS: {epimap.rss_mb:.0f} MB (target < {RSS_TARGET_MB:.0f} MB): {verdict}")


def bench_format(engine: Engine, url: URL, data: Dataset, path: Path, workdir: Path,
                 with_ogr: bool) -> list[Measured]:
    """Run ogr2ogr (optionally), the raw PostGIS floor (CSV only) and epimap over one file, each
    from empty tables."""
    results = []
    if with_ogr:
        reset_layers(engine)
        results.append(run_ogr2ogr(engine, url, path, data.rows, workdir))
    if path.suffix == ".csv" and shutil.which("psql"):
        reset_layers(engine)
        results.append(run_floor(engine, url, path, data, workdir))
    elif path.suffix == ".csv":
        print("psql not found (apt-get install postgresql-client); the raw PostGIS floor is not timed")
    reset_layers(engine)
    results.append(run_epimap(engine, url, path, data, workdir))
    return results


def _has_xlsx_driver() -> bool:
    if shutil.which("ogr2ogr") is None:
        return False
    formats = subprocess.run(["ogr2ogr", "--formats"], capture_output=True, text=True, check=False)
    return "XLSX" in formats.stdout


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help=f"CSV rows (default {DEFAULT_ROWS:,}; smoke {SMOKE_ROWS:,})")
    parser.add_argument("--xlsx-rows", type=int,
                        help=f"XLSX rows, 0 to skip (default {DEFAULT_XLSX_ROWS:,}; smoke {SMOKE_XLSX_ROWS})")
    parser.add_argument("--smoke", action="store_true", help="Quick run on small files.")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--database", default=DEFAULT_DATABASE,
                        help=f"Database to (re)create, then drop (name starting {DEFAULT_DATABASE}).")
    parser.add_argument("--keep-database", action="store_true", help="Do not drop the database at the end.")
    parser.add_argument("--workdir", type=Path, help="Keep the generated files and logs here.")
    args = parser.parse_args(argv)
    if args.rows is None:
        args.rows = SMOKE_ROWS if args.smoke else DEFAULT_ROWS
    if args.xlsx_rows is None:
        args.xlsx_rows = SMOKE_XLSX_ROWS if args.smoke else DEFAULT_XLSX_ROWS
    if args.rows < 1 or args.xlsx_rows < 0:
        parser.error("--rows must be positive and --xlsx-rows not negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    url = bench_url(args.database)
    if shutil.which("ogr2ogr") is None:
        print("ogr2ogr not found (apt-get install gdal-bin); only epimap is timed")
    gdal = "no GDAL"
    if shutil.which("ogr2ogr"):
        version = subprocess.run(["ogr2ogr", "--version"], capture_output=True, text=True, check=False)
        gdal = version.stdout.strip()
    print(f"epimap ingest benchmark: database {url.database}, seed {args.seed}, {gdal}")
    started = time.perf_counter()
    engine = prepare_database(url)
    print(f"database ready in {time.perf_counter() - started:.1f} s")
    tmp = None
    if args.workdir:
        workdir = args.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="epimap-bench-")
        workdir = Path(tmp.name)
    failed = False
    try:
        jobs = [("csv", args.rows, args.seed), ("xlsx", args.xlsx_rows, args.seed + 1)]
        for fmt, rows, seed in jobs:
            if rows == 0:
                continue
            started = time.perf_counter()
            data = generate(engine, rows, seed)
            path = workdir / f"xet_nghiem_{rows}.{fmt}"
            (write_csv if fmt == "csv" else write_xlsx)(path, data)
            print(f"\ngenerated {path.name}: {rows:,} rows, {path.stat().st_size / MB:.1f} MB"
                  f" in {time.perf_counter() - started:.1f} s ({data.outside} outside the province,"
                  f" {data.unnamed} without a name, {data.by_commune} located by commune name)")
            with_ogr = shutil.which("ogr2ogr") is not None and (fmt == "csv" or _has_xlsx_driver())
            results = bench_format(engine, url, data, path, workdir, with_ogr)
            print_table(f"{fmt.upper()}: {rows:,} rows", results)
            failed |= not all(r.ok for r in results)
    finally:
        engine.dispose()
        if tmp is not None:
            tmp.cleanup()
        if args.keep_database:
            print(f"\nkept database {url.database}")
        else:
            drop_database(url)
            print(f"\ndropped database {url.database}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
