"""Statistics feeds per unit and day: the Bình Dương sample row by row, both shapes, rejections, roll-up."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Connection, text

from epimap.db import session_scope
from ingest.errors import FeedError
from ingest.report import Report
from ingest.stats import ingest_stats
from layers.catalog import Catalog, default_catalog
from layers.statistics import stat_series, stat_totals

DATA = Path(__file__).resolve().parents[2] / "data"
SAMPLE = DATA / "feeds" / "binh_duong" / "so_ca_theo_xa.xlsx"
EXPECTED = json.loads(SAMPLE.with_name(SAMPLE.name + ".expected.json").read_text("utf-8"))
WEEK = (date(2021, 8, 10), date(2021, 8, 16))

Stored = dict[tuple[str, str, date], float]


@pytest.fixture
def catalog(connection: Connection) -> Catalog:
    """The catalogue, with the demo's statistics cleared inside the test transaction."""
    connection.execute(text("DELETE FROM unit_stat"))
    return default_catalog()


def ingest(connection: Connection, path: Path, catalog: Catalog, **kwargs: Any) -> Report:
    """Ingest a feed into Bình Dương (vn2021, province 74) inside the test transaction."""
    return ingest_stats(connection, path, catalog=catalog, set_name="vn2021", scope_code="74", **kwargs)


def stored(connection: Connection, metric: str | None = None) -> Stored:
    """Return every vn2021 value in unit_stat (of one metric when given)."""
    rows = connection.execute(
        text("SELECT unit_code, metric, day, value FROM unit_stat WHERE boundary_set = 'vn2021'"
             " AND (CAST(:m AS text) IS NULL OR metric = :m)"), {"m": metric})
    return {(r.unit_code, r.metric, r.day): r.value for r in rows}


def parents(connection: Connection) -> dict[str, str]:
    """Return each vn2021 commune's district code."""
    rows = connection.execute(
        text("SELECT code, parent_code FROM admin_unit WHERE boundary_set = 'vn2021' AND level = 'commune'"))
    return {r.code: r.parent_code for r in rows}


def xlsx(path: Path, sheet: str, rows: list[list[Any]]) -> Path:
    """Write a one-sheet workbook."""
    book = Workbook()
    book.active.title = sheet
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def by_row(report: Report) -> dict[int, Any]:
    return {r.row: r for r in report.rows}


def day(text_day: str) -> date:
    return datetime.strptime(text_day, "%d/%m/%Y").date()


# --------------------------------------------------------------------------- the sample


def test_sample_row_by_row(connection: Connection, catalog: Catalog) -> None:
    report = ingest(connection, SAMPLE, catalog)
    assert report.refused is None and report.layer == EXPECTED["layer"] == "unit_stats"
    assert (len(report.rows), len(report.accepted), len(report.rejected)) == (
        EXPECTED["data_rows"], EXPECTED["accepted"], EXPECTED["rejected"])
    rows, values = by_row(report), stored(connection)
    for expected in EXPECTED["rows"]:
        got = rows[expected["row"]]
        assert (got.status, got.sheet, got.unit_codes) == (
            expected["status"], "F0 theo xã", {"commune": expected["unit_code"]}), expected["row"]
        mine = {d: v for (code, metric, d), v in values.items()
                if code == expected["unit_code"] and metric == expected["metric"]}
        assert mine == {day(k): v for k, v in expected["values"].items()}, expected["row"]
    assert len(values) == sum(len(e["values"]) for e in EXPECTED["rows"]) == 210
    assert report.diff.added == 210 and report.ignored_columns == []
    sources = connection.execute(text("SELECT DISTINCT source_name FROM unit_stat")).scalars().all()
    assert sources == ["so_ca_theo_xa.xlsx"]


def test_dry_run_writes_nothing(connection: Connection, catalog: Catalog) -> None:
    report = ingest(connection, SAMPLE, catalog, dry_run=True)
    assert report.dry_run and len(report.accepted) == 30 and report.diff.added == 210
    assert stored(connection) == {}


