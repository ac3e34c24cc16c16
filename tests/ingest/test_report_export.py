"""Tests for ingest.report_export: text, JSON, and formula-safe CSV and XLSX exports of a report."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from ingest.errors import FeedError, Problem
from ingest.report import Report, RowResult
from ingest.report_export import (
    report_csv,
    report_json,
    report_rows_table,
    report_text,
    report_xlsx,
    write_report_json,
)
from layers.versions import Diff

HYPERLINK = '=HYPERLINK("http://x")'
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = b"\xef\xbb\xbf"


def _rejected(row: int, code: str, vi: str, en: str, column: str | None = "so_ca") -> RowResult:
    """Build a rejected row from a problem."""
    return RowResult.rejected("Ca bệnh", row, Problem(code, vi, en), column)


def _report(**changes: object) -> Report:
    """Build a report with hostile cells and messages in rejected rows, warnings and unit codes."""
    accepted = RowResult(sheet="Ca bệnh", row=2, status="accepted", source_id="-2",
                         unit_codes={"commune": "26734", "zone": "Z1", "province": "79", "district": "760"},
                         lon=106.7, lat=10.78, approximate=True)
    approximate = Problem("approximate_location", "Vị trí gần đúng <script>", "Approximate location <script>")
    accepted.warn(approximate, column="dia_chi")
    plain = RowResult(sheet="Ca bệnh", row=3, status="accepted", unit_codes={"province": "01"},
                      lon=105.85, lat=21.03)
    rows = [
        accepted,
        plain,
        _rejected(4, "invalid_number", HYPERLINK, "Number “=HYPERLINK” is not valid."),
        _rejected(5, "@SUM(A1)", "+1", "-2", column="+1"),
        _rejected(6, "invalid_text", "Có mã \x1b[31mđỏ\r\nxuống dòng", "Has \x1b[31mred\r\nbreak <script>",
                  column="\x1b[2J"),
        RowResult(sheet="=Sheet", row=7, status="rejected", reason="invalid_date", column="ngay",
                  message_vi="Ngày " + "rất dài " * 30 + "hết.",
                  message_en="Date " + "very long " * 30 + "end.",
                  source_id=HYPERLINK, unit_codes={"province": "@79"}),
    ]
    defaults: dict[str, object] = {
        "file": "ca_benh_hcm.xlsx", "layer": "cases", "sha256": "0123456789abcdef" * 4, "rows": rows,
        "diff": Diff(added=3, changed=1, removed=2, unchanged=40), "publication": 17,
        "ignored_columns": ["ghi_chu", "=cmd"], "skipped_rows": [("Ca bệnh", 8, "blank")],
    }
    return Report(**{**defaults, **changes})


def _csv_rows(data: bytes) -> list[list[str]]:
    """Parse CSV bytes that start with a BOM."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# --------------------------------------------------------------------------- rows table


def test_rows_table_header_orders_unit_codes_by_depth() -> None:
    table = report_rows_table(_report())
    assert table[0] == ["sheet", "row", "status", "reason", "column", "message_vi", "message_en", "source_id",
                        "province_code", "district_code", "commune_code", "zone_code",
                        "lon", "lat", "approximate", "warnings", "value"]
    assert len(table) == 7
    assert all(len(line) == len(table[0]) for line in table)


def test_rows_table_keeps_raw_values_and_joins_warnings() -> None:
    table = report_rows_table(_report())
    first, plain = table[1], table[2]
    assert first[:8] == ["Ca bệnh", 2, "accepted", None, None, None, None, "-2"]
    assert first[8:12] == ["79", "760", "26734", "Z1"]
    assert first[12:15] == [106.7, 10.78, True]
    assert first[15] == ("approximate_location (dia_chi): Vị trí gần đúng <script> / "
                         "Approximate location <script>")
    assert plain[8:12] == ["01", None, None, None]
    assert plain[15] is None
    assert table[3][5] == HYPERLINK


def test_rows_table_of_an_empty_report_is_only_the_header() -> None:
    table = report_rows_table(_report(rows=[]))
    assert table == [["sheet", "row", "status", "reason", "column", "message_vi", "message_en", "source_id",
                      "lon", "lat", "approximate", "warnings", "value"]]


# --------------------------------------------------------------------------- CSV


