"""The ingest benchmark's smoke run: its own database, both tools over CSV and XLSX, cleaned up.

Only what the run prints is checked (rows, planted rejections, ratios, targets), never timings.
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
DATABASE = f"epimap_bench_ingest_smoke_{os.getpid()}"
NUMBER = r"[\d,]+(?:\.\d+)?"

pytestmark = pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="the benchmark compares with ogr2ogr")



def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _section(out: str, title: str) -> str:
    start = out.index(f"== {title}")
    end = out.find("\n== ", start + 1)
    return out[start:end if end > 0 else None]


def _table_row(section: str, tool: str) -> dict[str, float]:
    row = re.search(rf"^{tool} +({NUMBER}) +({NUMBER}) +({NUMBER}) +({NUMBER}) +({NUMBER}) +({NUMBER})$",
                    section, re.M)
    assert row, f"no table row for {tool}:\n{section}"
    keys = ("rows", "loaded", "wall", "rate", "rss", "cpu")
    return dict(zip(keys, map(_number, row.groups()), strict=True))


def _xlsx_driver() -> bool:
    formats = subprocess.run(["ogr2ogr", "--formats"], capture_output=True, text=True, check=False)
    return "XLSX" in formats.stdout


def _ratio_allows(printed: float, over: dict[str, float], under: dict[str, float]) -> bool:
    """Tell whether a printed wall-time ratio fits the printed walls, each rounded to 0.01 s."""
    low = (over["wall"] - 0.006) / (under["wall"] + 0.006)
    high = (over["wall"] + 0.006) / max(under["wall"] - 0.006, 0.001)
    return low - 0.01 <= printed <= high + 0.01


def _check_floor(section: str, ogr: dict[str, float], epimap: dict[str, float], accepted: int) -> None:
    """The raw PostGIS floor stores the rows epimap accepts, and its ratios are printed."""
    floor = _table_row(section, "postgis")
    assert (floor["loaded"], epimap["loaded"]) == (accepted, accepted)
    for line, over, under in (("floor raw PostGIS/ogr2ogr", floor, ogr),
                              ("ratio epimap/raw PostGIS", epimap, floor)):
        found = re.search(rf"^{line} wall time: (\d+\.\d\d)x", section, re.M)
        assert found, section
        assert _ratio_allows(float(found.group(1)), over, under)


def test_smoke_run_prints_both_tables_ratios_and_targets():
    command = [sys.executable, "-m", "bench.ingest", "--smoke", "--database", DATABASE]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr

    assert re.search(r"^generated xet_nghiem_2000\.csv: 2,000 rows, .* \(2 outside the province, 2 without a"
                     r" name, 10 located by commune name\)$", out, re.M), out
    assert re.search(r"^generated xet_nghiem_500\.xlsx: 500 rows, .* \(1 outside the province, 1 without a"
                     r" name, 2 located by commune name\)$", out, re.M), out

    formats = [("CSV: 2,000 rows", 2000, 4, 10)]
    if _xlsx_driver():
        formats.append(("XLSX: 500 rows", 500, 2, 2))
    for title, rows, rejected, without_point in formats:
        section = _section(out, title)
        ogr, epimap = _table_row(section, "ogr2ogr"), _table_row(section, "epimap")
        assert (ogr["rows"], ogr["loaded"]) == (rows, rows)  # ogr2ogr loads every row, checked or not
        assert (epimap["rows"], epimap["loaded"]) == (rows, rows - rejected)
        for measured in (ogr, epimap):
            assert measured["wall"] > 0 and measured["rss"] > 0 and measured["rate"] > 0
            # Walls print rounded to 0.01 s and rates to a whole row: allow for that rounding, no more.
            slowest, fastest = measured["wall"] + 0.006, max(measured["wall"] - 0.006, 0.001)
            assert rows / slowest - 0.5 <= measured["rate"] <= rows / fastest + 0.5
        assert f"ogr2ogr: {rows - without_point:,} rows with a point" in section
        if title.startswith("CSV"):
            _check_floor(section, ogr, epimap, rows - rejected)
        accepted = rows - rejected
        assert (f"epimap accepted {accepted:,} of {rows:,} rows (expected {accepted:,}),"
                f" rejected {rejected}: OK") in section
        ratio = re.search(r"^ratio epimap/ogr2ogr wall time: (\d+\.\d\d)x \(target <= 1\.5x\): (PASS|MISS)$",
                          section, re.M)
        assert ratio, section
        value = float(ratio.group(1))
        assert _ratio_allows(value, epimap, ogr)
        assert ratio.group(2) == ("PASS" if value <= 1.5 else "MISS")
        rss = re.search(r"^epimap peak RSS: (\d+) MB \(target < 1024 MB\): (PASS|MISS)$", section, re.M)
        assert rss, section
        assert int(rss.group(1)) == pytest.approx(epimap["rss"], abs=1)
        assert rss.group(2) == ("PASS" if epimap["rss"] < 1024 else "MISS")

    assert f"dropped database {DATABASE}" in out
    assert not database_exists(DATABASE)