def test_reingest_is_an_upsert(connection: Connection, catalog: Catalog, tmp_path: Path) -> None:
    ingest(connection, SAMPLE, catalog)
    again = ingest(connection, SAMPLE, catalog, source_name="lan 2")
    assert (again.diff.added, again.diff.changed, again.diff.unchanged) == (0, 0, 210)
    fix = xlsx(tmp_path / "sua.xlsx", "Sửa", [["Ngày", "Xã", "Huyện", "Số ca mới"],
                                              ["10/08/2021", "Lái Thiêu", "Thuận An", 7]])
    report = ingest(connection, fix, catalog)
    assert (report.diff.added, report.diff.changed) == (0, 1)
    assert stored(connection)[("25966", "new_cases", date(2021, 8, 10))] == 7
    assert len(stored(connection)) == 210


# --------------------------------------------------------------------------- long tables


def test_long_table(connection: Connection, catalog: Catalog, tmp_path: Path) -> None:
    path = xlsx(tmp_path / "long.xlsx", "Sheet1", [
        ["Ngày", "Xã", "Huyện", "Số ca mới"],
        [datetime(2021, 8, 20), "Phường Hiệp Thành", "Thủ Dầu Một", 4],
        ["21/08/2021", "Tân An", "Thị xã Thủ Dầu Một", "2.000"],
        ["22/08/2021", "An Bình", "Huyện Phú Giáo", None],
        ["22/08/2021", "An Bình", "Huyện Dĩ An", 3],
        ["Tổng cộng", None, None, 2007],
    ])
    report = ingest(connection, path, catalog)
    assert [(r.row, r.status, r.unit_codes) for r in report.rows] == [
        (2, "accepted", {"commune": "25741"}), (3, "accepted", {"commune": "25765"}),
        (4, "accepted", {"commune": "25870"}), (5, "accepted", {"commune": "25960"})]
    assert report.skipped_rows == [("Sheet1", 6, "total")]
    assert stored(connection) == {("25741", "new_cases", date(2021, 8, 20)): 4,
                                  ("25765", "new_cases", date(2021, 8, 21)): 2000,
                                  ("25960", "new_cases", date(2021, 8, 22)): 3}


def test_long_table_with_a_column_per_metric(connection: Connection, catalog: Catalog,
                                             tmp_path: Path) -> None:
    path = xlsx(tmp_path / "metrics.xlsx", "Tổng hợp", [
        ["STT", "Ngày báo cáo", "Phường", "Quận/Huyện", "Ca mới", "Mũi 1 (liều)"],
        [1, "20/08/2021", "Lái Thiêu", "Thuận An", 5, "1.200"],
        [2, "20/08/2021", "Bình An", "Dĩ An", None, 300],
    ])
    report = ingest(connection, path, catalog)
    assert [r.status for r in report.rows] == ["accepted", "accepted"]
    assert report.ignored_columns == ["STT"]
    assert stored(connection) == {("25966", "new_cases", date(2021, 8, 20)): 5,
                                  ("25966", "doses_1", date(2021, 8, 20)): 1200,
                                  ("25951", "doses_1", date(2021, 8, 20)): 300}


def test_long_table_with_a_metric_column(connection: Connection, catalog: Catalog, tmp_path: Path) -> None:
    path = xlsx(tmp_path / "chi_so.xlsx", "Số liệu", [
        ["Ngày", "Xã/Phường", "Chỉ số", "Số liệu"],
        ["20/08/2021", "Lái Thiêu", "F0", 5],
        ["20/08/2021", "Lái Thiêu", "Mũi 2", 40],
        ["20/08/2021", "Lái Thiêu", "Số người khỏi", 2],
        ["20/08/2021", "Lái Thiêu", None, 2],
        ["20/08/2021", "Lái Thiêu", "f0 mới", 6],
    ])
    rows = by_row(ingest(connection, path, catalog))
    assert rows[3].status == "accepted"
    assert (rows[4].reason, rows[4].column) == ("unknown_metric", "Chỉ số")
    assert "Số người khỏi" in rows[4].message_vi and "new_cases" in rows[4].message_en
    assert rows[5].reason == "missing_metric"
    # Rows 2 and 6 give F0 of Lái Thiêu on 20/08 as 5 and 6: neither wins, both are named.
    for n in (2, 6):
        assert (rows[n].reason, rows[n].column) == ("duplicate_unit", "Xã/Phường")
        assert "Rows 2 and 6" in rows[n].message_en and "(5 and 6)" in rows[n].message_en
        assert "Các dòng 2 và 6" in rows[n].message_vi
    assert stored(connection) == {("25966", "doses_2", date(2021, 8, 20)): 40}


# --------------------------------------------------------------------------- wide tables