def test_csv_starts_with_bom_and_neutralises_formulas() -> None:
    data = report_csv(_report())
    assert data.startswith(BOM)
    rows = _csv_rows(data)
    assert rows[0][0] == "sheet"
    assert rows[3][5] == "'" + HYPERLINK
    assert rows[4][3:7] == ["'@SUM(A1)", "'+1", "'+1", "'-2"]
    assert rows[1][7] == "'-2"
    assert rows[6][0] == "'=Sheet" and rows[6][7] == "'" + HYPERLINK and rows[6][8] == "'@79"


def test_csv_strips_control_characters_and_keeps_numbers() -> None:
    rows = _csv_rows(report_csv(_report()))
    assert rows[5][4] == "[2J"
    assert rows[5][5] == "Có mã [31mđỏ xuống dòng"
    assert rows[5][6] == "Has [31mred break <script>"
    assert rows[1][12:15] == ["106.7", "10.78", "True"]
    assert all("\x1b" not in cell and "\r" not in cell for row in rows for cell in row)
    assert not any(cell.startswith(FORMULA_START) for row in rows for cell in row)


def test_csv_parses_with_pandas() -> None:
    frame = pd.read_csv(io.BytesIO(report_csv(_report())), encoding="utf-8-sig", dtype=str,
                        keep_default_na=False)
    assert list(frame.columns[:3]) == ["sheet", "row", "status"]
    assert frame.loc[2, "message_vi"] == "'" + HYPERLINK
    assert frame.loc[3, "reason"] == "'@SUM(A1)"
    assert frame.loc[0, "warnings"].endswith("Approximate location <script>")
    assert frame.loc[0, "province_code"] == "79"


# --------------------------------------------------------------------------- XLSX


def _workbook(report: Report) -> Workbook:
    """Open the XLSX export of a report."""
    return load_workbook(io.BytesIO(report_xlsx(report)))


def test_xlsx_has_report_and_summary_sheets_without_formulas() -> None:
    book = _workbook(_report())
    assert book.sheetnames == ["Báo cáo", "Tóm tắt"]
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert cells and all(cell.data_type != "f" for cell in cells)
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert not any(text.startswith(FORMULA_START) for text in texts)
    assert not any("\x1b" in text or "\r" in text for text in texts)


