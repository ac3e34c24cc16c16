"""Parent columns constrain statistics rows: a national feed fed to a province portal accepts none of
another province's rows, counts them per province, and never puts a row on a same-named unit."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import Connection

from ingest.report import Report
from ingest.report_export import report_text
from ingest.stats import ingest_stats
from layers.catalog import default_catalog
from tests.ingest.builders import write_csv

# Real: the antoancovid national file of daily cases per commune (2021), only the rows of Bình
# Dương, Lạng Sơn and Tiền Giang (source and licence: tests/ingest/data/SOURCE.md).
THREE_PROVINCES = Path(__file__).parent / "data" / "so_ca_nhiem_theo_xa_2021_ba_tinh.csv"
HEADERS = ["tinh", "huyen", "xa", "ngay", "so_ca"]
PHU_MY, HIEP_THANH = "25762", "25741"  # Phường Phú Mỹ and Phường Hiệp Thành, Thủ Dầu Một (718)


def ingest(connection: Connection, path: Path, scope: str = "74") -> Report:
    return ingest_stats(connection, path, catalog=default_catalog(), set_name="vn2021", scope_code=scope,
                        metric="new_cases", dry_run=True)


def outcome(report: Report) -> dict[int, tuple]:
    return {r.row: (r.status, r.reason, r.column, r.unit_codes.get("commune"), r.other_province)
            for r in report.rows}


def test_parents_constrain_same_named_communes(connection: Connection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "quoc_gia.csv", HEADERS, [
        ["Bình Dương", "TP. Thủ Dầu Một", "Phú Mỹ", "01/07/2021", 2],
        ["TP. Hồ Chí Minh", "Quận 7", "Phú Mỹ", "01/07/2021", 5],  # same name, another province
        ["Bình Dương", "Quận 7", "Phú Mỹ", "02/07/2021", 3],  # misfiled: no such district here
        ["Bình Dương", "Dĩ An", "Hiệp Thành", "02/07/2021", 4],  # Hiệp Thành is in Thủ Dầu Một
        ["Bình Dương", "Thủ Dầu Một", "Hiệp Thành", "02/07/2021", 1],
        ["Tỉnh Không Có", "Thủ Dầu Một", "Hiệp Thành", "03/07/2021", 1],
        ["Hà Nội", "Ba Đình", "Phúc Xá", "03/07/2021", 7],
    ])
    report = ingest(connection, path)
    assert outcome(report) == {
        2: ("accepted", None, None, PHU_MY, None),
        3: ("rejected", "out_of_scope", "tinh", None, "Thành phố Hồ Chí Minh"),
        4: ("rejected", "unknown_unit", "huyen", None, None),
        5: ("rejected", "out_of_scope", "huyen", None, None),
        6: ("accepted", None, None, HIEP_THANH, None),
        7: ("rejected", "unknown_unit", "tinh", None, None),
        8: ("rejected", "out_of_scope", "tinh", None, "Thành phố Hà Nội"),
    }
    rows = {r.row: r for r in report.rows}
    assert "Quận 7" in rows[4].message_vi and "No district “Quận 7”" in rows[4].message_en
    assert "Thành phố Thủ Dầu Một" in rows[5].message_en and "Dĩ An" in rows[5].message_en
    assert "Tỉnh Không Có" in rows[7].message_vi and "No province" in rows[7].message_en
    # Rows of other provinces are expected: not among the rejected, counted per province.
    assert [r.row for r in report.rejected] == [4, 5, 7]
    assert report.other_provinces() == [("Thành phố Hà Nội", 1), ("Thành phố Hồ Chí Minh", 1)]


def test_a_district_scope_refuses_another_district_of_its_province(connection: Connection,
                                                                    tmp_path: Path) -> None:
    path = write_csv(tmp_path / "tinh.csv", HEADERS, [
        ["Bình Dương", "Thủ Dầu Một", "Hiệp Thành", "01/07/2021", 2],
        ["Bình Dương", "Dĩ An", "Tân Bình", "01/07/2021", 5],
        ["Bình Dương", "Thuận An", "Hiệp Thành", "01/07/2021", 5],
    ])
    assert outcome(ingest(connection, path, scope="718")) == {
        2: ("accepted", None, None, HIEP_THANH, None),
        3: ("rejected", "out_of_scope", "xa", None, None),
        4: ("rejected", "out_of_scope", "huyen", None, None),
    }


def test_repeated_rows(connection: Connection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "lap.csv", HEADERS, [
        ["Bình Dương", "Thủ Dầu Một", "Phú Mỹ", "01/07/2021", 2],
        ["Bình Dương", "Thủ Dầu Một", "Hiệp Thành", "01/07/2021", 4],
        ["Bình Dương", "TP. Thủ Dầu Một", "P. Phú Mỹ", "01/07/2021", 2],  # the same again
        ["Bình Dương", "Thủ Dầu Một", "Hiệp Thành", "01/07/2021", 6],  # another value
    ])
    report = ingest(connection, path)
    rows = {r.row: r for r in report.rows}
    assert [(r.row, r.status) for r in report.rows] == [
        (2, "accepted"), (3, "rejected"), (4, "accepted"), (5, "rejected")]
    assert [w["code"] for w in rows[4].warnings] == ["repeated_row"]
    assert "Row 4 repeats row 2" in rows[4].warnings[0]["message_en"]
    assert "Dòng 4 lặp lại dòng 2" in rows[4].warnings[0]["message_vi"]
    for n in (3, 5):
        assert rows[n].reason == "duplicate_unit" and "Rows 3 and 5" in rows[n].message_en
        assert "(4 and 6)" in rows[n].message_en and "Các dòng 3 và 5" in rows[n].message_vi
    assert report.diff.added == 1  # Phú Mỹ once; Hiệp Thành's two figures are both refused


def _real_rows(province: str) -> int:
    with THREE_PROVINCES.open(encoding="utf-8") as fh:
        return sum(1 for row in csv.DictReader(fh) if row["tinh"] == province)


def test_the_real_national_rows_of_other_provinces_are_never_accepted(connection: Connection,
                                                                       tmp_path: Path) -> None:
    report = ingest(connection, THREE_PROVINCES)
    others = [r for r in report.rows if r.other_province]
    assert report.other_provinces() == [("Tỉnh Tiền Giang", _real_rows("Tiền Giang")),
                                        ("Tỉnh Lạng Sơn", _real_rows("Lạng Sơn"))]
    assert all(r.status == "rejected" and r.reason == "out_of_scope" and not r.unit_codes for r in others)
    in_province = _real_rows("Bình Dương")
    assert len(report.accepted) + len(report.rejected) == in_province
    assert len(report.accepted) > 100
    text = report_text(report, lang="en")
    assert "Tỉnh Tiền Giang: 128 dòng, ngoài phạm vi / 128 rows, out of scope" in text
    assert text.count("Tỉnh Lạng Sơn") == 1  # counted, not listed row by row


@pytest.mark.parametrize("scope", ["74", "718"])
def test_cli_treats_other_provinces_as_expected(run_cli, tmp_path: Path, scope: str) -> None:
    path = write_csv(tmp_path / "quoc_gia.csv", HEADERS, [
        ["Bình Dương", "Thủ Dầu Một", "Phú Mỹ", "01/07/2021", 2],
        *([["Hà Nội", "Ba Đình", "Phúc Xá", f"0{d}/07/2021", d] for d in range(1, 8)]),
    ])
    target = tmp_path / "report.json"
    result = run_cli("ingest", str(path), "--layer", "unit_stats", "--metric", "new_cases", "--scope", scope,
                     "--dry-run", "--report-json", str(target))
    assert result.exit_code == 0, result.output
    assert "Thành phố Hà Nội: 7 dòng, ngoài phạm vi / 7 rows, out of scope" in result.output
    assert "REJECTED ROWS (0)" in result.output
    data = json.loads(target.read_text("utf-8"))
    assert data["counts"] == {"rows": 8, "accepted": 1, "rejected": 0}
    assert data["other_provinces"] == [{"province": "Thành phố Hà Nội", "rows": 7}]
    assert sum(1 for r in data["rows"] if r["other_province"] == "Thành phố Hà Nội") == 7