def test_rejections(connection: Connection, catalog: Catalog, tmp_path: Path) -> None:
    d1, d2 = datetime(2021, 8, 20), datetime(2021, 8, 21)
    path = xlsx(tmp_path / "loi.xlsx", "Ca mới theo xã", [
        ["Huyện", "Xã", d1, d2, "Ghi chú"],
        ["Huyện Dầu Tiếng", "Xã Không Có", 1, 2, None],
        [None, "Tân Bình", 1, 2, None],
        ["Dĩ An", "Tân Bình", 1, None, "ok"],
        ["Tân Uyên", "Tân Bình", 3, 4, None],
        ["Dầu Tiếng", "Định An", -3, 1, None],
        ["Dầu Tiếng", "Minh Tân", 1, "12 người", None],
        ["Dầu Tiếng", None, 5, 5, None],
        ["Dầu Tiếng", None, None, None, "đầu nhóm"],
        ["Huyện Dĩ An", "Phường Tân Bình", None, 9, None],
        ["Dĩ An", "Tân Bình", 1, 1, None],
    ])
    report = ingest(connection, path, catalog)
    rows = by_row(report)
    assert (rows[2].reason, rows[2].column) == ("unknown_unit", "Xã")
    assert "Xã Không Có" in rows[2].message_vi and "Xã Không Có" in rows[2].message_en
    assert (rows[3].reason, rows[3].column) == ("ambiguous_unit", "Xã")
    assert all(part in rows[3].message_en for part in ("Tân Bình", "25945", "25900"))
    assert (rows[4].status, rows[4].unit_codes) == ("accepted", {"commune": "25945"})
    assert (rows[5].status, rows[5].unit_codes) == ("accepted", {"commune": "25900"})
    assert (rows[6].reason, rows[6].column) == ("invalid_number", "20/08/2021")
    assert "-3" in rows[6].message_vi
    assert (rows[7].reason, rows[7].column) == ("invalid_number", "21/08/2021")
    assert "12 người" in rows[7].message_en
    assert (rows[8].reason, rows[8].column) == ("missing_unit", "Xã")
    assert 9 not in rows and ("Ca mới theo xã", 9, "no_unit") in report.skipped_rows
    # Row 11 repeats row 4's 20/08 (1) but gives 21/08 as 1 where row 10 gives 9: rows 10 and 11
    # are both rejected, never "first one wins"; row 4 stays.
    for n in (10, 11):
        assert (rows[n].reason, rows[n].column) == ("duplicate_unit", "Xã")
        assert "Rows 10 and 11" in rows[n].message_en and "21/08/2021" in rows[n].message_en
    assert report.ignored_columns == ["Ghi chú"]
    assert stored(connection) == {("25945", "new_cases", date(2021, 8, 20)): 1,
                                  ("25900", "new_cases", date(2021, 8, 20)): 3,
                                  ("25900", "new_cases", date(2021, 8, 21)): 4}


def test_no_accepted_rows_refuses_the_feed(connection: Connection, catalog: Catalog, tmp_path: Path) -> None:
    path = xlsx(tmp_path / "hong.xlsx", "F0", [["Xã", "20/08/2021"], ["Không Có", 1], ["Lái Thiêu", -1]])
    report = ingest(connection, path, catalog)
    assert report.refused is not None and report.refused.code == "no_accepted_rows"
    assert report.refused.message_vi and report.refused.message_en
    assert [r.reason for r in report.rows] == ["unknown_unit", "invalid_number"]
    assert stored(connection) == {}


def test_metric_of_a_wide_table(connection: Connection, catalog: Catalog, tmp_path: Path) -> None:
    path = xlsx(tmp_path / "so_lieu.xlsx", "Sheet1", [["Xã", "20/08/2021"], ["Lái Thiêu", 10]])
    with pytest.raises(FeedError) as info:
        ingest(connection, path, catalog)
    assert info.value.code == "unknown_metric"
    assert all(m in info.value.message_en and m in info.value.message_vi for m in catalog.metrics)
    with pytest.raises(FeedError, match="bogus"):
        ingest(connection, path, catalog, metric="bogus")
    ingest(connection, path, catalog, metric="tests")
    assert stored(connection) == {("25966", "tests", date(2021, 8, 20)): 10}
    by_header = xlsx(tmp_path / "tiem.xlsx", "Sheet1", [["Phường", "Đã tiêm mũi 1 20/08/2021"],
                                                         ["Lái Thiêu", 10]])
    ingest(connection, by_header, catalog)
    assert stored(connection, "doses_1") == {("25966", "doses_1", date(2021, 8, 20)): 10}


