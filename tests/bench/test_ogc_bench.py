"""The OGC benchmark's smoke run: its own database, epimap measured, the table printed, the database gone."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.bench import database_exists
from tests.conftest import REPO


def test_smoke_run_measures_epimap_and_drops_its_database():
    database = f"epimap_bench_ogc_test_{os.getpid()}"
    command = [sys.executable, "-m", "bench.ogc", "--smoke", "--no-others", "--database", database]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert f"OGC API – Features benchmark: 20,000 testing sites in database {database}" in out
    assert "wrk -t2 -c16 -d2s --latency; random 0.01° bbox inside the province, limit=100" in out
    assert re.search(r"^data ready in \d+ s; 20 sample boxes hold \d+ features", out, re.MULTILINE)
    assert "tipg: SKIPPED (--no-others)" in out and "pygeoapi: SKIPPED (--no-others)" in out
    assert re.search(r"^server\s+requests/s\s+p50 ms\s+p99 ms", out, re.MULTILINE)
    row = re.search(r"^epimap\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(\d+)/(\d+)\s", out,
                    re.MULTILINE)
    assert row, out
    rps, p50, p99, requests, errors, returned, expected = row.groups()
    assert float(rps) > 0 and 0 < float(p50) <= float(p99) and int(requests) > 0
    assert errors == "0" and returned == expected
    assert "epimap/tipg requests/s: n/a (tipg not measured; target >= 2x)" in out
    assert f"database {database} dropped" in out
    assert not database_exists(database)


def test_the_benchmark_refuses_other_databases():
    for name in ("epimap", "epimap_test_1", "epimap_bench_tiles"):
        done = subprocess.run([sys.executable, "-m", "bench.ogc", "--smoke", "--database", name], cwd=REPO,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode != 0 and "refusing to use database" in done.stderr
