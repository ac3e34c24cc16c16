"""The requests benchmark's smoke run: intake and the queue measured, every target judged, nothing lost."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.bench import database_exists
from tests.conftest import REPO

NUMBER = r"([\d.]+)"


def test_smoke_run_measures_intake_queue_and_no_op_and_loses_nothing():
    database = f"epimap_bench_requests_test_{os.getpid()}"
    command = [sys.executable, "-m", "bench.requests", "--smoke", "--database", database]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "intake at 50/s for 3 s while 4 operators work the queue; gunicorn -w 4" in out
    intake = re.search(rf"^intake: +{NUMBER} req/s +p50 +{NUMBER} ms +p99 +{NUMBER} ms"
                       r" +sent 150 +accepted 150 +refused 0$", out, re.MULTILINE)
    assert intake and 0 < float(intake[2]) <= float(intake[3]), out
    queue = re.search(rf"^queue: +(\d+) lists +p50 +{NUMBER} ms +p99 +{NUMBER} ms +assigned (\d+)", out,
                      re.MULTILINE)
    assert queue and int(queue[1]) > 0 and int(queue[4]) > 0, out
    assert re.search(rf"^no-op: +{NUMBER} req/s", out, re.MULTILINE)
    assert re.search(rf"^one at a time: p50 {NUMBER} ms .* CPU per intake request: app {NUMBER} ms,"
                     rf" PostgreSQL {NUMBER} ms", out, re.MULTILINE)
    assert re.search(r"^stored: +150 of 150 accepted \(150 sent\)$", out, re.MULTILINE)
    for target in ("intake >= 50 req/s sustained with p99 < 200 ms", "queue p99 < 300 ms",
                   "count in = count stored"):
        assert re.search(rf"^target {re.escape(target)}: (PASS|MISS) \(", out, re.MULTILINE), target
    assert "target count in = count stored: PASS" in out
    assert f"dropped database {database}" in out
    assert not database_exists(database)


def test_the_benchmark_refuses_other_databases():
    for name in ("epimap", "epimap_test_1", "epimap_bench_ogc"):
        done = subprocess.run([sys.executable, "-m", "bench.requests", "--smoke", "--database", name],
                              cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode != 0 and "refusing to use database" in done.stderr
