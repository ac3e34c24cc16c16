"""The benchmarks' gate: it reads every targeted ratio, fails below a floor, runs a failing bench once
more, and ``make test`` runs it.  The benchmarks themselves run in their own smoke tests."""

from __future__ import annotations

import re

import pytest

from bench import gate
from tests.conftest import REPO

# What the four smoke runs print, cut to the lines around their ratios.
INGEST = """
== CSV: 2,000 rows (load average 3.7 on 2 CPUs) ==
epimap         2,000       1,996      2.05        975        102.5     1.29
ratio epimap/raw PostGIS wall time: 4.36x
ratio epimap/ogr2ogr wall time: 11.33x (target <= 1.5x): MISS

== XLSX: 500 rows (load average 3.6 on 2 CPUs) ==
ratio epimap/ogr2ogr wall time: 8.02x (target <= 1.5x): MISS
"""
TILES = """
ratio cold/raw: 0.68 (target >= 0.8): MISS
ratio cold/raw at 4 connections: 0.94 (a reference, no target)
ratio cold/tipg: 2.07 (target >= 2): PASS
warm tiles/s: 906 (target >= 2,000): MISS
"""
NEARBY = """
ratio nearby/no-op: 0.34
ratio nearby/pgbench: 0.09
target >= 0.3x no-op: PASS (0.34x)
"""
OGC = "epimap/tipg requests/s: 2.73x (target >= 2x): PASS\n"
OUTPUTS = {"ingest": INGEST, "tiles": TILES, "nearby": NEARBY, "ogc": OGC}


def _values(found: list[gate.Verdict]) -> dict[str, float | None]:
    return {f"{v.ratio.bench} {v.ratio.label}": v.value for v in found}


def test_every_targeted_ratio_is_read_from_its_benchmark():
    found = gate.verdicts({name: [out] for name, out in OUTPUTS.items()}, smoke=True)
    assert _values(found) == {
        "ingest epimap/ogr2ogr wall time, CSV": 11.33, "ingest epimap/ogr2ogr wall time, XLSX": 8.02,
        "tiles cold/raw PostGIS tiles/s": 0.68, "tiles cold/tipg tiles/s": 2.07,
        "nearby nearby/no-op requests/s": 0.34, "ogc epimap/tipg requests/s": 2.73,
    }
    assert all(v.passed for v in found)
    lines = gate.summary(found, [])
    assert lines[-1] == "gate: PASS"
    expected = r"^ogc +epimap/tipg requests/s +2\.73x  target >= 2x PASS; smoke floor >= [\d.]+x: OK$"
    assert any(re.search(expected, line) for line in lines), lines


def test_floors_are_looser_than_targets():
    for ratio in gate.RATIOS:
        assert ratio.holds(ratio.target, ratio.floor) and ratio.floor != ratio.target, ratio


def test_a_ratio_far_below_its_target_or_not_measured_fails_the_gate():
    slow = OGC.replace("2.73x", "0.33x")
    found = gate.verdicts({"ogc": [slow], "nearby": ["nearby: no output"]}, smoke=True)
    assert [(v.ratio.bench, v.value, v.passed) for v in found] == [("nearby", None, False),
                                                                    ("ogc", 0.33, False)]
    lines = gate.summary(found, ["nearby"])
    assert "nearby  nearby/no-op requests/s" in lines[2] and "not measured" in lines[2]
    assert lines[-2:] == ["bench.nearby failed (exit status non-zero)", "gate: FAIL"]
    slower = INGEST.replace("11.33x", "45.00x")
    assert not gate.verdicts({"ingest": [slower]}, smoke=True)[0].passed  # lower is better there


def test_full_runs_report_their_ratios_against_targets_only():
    found = gate.verdicts({"ogc": [OGC.replace("2.73x", "0.33x")]}, smoke=False)
    lines = gate.summary(found, [])
    assert lines[-1].endswith("0.33x  target >= 2x MISS") and "gate:" not in "\n".join(lines)


def _printing(monkeypatch, *ratios: str) -> list[tuple[str, bool]]:
    """Make the OGC smoke runs print these ratios in turn; return the runs asked for."""
    printed, calls = iter(ratios), []

    def fake_run(bench: str, smoke: bool) -> tuple[int, str]:
        calls.append((bench, smoke))
        return 0, OGC.replace("2.73x", next(printed))

    monkeypatch.setattr(gate, "run", fake_run)
    return calls


def test_a_smoke_run_past_a_floor_runs_again_and_the_best_run_counts(monkeypatch):
    calls = _printing(monkeypatch, "0.70x", "2.40x")
    assert gate.main(["ogc"]) == 0
    assert calls == [("ogc", True), ("ogc", True)]


def test_a_regression_fails_every_run_and_the_gate(monkeypatch):
    calls = _printing(monkeypatch, "0.70x", "0.80x", "0.60x")
    assert gate.main(["ogc"]) == 1
    assert len(calls) == gate.RUNS


def test_a_passing_smoke_run_and_full_runs_run_once(monkeypatch):
    calls: list[tuple[str, bool]] = []
    monkeypatch.setattr(gate, "run", lambda bench, smoke: (calls.append((bench, smoke)), (0, OGC))[1])
    assert gate.main(["ogc"]) == 0
    monkeypatch.setattr(gate, "run", lambda bench, smoke: (calls.append((bench, smoke)), (1, ""))[1])
    assert gate.main(["--full", "ogc"]) == 1  # a full run fails only when a benchmark fails
    assert calls == [("ogc", True), ("ogc", False)]


def test_the_load_benchmark_runs_in_full_runs_only_and_its_targets_close_them(monkeypatch):
    calls: list[tuple[str, bool]] = []
    load = ("target p99 < 250 ms: MISS (p99 900.0 ms)\nfault postgis restart: PASS (outage 2.1 s)\n"
            "verdict: MISS (in 700 s)\ndropped database epimap_bench_load\n")
    monkeypatch.setattr(gate, "run", lambda bench, smoke: (calls.append((bench, smoke)),
                                                           (0, load if bench == "load" else OGC))[1])
    gate.main([])  # the other ratios are not measured here: the gate fails, never mind
    assert {bench for bench, _ in calls} == set(gate.BENCHES)  # a smoke run past a floor runs again
    calls.clear()
    assert gate.main(["--full"]) == 0
    assert calls == [(bench, False) for bench in gate.BENCHES + gate.FULL_ONLY]
    assert gate.load_summary({"load": [load]})[1:] == [
        "== the load benchmark's targets and faults ==", "target p99 < 250 ms: MISS (p99 900.0 ms)",
        "fault postgis restart: PASS (outage 2.1 s)", "verdict: MISS (in 700 s)"]


@pytest.mark.parametrize("bench", gate.BENCHES + gate.FULL_ONLY)
def test_smoke_runs_use_a_database_their_benchmark_accepts(bench):
    command = gate.command(bench, smoke=True)
    assert command[1:4] == ["-m", f"bench.{bench}", "--smoke"]
    database = command[command.index("--database") + 1]
    assert re.fullmatch(rf"epimap_bench_{bench}_gate_\d+", database)
    assert "--database" not in gate.command(bench, smoke=False)


def test_make_test_runs_the_gate_and_make_bench_the_full_runs():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    test_recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    bench_recipe = re.search(r"^bench:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "-m bench.gate\n" in test_recipe
    assert "-m bench.gate --full" in bench_recipe
