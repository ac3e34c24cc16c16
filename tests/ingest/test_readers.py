"""Tests for ingest.readers: the Bình Dương sample feeds plus generated edge-case files."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlwt

from ingest.errors import FeedError
from ingest.readers import Limits, Row, Table, read_tables
from ingest.readers import cells as cell_rules
from ingest.readers.text import detect_encoding, looks_vietnamese_cp1258, sniff_delimiter

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "feeds" / "binh_duong"
SAMPLE_FILES = [
    "xet_nghiem.xlsx",
    "khu_cach_ly.xlsx",
    "so_ca_theo_xa.xlsx",
    "chot_kiem_soat.csv",
    "diem_tiem_chung.csv",
    "vung_phong_toa.csv",
]
TONES = "\u0300\u0301\u0303\u0309\u0323"
VIETNAMESE = set("ăâđêôơưĂÂĐÊÔƠƯ") | set("ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")


def read_all(path: Path, **kwargs: Any) -> list[tuple[Table, list[Row]]]:
    """Read every table of a file and all its rows."""
    return [(table, list(table.rows)) for table in read_tables(path, **kwargs)]


def read_one(path: Path, **kwargs: Any) -> tuple[Table, list[Row]]:
    """Read a file that must hold exactly one table."""
    [(table, rows)] = read_all(path, **kwargs)
    return table, rows


def feed_error(code: str, action: Callable[[], object]) -> FeedError:
    """Run ``action``, check it raises FeedError ``code`` with bilingual messages, return it."""
    with pytest.raises(FeedError) as info:
        action()
    error = info.value
    assert error.code == code, (error.code, error.message_en)
    assert error.message_en and error.message_vi and error.message_vi != error.message_en
    assert VIETNAMESE & set(error.message_vi), error.message_vi  # real diacritics
    assert unicodedata.is_normalized("NFC", error.message_vi)
    return error


def cp1258_bytes(text: str) -> bytes:
    """Encode like Windows does for Vietnamese: base letters precomposed, tone marks combining."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in TONES)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES))
        out.append(base + tones)
    return "".join(out).encode("cp1258")


# --- the real Bình Dương feeds -----------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_sample_rows_are_exactly_the_expected_rows(name: str) -> None:
    expected = json.loads((SAMPLES / f"{name}.expected.json").read_text("utf-8"))
    table, rows = read_one(SAMPLES / name)
    assert {row.number for row in rows} == {item["row"] for item in expected["rows"]}
    assert len(rows) == expected["data_rows"]
    for row in rows:
        assert list(row.cells) == table.headers
        for value in row.cells.values():
            if isinstance(value, str):
                assert unicodedata.is_normalized("NFC", value)


def test_xet_nghiem_skips_titles_and_totals() -> None:
    table, rows = read_one(SAMPLES / "xet_nghiem.xlsx")
    assert table.sheet == "Điểm XN"
    assert table.header_row == 4
    assert table.headers[:2] == ["STT", "Tên cơ sở xét nghiệm"]
    assert "Tọa độ (vĩ độ, kinh độ)" in table.headers
    assert table.skipped == [(48, "total")]
    first = rows[0]
    assert first.sheet == "Điểm XN" and first.number == 5
    assert first.cells["STT"] == 1 and isinstance(first.cells["STT"], int)
    assert first.cells["Tọa độ (vĩ độ, kinh độ)"] == "10.924827, 106.687377"
    assert rows[-1].number == 47 and rows[-1].cells["Tên cơ sở xét nghiệm"] is None


def test_khu_cach_ly_keeps_text_numbers_as_text() -> None:
    table, rows = read_one(SAMPLES / "khu_cach_ly.xlsx")
    assert table.header_row == 2
    assert rows[0].cells["Sức chứa"] == "2.644"
    assert rows[0].cells["Đang cách ly"] == 147


