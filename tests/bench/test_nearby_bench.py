"""The nearby benchmark's smoke run: its own database, the API, the no-op baseline and pgbench measured."""

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
DATABASE = f"epimap_bench_nearby_smoke_{os.getpid()}"

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None or shutil.which("pgbench") is None,
                                reason="the nearby benchmark needs wrk and pgbench")



def test_smoke_run_prints_throughput_latency_ratios_and_targets():
    command = [sys.executable, "-m", "bench.nearby", "--smoke", "--database", DATABASE]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert re.search(rf"^nearby benchmark: 5,000 testing sites in database {DATABASE};"
                     r" KNN statement: [1-9]\d* index scans, 0 sequential scans$", out, re.M), out
    assert "wrk -t2 -c16 -d2s" in out and "pgbench -M prepared -c16 -j2 -T2" in out
    for name, unit in (("nearby", "req/s"), ("no-op", "req/s"), ("pgbench", "tps")):
        row = re.search(rf"^{name}: +([\d,.]+) {unit} +p50 +([\d.]+) ms +p99 +([\d.]+) ms$", out, re.M)
        assert row, f"no line for {name}:\n{out}"
        rate, p50, p99 = (float(g.replace(",", "")) for g in row.groups())
        assert rate > 0 and 0 < p50 <= p99
    for label in ("nearby/no-op", "nearby/pgbench"):
        assert re.search(rf"^ratio {label}: \d+\.\d\d$", out, re.M), out
    assert re.search(r"^target >= 2,000 req/s with p99 < 25 ms: (PASS|MISS) \(.+\)$", out, re.M), out
    assert re.search(r"^target >= 0\.3x no-op: (PASS|MISS) \(\d+\.\d\dx\)$", out, re.M), out
    assert re.search(r"^verdict: (PASS|MISS)$", out, re.M), out
    assert f"dropped database {DATABASE}" in out
    assert not database_exists(DATABASE)
