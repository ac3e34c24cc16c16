"""The load benchmark's smoke run: its own cluster, the mixed load against the static ceiling, three faults.

A few minutes on a shared machine (cluster, boundaries and feeds set up, three faults), so it runs
here rather than in the gate (bench/gate.py runs ``bench.load`` in full runs only).  The speed
targets may MISS on a busy machine; the lines' shape, the consistency checks and the exit status
may not.
"""

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
DATABASE = f"epimap_bench_load_smoke_{os.getpid()}"
RUN = r"([\d,.]+) req/s +p50 +([\d.]+) ms +p99 +([\d.]+) ms +([\d,]+) requests, ([\d,]+) errors"

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="the load benchmark needs wrk")


def test_smoke_run_prints_the_load_its_ceiling_the_faults_and_targets():
    command = [sys.executable, "-m", "bench.load", "--smoke", "--database", DATABASE]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1200, check=False)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr[-3000:]
    own = rf"^load benchmark: database {DATABASE} on a cluster of its own \(port \d+\);"
    assert re.search(own, out, re.M), out
    assert "gunicorn -w 4; wrk -t2 -c64 -d5s" in out and "1 submission" in out
    for name in ("load", "static"):
        row = re.search(rf"^{name}: +{RUN}", out, re.M)
        assert row, f"no line for {name}:\n{out}"
        rate, p50, p99, requests, _errors = (float(g.replace(",", "")) for g in row.groups())
        assert rate > 0 and 0 < p50 <= p99 and requests > 0
    assert re.search(r"^ratio load/static: \d+\.\d\d$", out, re.M), out
    memory = r"^memory: gunicorn workers' RSS [\d,.]+ MB in the first 1 s, [\d,.]+ MB in the last 1 s"
    assert re.search(memory, out, re.M), out
    assert re.search(r"^(submission door absent: SKIP|submissions: [\d,]+ accepted, [\d,]+ stored .*"
                     r" exactly once PASS)", out, re.M), out
    doors = r"^doors alone \(median of 5, one at a time\): map \d+ ms, boundary tile \d+ ms,"
    assert re.search(doors, out, re.M), out
    for target in ("p99 < 250 ms", "0 errors", r"worker memory flat \(last 1 s within 10% of the first\)",
                   r">= 0\.5x static file"):
        assert re.search(rf"^target {target}: (PASS|MISS) \(.+\)$", out, re.M), (target, out)
    restart = re.search(r"^fault postgis restart: (PASS|MISS) \(outage [\d.]+ s; .* ([\d,]+) errors"
                        r" inside the outage window \(.*\), ([\d,]+) outside .*; gunicorn ([^;]*);"
                        r" doors answer again: True(;.*)?\)$", out, re.M)
    assert restart, out
    assert restart.group(4) == "not restarted, same workers"
    killed = re.search(r"^fault worker killed mid-publish: (PASS|MISS) \(10,000-row feed .*; publication"
                       r" (absent|wholly there \(10,000 rows\)); after a new worker: upload"
                       r" (previewed, worker_lost|published, no error);", out, re.M)
    assert killed, out
    burst = re.search(r"^fault feed burst: (PASS|MISS) \(4 small feeds while a 10,000-row one publishes:"
                      r" .*; 0 lost, 0 refused without a message, 0 refused at the door;"
                      r" \d+ new publications;", out, re.M)
    assert burst, out
    assert re.search(r"^verdict: (PASS|MISS) \(in \d+ s\)$", out, re.M), out
    assert f"dropped database {DATABASE}" in out
    assert not database_exists(DATABASE)