def test_so_ca_theo_xa_wide_table_headers() -> None:
    table, rows = read_one(SAMPLES / "so_ca_theo_xa.xlsx")
    assert table.header_row == 1
    assert table.headers[2:4] == ["10/08/2021", "11/08/2021"]
    assert rows[0].cells["12/08/2021"] == 13


def test_chot_kiem_soat_windows_1258() -> None:
    table, rows = read_one(SAMPLES / "chot_kiem_soat.csv")
    assert table.encoding == "cp1258"
    assert table.delimiter == ","
    assert table.headers[:2] == ["Mã chốt", "Tên chốt"]
    assert rows[0].cells["Trạng thái"] == "Đang hoạt động"
    assert rows[0].cells["Kinh độ"] == "106°34'13.4\"E"
    assert rows[0].sheet is None


def test_diem_tiem_chung_bom_semicolon_decimal_commas() -> None:
    table, rows = read_one(SAMPLES / "diem_tiem_chung.csv")
    assert (table.encoding, table.delimiter) == ("utf-8-sig", ";")
    assert table.headers[0] == "STT"  # no BOM left on the first header
    assert rows[0].cells["Vĩ độ"] == "11,021671"
    assert rows[0].cells["Tên điểm tiêm"] == "Điểm tiêm Phường Định Hoà"


def test_vung_phong_toa_quoted_wkt() -> None:
    table, rows = read_one(SAMPLES / "vung_phong_toa.csv")
    assert table.encoding == "utf-8"
    assert rows[1].cells["Ranh giới (WKT)"].startswith("POLYGON ((106.86307519224277 11.1254")
    assert rows[1].cells["Khu vực phong tỏa"] == "Khu phố 9, Xã Đất Cuốc"
    assert rows[0].cells["Ranh giới (WKT)"] == ""


# --- generated workbooks ---------------------------------------------------------------------


def _report_sheet(ws: Any) -> None:
    """Fill a sheet laid out like a Vietnamese official report: letterhead, title, 2-row header."""
    ws["A1"], ws["D1"] = "SỞ Y TẾ TỈNH BÌNH DƯƠNG", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    ws["A2"], ws["D2"] = "TRUNG TÂM KIỂM SOÁT BỆNH TẬT", "Độc lập - Tự do - Hạnh phúc"
    for cells in ("A1:C1", "D1:G1", "A2:C2", "D2:G2", "A4:G4", "A5:G5"):
        ws.merge_cells(cells)
    ws["A4"] = "DANH SÁCH ĐIỂM XÉT NGHIỆM SARS-CoV-2"
    ws["A5"] = "(Cập nhật đến 17h00 ngày 15/8/2021)"
    names = ["STT", "Tên điểm", "Tọa độ", "Ngày mở", "Công suất", "Ghi chú"]
    for col, text in zip("ABCEFG", names, strict=True):
        ws[f"{col}7"] = text
        if col != "C":
            ws.merge_cells(f"{col}7:{col}8")
    ws.merge_cells("C7:D7")
    ws["C8"], ws["D8"] = "Vĩ độ", "Kinh độ"
    ws.append([1, "Trạm Y tế Phú Cường", 10.980862, 106.651953, dt.date(2021, 8, 1), 120.0])
    ws.append([2, "Trạm Y tế Chánh Nghĩa", 10.97, 106.65, dt.date(2021, 8, 2), 80, "mới"])
    ws.append([3, "Bệnh viện Bình Dương", 11.0, 106.6, dt.date(2021, 8, 3), 160, None])
    ws["G11"] = "=không phải công thức"
    ws["G11"].data_type = "s"
    ws.append([])  # row 12 blank
    ws.append([4, "Điểm lưu động", 11.1, 106.7, dt.datetime(2021, 8, 5, 7, 30), 0, True])
    ws.append(["Tổng cộng", None, None, None, None, 360])
    ws.merge_cells("A14:B14")
    ws.append(["Ghi chú: số liệu tạm tính"])
    ws.merge_cells("A15:G15")
    ws.append(["Người lập biểu", None, None, None, "Giám đốc"])


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    wb = openpyxl.Workbook()
    _report_sheet(wb.active)
    wb.active.title = "Điểm XN"
    second = wb.create_sheet("Khu cách ly")
    second.append(["Tên khu", "Sức chứa", "Sức chứa"])
    second.append(["Khu A", 100, 90])
    second.append(["Khu B", 200, 150])
    second.append(["Total", 300, 240])
    wb.create_sheet("Trống")
    hidden = wb.create_sheet("DM")
    hidden.append(["Mã", "Tên"])
    hidden.append(["25747", "Phú Cường"])
    hidden.sheet_state = "hidden"
    path = tmp_path / "bao_cao.xlsx"
    wb.save(path)
    return path


