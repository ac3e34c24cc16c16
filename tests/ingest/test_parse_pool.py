"""Rows parsed by worker processes come back in order, with the same outcome as parsed here."""

from __future__ import annotations

import pickle

import pytest

from ingest import parse_pool
from ingest.errors import FeedError, Problem, ValueProblem
from ingest.readers import read_tables
from tests.ingest.builders import write_csv
from tests.ingest.helpers import SAMPLES, run


def _rows(report) -> list[tuple]:
    return [(r.sheet, r.row, r.status, r.reason, r.column, r.message_en, r.source_id, r.unit_codes, r.lon,
             r.lat, r.approximate, r.warnings) for r in report.rows]


def _in_workers(monkeypatch) -> None:
    """Send every row after the third to the workers, two rows a batch, one batch ahead."""
    monkeypatch.setattr(parse_pool, "PARALLEL_FROM_ROWS", 3)
    monkeypatch.setattr(parse_pool, "BATCH_ROWS", 2)
    monkeypatch.setattr(parse_pool, "IN_FLIGHT", 1)


@pytest.mark.parametrize(("feed", "layer", "warned"), [("xet_nghiem.xlsx", "testing_sites", True),
                                                       ("chot_kiem_soat.csv", "checkpoints", False),
                                                       ("vung_phong_toa.csv", "lockdown_zones", False)])
def test_workers_give_the_report_parsing_here_gives(connection, monkeypatch, feed, layer, warned):
    here = run(connection, SAMPLES / feed, layer, dry_run=True)
    _in_workers(monkeypatch)
    parsed_here = []
    outcome = parse_pool.outcome

    def counted(row, context):
        parsed_here.append(row)
        return outcome(row, context)

    monkeypatch.setattr(parse_pool, "outcome", counted)
    pooled = run(connection, SAMPLES / feed, layer, dry_run=True)
    assert len(parsed_here) == 3  # the rest went to the workers (whose calls this process never sees)
    assert len(here.rows) > 5 and here.rejected and any(r.warnings for r in here.rows) == warned
    assert _rows(pooled) == _rows(here)
    assert pooled.diff == here.diff and pooled.skipped_rows == here.skipped_rows


def test_rows_with_cells_outside_the_header_keep_them(connection, monkeypatch, tmp_path):
    rows = [[f"Điểm {i}", f"{10.95 + i * 0.001:.5f}", "106.65", *(["lạc cột"] if i % 2 else [])]
            for i in range(9)]
    path = write_csv(tmp_path / "le.csv", ["Tên", "Vĩ độ", "Kinh độ"], rows)
    here = run(connection, path, "essential_services", dry_run=True)
    _in_workers(monkeypatch)
    assert _rows(run(connection, path, "essential_services", dry_run=True)) == _rows(here)
    [table] = read_tables(path)
    assert sum("Cột D" in row.cells for row in table.rows) == 4


def test_problems_travel_between_processes():
    for problem in (Problem("a", "vi", "en"), ValueProblem("b", "vi", "en"), FeedError("c", "vi", "en")):
        copy = pickle.loads(pickle.dumps(problem))
        assert type(copy) is type(problem) and copy.as_dict() == problem.as_dict()
