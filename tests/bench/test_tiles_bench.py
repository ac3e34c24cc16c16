"""The tile benchmark's smoke run: its own database, every tool measured, small tiles, cleaned up."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench import database_exists

REPO = Path(__file__).resolve().parents[2]
DATABASE = f"epimap_bench_tiles_smoke_{os.getpid()}"

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None or shutil.which("pgbench") is None,
                                reason="the tile benchmark needs wrk and pgbench")



def test_smoke_run_prints_the_table_and_serves_no_tile_over_500_kb():
    command = [sys.executable, "-m", "bench.tiles", "--smoke", "--no-tipg", "--database", DATABASE]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "20,000 testing sites" in out
    for tool in ("raw PostGIS", "epimap cold", "epimap warm"):
        row = re.search(rf"^{tool} +([\d,.]+) +([\d,.]+) +([\d,.]+) +([\d,]+)$", out, re.M)
        assert row, f"no row for {tool}:\n{out}"
        assert float(row.group(1).replace(",", "")) > 0
    assert "tipg: skipped (--no-tipg)" in out
    size = re.search(r"^no tile > 500 KB: PASS \(largest epimap tile ([\d,]+) bytes\)$", out, re.M)
    assert size, out
    assert 0 < int(size.group(1).replace(",", "")) < 500 * 1024
    for label in ("ratio cold/raw", "ratio cold/tipg", "warm tiles/s"):
        assert re.search(rf"^{label}: .*\(target >= [\d,.]+\): (PASS|MISS)$", out, re.M), out
    assert f"dropped database {DATABASE}" in out
    assert not database_exists(DATABASE)