def test_xlsx_report_layout(workbook: Path) -> None:
    tables = read_all(workbook)
    assert [table.sheet for table, _ in tables] == ["Điểm XN", "Khu cách ly"]
    table, rows = tables[0]
    assert table.header_row == 7
    assert table.headers == [
        "STT",
        "Tên điểm",
        "Tọa độ Vĩ độ",
        "Tọa độ Kinh độ",
        "Ngày mở",
        "Công suất",
        "Ghi chú",
    ]
    assert [row.number for row in rows] == [9, 10, 11, 13]
    assert table.skipped == [(12, "blank"), (14, "total"), (15, "note"), (16, "note")]
    first, third, fourth = rows[0].cells, rows[2].cells, rows[3].cells
    assert first["Tọa độ Vĩ độ"] == 10.980862
    assert first["Công suất"] == 120 and isinstance(first["Công suất"], int)
    assert first["Ngày mở"] == dt.date(2021, 8, 1)
    assert first["Ghi chú"] is None
    assert third["Ghi chú"] == "=không phải công thức"
    assert fourth["Ngày mở"] == dt.datetime(2021, 8, 5, 7, 30)
    assert fourth["Ghi chú"] is True
    assert fourth["Công suất"] == 0

    other, other_rows = tables[1]
    assert other.headers == ["Tên khu", "Sức chứa", "Sức chứa (2)"]
    assert [r.cells for r in other_rows] == [
        {"Tên khu": "Khu A", "Sức chứa": 100, "Sức chứa (2)": 90},
        {"Tên khu": "Khu B", "Sức chứa": 200, "Sức chứa (2)": 150},
    ]
    assert other.skipped == [(4, "total")]


def test_skipped_fills_while_rows_are_consumed(workbook: Path) -> None:
    table = next(read_tables(workbook))
    assert table.skipped == []
    list(table.rows)
    assert len(table.skipped) == 4


def test_sheet_selection(workbook: Path) -> None:
    assert read_one(workbook, sheet="diem xn")[0].sheet == "Điểm XN"
    assert read_one(workbook, sheet="KHU CÁCH LY")[0].sheet == "Khu cách ly"
    assert read_one(workbook, sheet=1)[0].sheet == "Khu cách ly"
    table, rows = read_one(workbook, sheet="DM")  # hidden sheets only when asked for
    assert rows[0].cells == {"Mã": "25747", "Tên": "Phú Cường"}
    error = feed_error("unknown_sheet", lambda: read_tables(workbook, sheet="Không có"))
    assert "“Điểm XN”" in error.message_vi and "Khu cách ly" in error.message_en
    feed_error("unknown_sheet", lambda: read_tables(workbook, sheet=9))
    feed_error("empty_file", lambda: read_all(workbook, sheet="Trống"))


