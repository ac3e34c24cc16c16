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


WRK = """Running 5s test @ http://127.0.0.1:8000/
  2 threads and 64 connections
  Latency Distribution
     50%  120.50ms
     75%  200.00ms
     90%  300.00ms
     99%    1.20s
  1500 requests in 5.00s, 20.00MB read
  Non-2xx or 3xx responses: 7
Requests/sec:    300.00
Transfer/sec:      4.00MB
lua accepted 12
lua status 200 1490
lua status 503 5
lua error_at 1700000000 5
lua accepted 3
lua status 201 3
lua status 500 2
lua error_at 1700000002 2
"""


def test_a_run_is_read_from_wrk_and_the_lua_scripts_tallies():
    from bench.load import parse_run

    run = parse_run("load", WRK)
    assert (run.rps, run.p50_ms, run.p99_ms, run.requests, run.errors) == (300.0, 120.5, 1200.0, 1500, 7)
    assert run.statuses == {200: 1490, 503: 5, 201: 3, 500: 2} and run.accepted == 15
    assert run.errors_at == {1_700_000_000: 5, 1_700_000_002: 2}
    assert run.line().endswith("1,500 requests, 7 errors (500: 2, 503: 5)")


def test_each_target_is_printed_with_pass_or_miss():
    from bench.load import Run, load_lines

    fast = Run("load", 600.0, 20.0, 200.0, 36_000, 0)
    static = Run("static", 1000.0, 5.0, 30.0, 60_000, 0)
    lines, passed = load_lines(fast, static, (100.0, 105.0, 0.05), 60.0, "submission door absent: SKIP")
    assert passed and "ratio load/static: 0.60" in lines
    slow = Run("load", 300.0, 20.0, 900.0, 18_000, 3)
    lines, passed = load_lines(slow, static, (100.0, 120.0, 0.2), 60.0, "submission door absent: SKIP")
    assert not passed
    assert [line.split(": ")[1].split()[0] for line in lines if line.startswith("target")] == ["MISS"] * 4