def test_xlsx_report_sheet_matches_neutralised_csv() -> None:
    sheet = _workbook(_report())["Báo cáo"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "sheet" and values[3][5] == "'" + HYPERLINK
    assert values[4][3:7] == ["'@SUM(A1)", "'+1", "'+1", "'-2"]
    assert values[5][4:7] == ["[2J", "Có mã [31mđỏ xuống dòng", "Has [31mred break <script>"]
    assert values[1][1] == 2 and values[1][12:15] == [106.7, 10.78, True]
    assert values[6][0] == "'=Sheet" and values[6][7] == "'" + HYPERLINK


def test_xlsx_header_is_bold_frozen_and_columns_sized() -> None:
    book = _workbook(_report())
    sheet = book["Báo cáo"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert not sheet["A2"].font.bold
    widths = [sheet.column_dimensions[letter].width for letter in ("A", "F")]
    assert 8 <= widths[0] <= 60 and widths[1] == 60


def test_xlsx_summary_has_counts_and_diff() -> None:
    summary = dict(list(_workbook(_report())["Tóm tắt"].iter_rows(values_only=True))[1:])
    assert summary["tệp / file"] == "ca_benh_hcm.xlsx"
    assert summary["số xuất bản / publication"] == 17
    assert summary["số dòng / rows"] == 6
    assert summary["chấp nhận / accepted"] == 2
    assert summary["từ chối / rejected"] == 4
    assert summary["vị trí gần đúng / approximate"] == 1
    assert summary["cảnh báo / warnings"] == 1
    assert summary["thêm mới / added"] == 3 and summary["xoá / removed"] == 2
    assert summary["cột bị bỏ qua / ignored columns"] == "ghi_chu, =cmd"
    assert summary["mã từ chối / refusal code"] is None


def test_xlsx_summary_of_a_refused_report_neutralises_the_refusal() -> None:
    refused = FeedError("=empty", "Tệp trống.", "+The file is empty.")
    summary = dict(list(_workbook(_report(rows=[], refused=refused))["Tóm tắt"].iter_rows(values_only=True)))
    assert summary["mã từ chối / refusal code"] == "'=empty"
    assert summary["lý do từ chối / refusal (en)"] == "'+The file is empty."


# --------------------------------------------------------------------------- text


def test_text_has_header_counts_diff_and_both_languages() -> None:
    text = report_text(_report())
    assert text.splitlines()[0] == "BÁO CÁO NHẬP DỮ LIỆU / INGEST REPORT"
    assert "ca_benh_hcm.xlsx" in text and "lớp / layer: cases" in text
    assert re.search(r"sha256: 0123456789ab(?![0-9a-f])", text)
    assert "đã xuất bản số 17 / published as #17" in text
    for part in ("số dòng / rows: 6", "chấp nhận / accepted: 2", "từ chối / rejected: 4",
                 "vị trí gần đúng / approximate: 1", "cảnh báo / warnings: 1",
                 "thêm mới / added: 3", "thay đổi / changed: 1", "xoá / removed: 2",
                 "không đổi / unchanged: 40",
                 "cột bị bỏ qua / ignored columns: ghi_chu", "dòng bị bỏ qua / skipped rows: 1"):
        assert part in text
    for message in (HYPERLINK, "Number “=HYPERLINK” is not valid.", "+1", "-2", "@SUM(A1)",
                    "Vị trí gần đúng <script>", "Approximate location <script>"):
        assert message in text


def test_text_strips_terminal_escapes() -> None:
    text = report_text(_report())
    assert "\x1b" not in text and "\r" not in text
    assert "Có mã [31mđỏ xuống dòng" in text and "Has [31mred break <script>" in text


@pytest.mark.parametrize("width", [40, 60, 80, 110, 200])
def test_text_lines_fit_the_width(width: int) -> None:
    lines = report_text(_report(), width=width).splitlines()
    assert max(len(line) for line in lines) <= width


def test_narrow_text_stacks_messages_under_each_row() -> None:
    text = report_text(_report(), lang="en", width=50)
    assert "\nCa bệnh:4 · so_ca · invalid_number\n    Number “=HYPERLINK” is not valid.\n" in text
    assert "\n      " + HYPERLINK + "\n" in text
    assert "approximate_location" in text and "Approximate location <script>" in text


def test_text_wraps_long_messages_with_the_other_language_indented() -> None:
    lines = report_text(_report(), width=80).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("'=Sheet") or line.startswith("=Sheet"))
    block = lines[start:start + 8]
    message_at = block[0].index("Ngày")
    assert block[1][message_at:].startswith("rất dài")
    english = next(line for line in block if "Date" in line)
    assert english.index("Date") == message_at + 2
    assert any(line.endswith("…") for line in block)


def test_text_in_english_puts_english_first() -> None:
    lines = report_text(_report(), lang="en").splitlines()
    row = next(i for i, line in enumerate(lines) if "Number “=HYPERLINK” is not valid." in line)
    assert lines[row].split()[:2] == ["Ca", "bệnh"]
    assert lines[row + 1].strip() == HYPERLINK


def test_text_of_a_refused_file_gives_the_refusal_in_both_languages() -> None:
    refused = FeedError("empty_file", "Tệp không có dữ liệu.", "The file has no data.")
    text = report_text(_report(rows=[], refused=refused, publication=None, diff=Diff()))
    assert "TỪ CHỐI CẢ TỆP / FILE REFUSED: empty_file" in text
    assert "Tệp không có dữ liệu." in text and "The file has no data." in text
    assert "DÒNG BỊ TỪ CHỐI / REJECTED ROWS (0)" in text and "không có / none" in text


def test_text_of_a_dry_run_says_so() -> None:
    text = report_text(_report(dry_run=True, publication=None))
    assert "chạy thử, chưa xuất bản / dry run, not published" in text
    assert "published as #" not in text


@pytest.mark.parametrize(("lang", "width"), [("fr", 110), ("vi", 10)])
def test_text_rejects_bad_arguments(lang: str, width: int) -> None:
    with pytest.raises(ValueError):
        report_text(_report(), lang=lang, width=width)


# --------------------------------------------------------------------------- JSON


def test_json_round_trips_and_keeps_vietnamese() -> None:
    report = _report()
    text = report_json(report)
    assert json.loads(text) == report.as_dict()
    assert "Ca bệnh" in text and "\\u001b" in text and "\x1b" not in text
    assert text.startswith("{\n  \"file\"")


def test_json_escapes_c1_controls_and_bidi_overrides() -> None:
    report = _report(file="a\x9b31m\u202eb.xlsx")
    text = report_json(report)
    assert "\x9b" not in text and "\u202e" not in text
    assert json.loads(text)["file"] == "a\x9b31m\u202eb.xlsx"


def test_write_report_json(tmp_path: Path) -> None:
    report = _report()
    path = write_report_json(report, tmp_path / "report.json")
    assert path == tmp_path / "report.json"
    assert json.loads(path.read_text(encoding="utf-8")) == report.as_dict()