def test_xlsx_data_away_from_a1_keeps_positions(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C3"], ws["D3"], ws["F3"] = "Mã", "Tên", "Ghi chú"
    ws["C4"], ws["D4"], ws["E4"], ws["G4"] = "A1", "Một", "x", "lạc cột"
    ws["C5"], ws["D5"] = "A2", "Hai"
    path = tmp_path / "lech.xlsx"
    wb.save(path)
    table, rows = read_one(path)
    assert table.header_row == 3
    assert table.headers == ["Mã", "Tên", "Cột E", "Ghi chú"]
    assert [row.number for row in rows] == [4, 5]
    assert rows[0].cells == {"Mã": "A1", "Tên": "Một", "Cột E": "x", "Ghi chú": None, "Cột G": "lạc cột"}


def test_header_hint_picks_the_best_row(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Xã", 2019, 2020, 2021])  # years typed as numbers: not "mostly text"
    ws.append(["Tân An", 1, 2, 3])
    path = tmp_path / "nam.xlsx"
    wb.save(path)
    feed_error("no_header", lambda: read_all(path))

    def hint(cells: list[str]) -> int:
        return sum(cell in {"Xã", "Huyện"} for cell in cells)

    table, rows = read_one(path, header_hint=hint)
    assert table.headers == ["Xã", "2019", "2020", "2021"]
    assert rows[0].cells == {"Xã": "Tân An", "2019": 1, "2020": 2, "2021": 3}


def test_header_hint_may_choose_the_sub_header_row(workbook: Path) -> None:
    wanted = {"Tên điểm", "Vĩ độ", "Kinh độ"}
    table, rows = read_one(workbook, sheet=0, header_hint=lambda cells: len(wanted & set(cells)))
    assert table.header_row == 8
    assert table.headers[:5] == ["STT", "Tên điểm", "Vĩ độ", "Kinh độ", "Ngày mở"]
    assert [row.number for row in rows] == [9, 10, 11, 13]


def test_xls_written_by_xlwt(tmp_path: Path) -> None:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Cách ly")
    sheet.write_merge(0, 0, 0, 3, "DANH SÁCH KHU CÁCH LY TẬP TRUNG")
    for col, text in enumerate(["TT", "Tên khu", "Sức chứa", "Đơn vị"]):
        sheet.write(2, col, text)
    for r, values in enumerate([(1, "Khu Phú An", 2644, "Bộ CHQS"), (2, "Khu Lai Hưng", 2655.0, "")]):
        for col, value in enumerate(values):
            sheet.write(3 + r, col, value)
    sheet.write(5, 0, "Cộng")
    sheet.write(5, 2, 5299)
    path = tmp_path / "cach_ly.xls"
    book.save(str(path))
    table, rows = read_one(path)
    assert (table.sheet, table.header_row) == ("Cách ly", 3)
    assert [row.number for row in rows] == [4, 5]
    assert rows[1].cells == {"TT": 2, "Tên khu": "Khu Lai Hưng", "Sức chứa": 2655, "Đơn vị": None}
    assert table.skipped == [(6, "total")]


def test_format_is_judged_by_content(tmp_path: Path, workbook: Path) -> None:
    disguised = tmp_path / "bao_cao.csv"
    disguised.write_bytes(workbook.read_bytes())
    assert read_all(disguised)[0][0].sheet == "Điểm XN"
    text = tmp_path / "thuc_ra_la_csv.xlsx"
    text.write_text("Mã,Tên\n1,Một\n", "utf-8")
    assert read_one(text)[1][0].cells == {"Mã": "1", "Tên": "Một"}


# --- generated text files --------------------------------------------------------------------

CHECKPOINTS = [
    ["Mã chốt", "Tên chốt", "Trạng thái"],
    ["CKS-001", "Chốt An Điền", "Đang hoạt động"],
    ["CKS-002", "Chốt Phước Hoà", "Đã giải tỏa"],
]


def _lines(delimiter: str, newline: str = "\r\n") -> str:
    return "".join(delimiter.join(row) + newline for row in CHECKPOINTS)


@pytest.mark.parametrize(
    ("encoding", "delimiter", "expected_encoding"),
    [
        ("utf-8-sig", ",", "utf-8-sig"),
        ("utf-8", ";", "utf-8"),
        ("utf-16", "\t", "utf-16"),
        ("utf-16-le", ",", "utf-16-le"),
        ("utf-16-be", "|", "utf-16-be"),
        ("cp1258", ",", "cp1258"),
        ("cp1258", ";", "cp1258"),
    ],
)
def test_text_encodings_and_delimiters(
    tmp_path: Path, encoding: str, delimiter: str, expected_encoding: str
) -> None:
    text = _lines(delimiter)
    data = cp1258_bytes(text) if encoding == "cp1258" else text.encode(encoding)
    path = tmp_path / "chot.txt"
    path.write_bytes(data)
    table, rows = read_one(path)
    assert (table.encoding, table.delimiter) == (expected_encoding, delimiter)
    assert table.headers == CHECKPOINTS[0]
    assert [row.number for row in rows] == [2, 3]
    assert [list(row.cells.values()) for row in rows] == CHECKPOINTS[1:]


def test_short_cp1258_text_is_not_mistaken(tmp_path: Path) -> None:
    data = cp1258_bytes("Mã chốt,Tên chốt\nCKS-1,Đang hoạt động\n")
    assert b"\xde" in data and b"\xec" in data  # tone marks really are combining bytes
    assert looks_vietnamese_cp1258(data)
    assert detect_encoding(data) == "cp1258"
    path = tmp_path / "ngan.csv"
    path.write_bytes(data)
    table, rows = read_one(path)
    assert table.headers == ["Mã chốt", "Tên chốt"]
    assert rows[0].cells["Tên chốt"] == "Đang hoạt động"


def test_cp1258_after_a_long_ascii_start(tmp_path: Path) -> None:
    lines = ["Ma,Ten"] + [f"{i},Site {i}" for i in range(9000)] + ["9001,Chốt Đất Cuốc"]
    path = tmp_path / "dai.csv"
    path.write_bytes(cp1258_bytes("\n".join(lines) + "\n"))
    assert path.stat().st_size > 64 * 1024
    table, rows = read_one(path)
    assert table.encoding == "cp1258"
    assert rows[-1].cells == {"Ma": "9001", "Ten": "Chốt Đất Cuốc"}


def test_other_encodings_go_to_charset_normalizer() -> None:
    text = "Größe;Straße;Bemerkung\n" + "".join(
        f"Ärger {i};Übermaß über die Straße;schöne Grüße aus München\n" for i in range(50)
    )
    data = text.encode("cp1252")
    assert not looks_vietnamese_cp1258(data)
    encoding = detect_encoding(data)
    assert encoding != "cp1258"
    assert data.decode(encoding) == text


def test_undecodable_bytes_later_in_the_file(tmp_path: Path) -> None:
    text = "Mã,Tên\n" + "".join(f"{i},Điểm {i}\n" for i in range(8000))
    path = tmp_path / "hong.csv"
    path.write_bytes(text.encode("utf-8") + b"9000,\xff\xfe\xfa\n")
    [table] = read_tables(path)
    assert table.encoding == "utf-8"
    feed_error("encoding_error", lambda: list(table.rows))


def test_sniffing() -> None:
    assert sniff_delimiter("STT;Tên;Vĩ độ\n1;A;11,021671\n2;B;10,973051\n") == ";"
    assert sniff_delimiter('Mã,Ghi chú\n1,"a; b; c"\n2,"d; e"\n') == ","
    assert sniff_delimiter("Mã|Tên\n1|A\n") == "|"
    assert sniff_delimiter("chỉ một cột\nmột\n") == ","


def test_text_group_header_units_and_footers(tmp_path: Path) -> None:
    path = tmp_path / "nhom.csv"
    path.write_text(
        "DANH SÁCH KHU CÁCH LY\n"
        "\n"
        "STT,Tên khu,Tọa độ,,Sức chứa,Tên khu\n"
        ",,Vĩ độ,Kinh độ,(người),\n"
        '1,"Khu A, Phú Cường",10.98,106.65,100,x\n'
        "\n"
        '2,"Khu B\nnhà 2",11.0,106.7,200,y,thừa\n'
        "STT,Tên khu,Tọa độ,,Sức chứa,Tên khu\n"
        "Cộng,,,,300,\n"
        "* Số liệu tạm tính\n"
        "Nguồn: CDC Bình Dương\n"
        "Bình Dương, ngày 15 tháng 8 năm 2021\n",
        "utf-8",
    )
    table, rows = read_one(path)
    assert table.header_row == 3
    assert table.headers == [
        "STT",
        "Tên khu",
        "Tọa độ Vĩ độ",
        "Tọa độ Kinh độ",
        "Sức chứa (người)",
        "Tên khu (2)",
    ]
    assert [row.number for row in rows] == [5, 7]  # records: the quoted line break is one row
    assert rows[0].cells["Tên khu"] == "Khu A, Phú Cường"
    assert rows[1].cells["Tên khu"] == "Khu B\nnhà 2"
    assert rows[1].cells["Cột G"] == "thừa"
    assert table.skipped == [
        (6, "blank"),
        (8, "repeated_header"),
        (9, "total"),
        (10, "note"),
        (11, "note"),
        (12, "note"),
    ]


def test_data_row_below_header_is_not_a_sub_header(tmp_path: Path) -> None:
    path = tmp_path / "khong_nhom.csv"
    path.write_text("Mã,Tên,,Ghi chú\nCKS,Chốt A,abc,xyz\n", "utf-8")
    table, rows = read_one(path)
    assert table.headers == ["Mã", "Tên", "Cột C", "Ghi chú"]
    assert [row.number for row in rows] == [2]


def test_missing_trailing_fields_are_empty_strings(tmp_path: Path) -> None:
    path = tmp_path / "thieu.csv"
    path.write_text("Mã,Tên,Ghi chú\n1,Một\n", "utf-8")
    assert read_one(path)[1][0].cells == {"Mã": "1", "Tên": "Một", "Ghi chú": ""}


# --- limits and broken files -------------------------------------------------------------------


def test_empty_files(tmp_path: Path) -> None:
    empty = tmp_path / "rong.csv"
    empty.write_bytes(b"")
    feed_error("empty_file", lambda: read_tables(empty))
    bom_only = tmp_path / "bom.csv"
    bom_only.write_bytes(b"\xef\xbb\xbf\r\n\r\n")
    feed_error("empty_file", lambda: read_all(bom_only))
    wb = openpyxl.Workbook()
    blank = tmp_path / "rong.xlsx"
    wb.save(blank)
    feed_error("empty_file", lambda: read_all(blank))


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "lon.csv"
    path.write_text("Mã,Tên\n" + "1,Một\n" * 2000, "utf-8")
    feed_error("file_too_large", lambda: read_tables(path, max_bytes=1000))
    feed_error("file_too_large", lambda: read_tables(path, limits=Limits(max_bytes=1000)))
    assert len(read_one(path)[1]) == 2000


def test_too_many_columns(tmp_path: Path) -> None:
    path = tmp_path / "rong_qua.csv"
    path.write_text(",".join(f"c{i}" for i in range(10_000)) + "\n" + "1," * 9999 + "1\n")
    error = feed_error("too_many_columns", lambda: read_all(path))
    assert "10000" in error.message_en


def test_cell_too_large(tmp_path: Path) -> None:
    huge = tmp_path / "o_lon.csv"
    huge.write_text('Mã,Ghi chú\n1,"' + "x" * 10_000_000 + '"\n', "utf-8")
    feed_error("cell_too_large", lambda: read_all(huge))
    over_excel = tmp_path / "o_40k.csv"
    over_excel.write_text("Mã,Ghi chú\n1," + "y" * 40_000 + "\n", "utf-8")
    feed_error("cell_too_large", lambda: read_all(over_excel))
    wb = openpyxl.Workbook()  # openpyxl cuts cells at 32,767 characters: patch the XML instead
    wb.active.append(["Mã", "Ghi chú"])
    wb.active.append(["1", "PLACEHOLDER"])
    template, xlsx = tmp_path / "mau.xlsx", tmp_path / "o_lon.xlsx"
    wb.save(template)
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(xlsx, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info).replace(b"PLACEHOLDER", b"z" * 40_000))
    feed_error("cell_too_large", lambda: read_all(xlsx))


def test_zip_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bom.xlsx"
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(300):
                member.write(chunk)
    assert path.stat().st_size < 1_000_000
    feed_error("zip_bomb", lambda: read_tables(path))


def test_truncated_xlsx(tmp_path: Path, workbook: Path) -> None:
    data = workbook.read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    feed_error("corrupt_file", lambda: read_all(path))


def test_broken_sheet_xml(tmp_path: Path, workbook: Path) -> None:
    path = tmp_path / "xml_hong.xlsx"
    with zipfile.ZipFile(workbook) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            dst.writestr(info, data)
    feed_error("corrupt_file", lambda: read_all(path))


def test_opendocument_spreadsheet(tmp_path: Path) -> None:
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )

    def cell(value: str, kind: str = "string") -> str:
        extra = f' office:value="{value}"' if kind == "float" else ""
        return (
            f'<table:table-cell office:value-type="{kind}"{extra}><text:p>{value}</text:p></table:table-cell>'
        )

    rows = [cell("Mã") + cell("Tên"), cell("1", "float") + cell("Một")]
    body = "".join(f"<table:table-row>{r}</table:table-row>" for r in rows)
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
        'office:version="1.2"><office:body><office:spreadsheet>'
        f'<table:table table:name="Trang 1">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    path = tmp_path / "bang.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
        archive.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
            ' manifest:version="1.2"><manifest:file-entry manifest:full-path="content.xml"'
            ' manifest:media-type="text/xml"/></manifest:manifest>',
        )
    table, rows_read = read_one(path)
    assert table.sheet == "Trang 1"
    assert rows_read[0].cells == {"Mã": 1, "Tên": "Một"}