def test_district_level_table(connection: Connection, catalog: Catalog, tmp_path: Path) -> None:
    path = xlsx(tmp_path / "huyen.xlsx", "Xét nghiệm", [
        ["Huyện/Thị xã/Thành phố", datetime(2021, 8, 20), datetime(2021, 8, 21)],
        ["Thị xã Thủ Dầu Một", "1.500", 1600],
        ["Huyện Dĩ An", 700, None],
        ["Huyện Lạ", 1, 1],
    ])
    report = ingest(connection, path, catalog)
    assert [(r.status, r.unit_codes, r.reason) for r in report.rows] == [
        ("accepted", {"district": "718"}, None), ("accepted", {"district": "724"}, None),
        ("rejected", {}, "unknown_unit")]
    assert stored(connection) == {("718", "tests", date(2021, 8, 20)): 1500,
                                  ("718", "tests", date(2021, 8, 21)): 1600,
                                  ("724", "tests", date(2021, 8, 20)): 700}


def test_unknown_scope(connection: Connection, catalog: Catalog) -> None:
    with pytest.raises(FeedError) as info:
        ingest_stats(connection, SAMPLE, catalog=catalog, set_name="vn2021", scope_code="99")
    assert info.value.code == "unknown_scope"


# --------------------------------------------------------------------------- roll-up


def expected_sums(connection: Connection) -> tuple[dict[str, dict[date, float]], dict[date, float]]:
    """Return the sample's daily sums per district and for the province, computed by hand."""
    parent = parents(connection)
    districts: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    province: dict[date, float] = defaultdict(float)
    for row in EXPECTED["rows"]:
        for text_day, value in row["values"].items():
            districts[parent[row["unit_code"]]][day(text_day)] += value
            province[day(text_day)] += value
    return districts, province


def test_stat_series_rolls_up(connection: Connection, catalog: Catalog) -> None:
    ingest(connection, SAMPLE, catalog)
    districts, province = expected_sums(connection)
    with session_scope(connection) as session:
        assert stat_series(session, "vn2021", "718", "new_cases") == sorted(districts["718"].items())
        assert stat_series(session, "vn2021", "74", "new_cases") == sorted(province.items())
        assert stat_series(session, "vn2021", "25966", "new_cases")[0] == (date(2021, 8, 10), 1.0)
        assert stat_series(session, "vn2021", "74", "tests") == []


def test_own_value_wins_over_the_roll_up(connection: Connection, catalog: Catalog, tmp_path: Path) -> None:
    ingest(connection, SAMPLE, catalog)
    districts, province = expected_sums(connection)
    own = xlsx(tmp_path / "tdm.xlsx", "F0", [["Huyện", "10/08/2021"], ["Thủ Dầu Một", 999]])
    ingest(connection, own, catalog)
    with session_scope(connection) as session:
        series = dict(stat_series(session, "vn2021", "718", "new_cases"))
        whole = dict(stat_series(session, "vn2021", "74", "new_cases"))
    first, second = date(2021, 8, 10), date(2021, 8, 11)
    assert series[first] == 999 and series[second] == districts["718"][second]
    assert whole[first] == province[first] - districts["718"][first] + 999


def test_stat_totals_per_district(connection: Connection, catalog: Catalog) -> None:
    ingest(connection, SAMPLE, catalog)
    districts, province = expected_sums(connection)
    with session_scope(connection) as session:
        week = stat_totals(session, "vn2021", "74", "new_cases", *WEEK)
        one_day = stat_totals(session, "vn2021", "74", "new_cases", date(2021, 8, 12), date(2021, 8, 12))
        none = stat_totals(session, "vn2021", "74", "new_cases", date(2021, 9, 1), date(2021, 9, 30))
        communes = stat_totals(session, "vn2021", "724", "new_cases", *WEEK)
    assert week == {code: sum(days.values()) for code, days in districts.items()}
    assert sum(week.values()) == sum(province.values())
    assert one_day == {code: days[date(2021, 8, 12)] for code, days in districts.items()}
    assert none == {}
    assert communes == {"25948": 19, "25951": 38, "25960": 15}