def test_corrupt_xls(tmp_path: Path) -> None:
    path = tmp_path / "hong.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8)
    feed_error("corrupt_file", lambda: read_all(path))


def test_encrypted_workbook(tmp_path: Path) -> None:
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    entry = "EncryptionInfo".encode("utf-16-le").ljust(64, b"\0") + (30).to_bytes(2, "little")
    path = tmp_path / "mat_khau.xlsx"
    path.write_bytes(header + entry.ljust(128, b"\0") + bytes(4096))
    feed_error("encrypted_file", lambda: read_tables(path))


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "nen.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data.csv", "Mã,Tên\n1,Một\n")
    feed_error("unsupported_format", lambda: read_tables(path))


def test_binary_and_html_are_not_tables(tmp_path: Path) -> None:
    nul = tmp_path / "nhi_phan.csv"
    nul.write_bytes(b"Ma,Ten\n1,\x00\x01\x02\x00\x00\x03garbage\n")
    feed_error("not_a_table", lambda: read_all(nul))
    png = tmp_path / "anh.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    feed_error("not_a_table", lambda: read_all(png))
    html = tmp_path / "web.xls"
    html.write_text("<html><body><table><tr><td>Mã</td></tr></table></body></html>", "utf-8")
    feed_error("unsupported_format", lambda: read_all(html))


@pytest.mark.parametrize(("name", "content", "named"), [
    ("so_ca.xlsx", bytes(range(256)) * 8, "unrecognised binary data"),
    ("so_ca.xls", b"%PDF-1.7\n" + bytes(range(256)), "a PDF document"),
    ("so_ca.csv", b"\xff\xd8\xff\xe0" + bytes(range(256)), "a JPEG image"),
    ("so_ca.xlsx", b"\x1f\x8b\x08\x00" + bytes(200), "a gzip archive"),
])
def test_a_file_that_is_no_table_is_named_for_what_it_is(tmp_path: Path, name, content, named) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    error = feed_error("not_a_table", lambda: read_tables(path))
    assert error.message_en.startswith(f"This is {named}, not ") and error.message_vi.startswith("Tệp này là")
    assert ("not an Excel file" in error.message_en) == name.endswith((".xlsx", ".xls"))
    assert ("not a CSV file" in error.message_en) == name.endswith(".csv")


def test_a_nul_after_the_sampled_head_names_its_row(tmp_path: Path) -> None:
    lines = ["Mã,Tên điểm"] + [f"{i},Điểm số {i}" for i in range(1, 6000)] + ["6000,Đi\x00ểm", "6001,Cuối"]
    path = tmp_path / "nul_xa.csv"
    path.write_bytes("\n".join(lines).encode("utf-8"))
    assert path.stat().st_size > 64 * 1024
    error = feed_error("not_a_table", lambda: read_all(path))
    assert "row 6001 " in error.message_en and "dòng 6001 " in error.message_vi


def test_no_header(tmp_path: Path) -> None:
    path = tmp_path / "so.csv"
    path.write_text("1,2,3\n4,5,6\n", "utf-8")
    feed_error("no_header", lambda: read_all(path))
    titles = tmp_path / "tieu_de.csv"
    titles.write_text("BÁO CÁO\nKhông có bảng\n", "utf-8")
    feed_error("no_header", lambda: read_all(titles))


def _total_by_fold(text: str) -> bool:
    """Tell whether a text labels a totals row, from its whole fold (no quick first tests)."""
    match = cell_rules._TOTAL.match(cell_rules.fold(text))
    if not match:
        return False
    rest = match.group(2).strip()
    if not rest or rest[0] in ":=-–—(.,;" or rest[0].isdigit():
        return True
    return rest.split()[0] in cell_rules._TOTAL_NEXT_WORDS


def test_total_labels_quick_tests_agree_with_the_fold() -> None:
    seconds = [chr(c) for c in [*range(0x20, 0x250), *range(0x300, 0x370), *range(0x1E00, 0x1F00)]]
    tails = ["ng cộng: 43", "ng", "tal", "b-total 5", "and total", "ng công ty", "ng số", ""]
    checked = totals = 0
    for first in "tTcCgGsS ":
        for second in seconds:
            for tail in tails:
                text = f" {first}{second}{tail}"
                assert cell_rules.is_total_label(text) == _total_by_fold(text), repr(text)
                checked, totals = checked + 1, totals + _total_by_fold(text)
    assert totals > 50 and checked > 10_000  # the loop did meet totals, diacritics and marks included


@pytest.mark.parametrize(("row", "reason"), [
    (["Trạm Y tế Phú Cường", "Số 5, đường 30/4", "Phú Cường", "10.98"], None),
    (["1", "Tổng cộng", "43", "điểm"], "total"),
    (["Cộng", "Toàn tỉnh", "43", ""], "total"),
    (["STT", "Tên", "Vĩ độ", "Kinh độ"], "repeated_header"),
    (["stt ", "TÊN", "vi do", "Kinh  độ"], "repeated_header"),
    (["", "Ghi chú: số liệu tạm tính", "", ""], "note"),
    (["  ", "\t", "", None], "blank"),
    (["Sub-total", "12", "x"], "total"),
    (["Sửa", "Tổng", "x"], "total"),
    (["Sửa", "Tông", "x"], "total"),
    (["Toàn", "Công ty", "x"], None),
])
def test_rows_with_three_text_cells_are_skipped_for_the_same_reasons(row, reason) -> None:
    header_keys = [cell_rules.fold(h) for h in ["STT", "Tên", "Vĩ độ", "Kinh độ"]]
    assert cell_rules.skip_reason(row, header_keys) == reason
