"""Export an ingest report: plain text for the CLI, JSON, and formula-safe CSV and XLSX row tables.

Every string taken from a feed (sheet names, columns, messages quoting cells, codes) is made
plain before it is shown or exported: control, format (bidi override, zero-width) and surrogate
characters are dropped or turned into spaces and whitespace is collapsed, so a feed cannot
inject terminal escapes or split a line.  CSV and XLSX strings are then passed through
:func:`ingest.values.neutralise_formula`, so a spreadsheet never runs them as formulas; numbers
(row, lon, lat) stay numbers; the cell helpers live in :mod:`ingest.sheets`, shared with layer
downloads.  Fixed labels are bilingual, Vietnamese first; ``lang`` only chooses which language a
message is shown in first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from ingest.report import Report, RowResult
from ingest.sheets import Cell, csv_bytes, workbook_bytes
from ingest.sheets import plain_text as _plain
from ingest.sheets import text_width as _width

LANGS = ("vi", "en")
MIN_WIDTH = 40
_SHA_SHOWN = 12
_MAX_LINES = 4
_MIN_MESSAGE = 24
_GAP = "  "
_INDENT = "  "
_SEP = " · "
_SKIPPED_SHOWN = 10
_UNIT_DEPTH = {"province": 0, "district": 1, "commune": 2}
_TABLE_HEAD = ("Trang/Sheet", "Dòng/Row", "Cột/Column", "Mã/Code", "Thông báo/Message")
_TABLE_CAPS = (20, 8, 24, 30)
_ROW_HEAD = ("sheet", "row", "status", "reason", "column", "message_vi", "message_en", "source_id")
_ROW_TAIL = ("lon", "lat", "approximate", "warnings", "value")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class _Entry(NamedTuple):
    """One line of a rejected-rows or warnings table, before layout."""

    sheet: str | None
    row: int
    column: str | None
    code: str | None
    message_vi: str | None
    message_en: str | None


# --------------------------------------------------------------------------- plain text helpers


def _clip(text: str, width: int) -> str:
    """Cut text to at most width columns, marking a cut with an ellipsis.

    >>> _clip("abcdef", 4), _clip("abc", 4)
    ('abc…', 'abc')
    """
    if _width(text) <= width:
        return text
    kept, used = [], 0
    for char in text:
        used += _width(char)
        if used > width - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


def _pad(text: str, width: int, right: bool = False) -> str:
    """Clip text to width columns and pad it with spaces, left-aligned unless right is set."""
    text = _clip(text, width)
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def _chunks(word: str, width: int) -> list[str]:
    """Split a word wider than width columns into pieces that fit."""
    pieces, piece = [], ""
    for char in word:
        if piece and _width(piece + char) > width:
            pieces.append(piece)
            piece = ""
        piece += char
    return [*pieces, piece]


def _wrap(text: str, width: int, max_lines: int = _MAX_LINES) -> list[str]:
    """Wrap text to lines of at most width columns, keeping at most max_lines.

    >>> _wrap("một hai ba bốn năm sáu", 8), _wrap("a b c d", 1, max_lines=2), _wrap("", 5)
    (['một hai', 'ba bốn', 'năm sáu'], ['a', '…'], [''])
    """
    lines: list[str] = []
    for word in (piece for whole in text.split() for piece in _chunks(whole, width)):
        if lines and _width(lines[-1]) + 1 + _width(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _clip(lines[max_lines - 1] + "…", width)]
    return lines or [""]


def _pack(items: Sequence[str], width: int, indent: str = "") -> list[str]:
    """Join items with middle dots into lines of at most width columns, breaking between items.

    >>> _pack(["aa: 1", "bb: 2", "cc: 3"], 13)
    ['aa: 1 · bb: 2', 'cc: 3']
    """
    lines: list[str] = []
    for item in items:
        if lines and _width(lines[-1] + _SEP + item) <= width:
            lines[-1] += _SEP + item
        else:
            lines.append((indent if lines else "") + item)
    return lines


# --------------------------------------------------------------------------- report facts


def _status(report: Report) -> str:
    """Return the bilingual outcome of a report: refused, dry run, published or not published."""
    if report.refused is not None:
        return f"TỪ CHỐI CẢ TỆP / FILE REFUSED: {_plain(report.refused.code)}"
    if report.dry_run:
        return "chạy thử, chưa xuất bản / dry run, not published"
    if report.publication is not None:
        return f"đã xuất bản số {report.publication} / published as #{report.publication}"
    return "chưa xuất bản / not published"


def _counts(report: Report) -> list[tuple[str, int]]:
    """Return the bilingual count labels and values: rows, accepted, rejected, approximate, warnings."""
    return [
        ("số dòng / rows", len(report.rows)),
        ("chấp nhận / accepted", len(report.accepted)),
        ("từ chối / rejected", len(report.rejected)),
        ("của tỉnh khác / of other provinces", sum(n for _, n in report.other_provinces())),
        ("vị trí gần đúng / approximate", sum(1 for r in report.rows if r.approximate)),
        ("cảnh báo / warnings", sum(len(r.warnings) for r in report.rows)),
    ]


def _diff(report: Report) -> list[tuple[str, int]]:
    """Return the bilingual diff labels and values: added, changed, removed, unchanged."""
    diff = report.diff
    return [
        ("thêm mới / added", diff.added),
        ("thay đổi / changed", diff.changed),
        ("xoá / removed", diff.removed),
        ("không đổi / unchanged", diff.unchanged),
    ]


def _skipped(report: Report) -> list[str]:
    """Return the first skipped rows as 'sheet:row (reason)' texts, with an ellipsis when more."""
    shown = [f"{_plain(s) or '-'}:{n} ({_plain(why)})" for s, n, why in report.skipped_rows[:_SKIPPED_SHOWN]]
    return shown + (["…"] if len(report.skipped_rows) > _SKIPPED_SHOWN else [])


def _in_order(vi: str | None, en: str | None, lang: str) -> tuple[str, str]:
    """Return the two messages as plain text, the one in lang first."""
    return (_plain(vi), _plain(en)) if lang == "vi" else (_plain(en), _plain(vi))


# --------------------------------------------------------------------------- text report


def _messages(vi: str | None, en: str | None, lang: str, width: int) -> list[str]:
    """Wrap both messages: the chosen language, then the other indented on the following lines."""
    first, second = _in_order(vi, en, lang)
    lines = _wrap(first, width)
    if second:
        lines += [_INDENT + line for line in _wrap(second, width - len(_INDENT))]
    return lines


def _header(report: Report, lang: str, width: int) -> list[str]:
    """Return the title, the file/layer/sha256/outcome line and, if refused, both refusal messages."""
    facts = [f"tệp / file: {_plain(report.file)}", f"lớp / layer: {_plain(report.layer)}",
             f"sha256: {_plain(report.sha256)[:_SHA_SHOWN]}", _status(report)]
    lines = ["BÁO CÁO NHẬP DỮ LIỆU / INGEST REPORT", *_pack(facts, width, _INDENT)]
    if report.refused is not None:
        refused = report.refused
        lines += [_INDENT + line for line in _messages(refused.message_vi, refused.message_en, lang,
                                                       width - len(_INDENT))]
    return lines


def _summary(report: Report, width: int) -> list[str]:
    """Return the counts, the diff, ignored columns and skipped rows as packed lines."""
    lines = _pack([f"{label}: {value}" for label, value in _counts(report)], width, _INDENT)
    lines += _pack([f"{label}: {value}" for label, value in _diff(report)], width, _INDENT)
    if report.ignored_columns:
        columns = [_plain(c) for c in report.ignored_columns]
        lines += _pack([f"cột bị bỏ qua / ignored columns: {columns[0]}", *columns[1:]], width, _INDENT)
    if report.skipped_rows:
        title = f"dòng bị bỏ qua / skipped rows: {len(report.skipped_rows)}"
        lines += _pack([title, *_skipped(report)], width, _INDENT)
    return lines


def _vi_count(number: int) -> str:
    """Return a count as Vietnamese writes it: 1.204.

    >>> _vi_count(1204), _vi_count(7)
    ('1.204', '7')
    """
    return f"{number:,}".replace(",", ".")


def _other_provinces(report: Report) -> list[str]:
    """Return one line per other province: its rows are counted, not listed (all are in the JSON)."""
    counts = report.other_provinces()
    if not counts:
        return []
    title = f"DÒNG CỦA TỈNH KHÁC / ROWS OF OTHER PROVINCES ({sum(n for _, n in counts):,})"
    lines = [f"{_plain(province)}: {_vi_count(n)} dòng, ngoài phạm vi / {n:,} rows, out of scope"
             for province, n in counts]
    return [title, *(_INDENT + line for line in lines), ""]


def _table_widths(cells: list[list[str]]) -> list[int]:
    """Return the width of each fixed column: its widest cell or header, up to its cap."""
    return [min(cap, max(_width(head), *(_width(line[i]) for line in cells)))
            for i, (head, cap) in enumerate(zip(_TABLE_HEAD, _TABLE_CAPS, strict=False))]


def _table(entries: list[_Entry], lang: str, width: int) -> list[str]:
    """Lay out problems as sheet, row, column, code and wrapped messages in both languages."""
    if not entries:
        return [_INDENT + "không có / none"]
    cells = [[_plain(e.sheet), str(e.row), _plain(e.column), _plain(e.code)] for e in entries]
    widths = _table_widths(cells)
    message_width = width - sum(widths) - len(_GAP) * len(widths)
    if message_width < _MIN_MESSAGE:
        return _stacked(entries, cells, lang, width)
    lines = [_GAP.join([*(_pad(h, w) for h, w in zip(_TABLE_HEAD, widths, strict=False)), _TABLE_HEAD[-1]]),
             _GAP.join("-" * w for w in [*widths, _width(_TABLE_HEAD[-1])])]
    blank = [" " * w for w in widths]
    for entry, line in zip(entries, cells, strict=True):
        fixed = [_pad(text, w, right=i == 1) for i, (text, w) in enumerate(zip(line, widths, strict=True))]
        for i, message in enumerate(_messages(entry.message_vi, entry.message_en, lang, message_width)):
            lines.append(_GAP.join([*(fixed if i == 0 else blank), message]).rstrip())
    return lines


def _stacked(entries: list[_Entry], cells: list[list[str]], lang: str, width: int) -> list[str]:
    """Lay out problems for a narrow terminal: 'sheet:row · column · code', messages indented below."""
    indent = _INDENT * 2
    lines = _pack(["Trang:Dòng / Sheet:Row", "Cột / Column", "Mã / Code"], width, _INDENT)
    for entry, (sheet, row, column, code) in zip(entries, cells, strict=True):
        lines += _pack([f"{sheet or '-'}:{row}", column or "-", code or "-"], width, _INDENT)
        messages = _messages(entry.message_vi, entry.message_en, lang, width - len(indent))
        lines += [indent + message for message in messages]
    return lines


def _rejected_entries(report: Report) -> list[_Entry]:
    """Return one table entry per rejected row."""
    return [_Entry(r.sheet, r.row, r.column, r.reason, _valued(r.message_vi, r.value, "giá trị"),
                   _valued(r.message_en, r.value, "value")) for r in report.rejected]


def _valued(message: str | None, value: str | None, label: str) -> str | None:
    """Return a rejected row's message with its offending value.

    >>> _valued("Vĩ độ không hợp lệ.", "91,5", "giá trị"), _valued("Bad.", None, "value")
    ('Vĩ độ không hợp lệ. (giá trị: “91,5”)', 'Bad.')
    """
    return f"{message} ({label}: “{value}”)" if value and message else message


def _warning_entries(report: Report) -> list[_Entry]:
    """Return one table entry per warning on any row."""
    return [_Entry(r.sheet, r.row, w.get("column"), w.get("code"), w.get("message_vi"), w.get("message_en"))
            for r in report.rows for w in r.warnings]


def report_text(report: Report, lang: str = "vi", width: int = 110) -> str:
    """Render a report as plain terminal text no wider than width, messages in lang first."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    if width < MIN_WIDTH:
        raise ValueError(f"width must be at least {MIN_WIDTH}, not {width}")
    rejected, warnings = _rejected_entries(report), _warning_entries(report)
    lines = [*_header(report, lang, width), "", *_summary(report, width), "", *_other_provinces(report),
             f"DÒNG BỊ TỪ CHỐI / REJECTED ROWS ({len(rejected)})", *_table(rejected, lang, width), "",
             f"CẢNH BÁO / WARNINGS ({len(warnings)})", *_table(warnings, lang, width)]
    return "\n".join(_clip(line, width) for line in lines) + "\n"


# --------------------------------------------------------------------------- JSON


def report_json(report: Report) -> str:
    """Return the report as indented UTF-8 JSON, escaping characters a terminal could misread."""
    text = json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def write_report_json(report: Report, path: str | Path) -> Path:
    """Write the report as JSON to path in UTF-8 and return the path."""
    target = Path(path)
    target.write_text(report_json(report) + "\n", encoding="utf-8")
    return target


# --------------------------------------------------------------------------- rows table


def _unit_keys(rows: list[RowResult]) -> list[str]:
    """Return every unit-code key used, province first, then district, commune and others by name."""
    keys = {key for row in rows for key in row.unit_codes}
    return sorted(keys, key=lambda k: (_UNIT_DEPTH.get(k.removesuffix("_code"), len(_UNIT_DEPTH)), k))


def _unit_header(key: str) -> str:
    """Return the table header for a unit-code key, e.g. 'province' -> 'province_code'."""
    return key if key.endswith("_code") else f"{key}_code"


def _warning_text(warning: dict[str, str]) -> str:
    """Return one warning as 'code (column): message_vi / message_en'."""
    column = f" ({warning['column']})" if warning.get("column") else ""
    messages = " / ".join(m for m in (warning.get("message_vi"), warning.get("message_en")) if m)
    return f"{warning.get('code', '')}{column}: {messages}"


def _row_line(row: RowResult, keys: list[str]) -> list[Cell]:
    """Return one data row of the rows table."""
    warnings = "; ".join(_warning_text(w) for w in row.warnings) or None
    units = [row.unit_codes.get(k) for k in keys]
    return [row.sheet, row.row, row.status, row.reason, row.column, row.message_vi, row.message_en,
            row.source_id, *units, row.lon, row.lat, row.approximate, warnings, row.value]


def report_rows_table(report: Report) -> list[list[Cell]]:
    """Return a header line and one line per data row, with unit codes province to commune."""
    keys = _unit_keys(report.rows)
    header: list[Cell] = [*_ROW_HEAD, *(_unit_header(k) for k in keys), *_ROW_TAIL]
    return [header, *(_row_line(row, keys) for row in report.rows)]


# --------------------------------------------------------------------------- spreadsheets


def report_csv(report: Report) -> bytes:
    """Return the rows table as formula-safe CSV in UTF-8 with a BOM, so Excel reads Vietnamese."""
    return csv_bytes(report_rows_table(report))


def _summary_table(report: Report) -> list[list[Cell]]:
    """Return the summary sheet: file facts, outcome, refusal, counts, diff and what was skipped."""
    refused = report.refused
    return [
        ["mục / item", "giá trị / value"],
        ["tệp / file", report.file],
        ["lớp / layer", report.layer],
        ["sha256", report.sha256],
        ["trạng thái / status", _status(report)],
        ["số xuất bản / publication", report.publication],
        ["mã từ chối / refusal code", refused.code if refused else None],
        ["lý do từ chối / refusal (vi)", refused.message_vi if refused else None],
        ["lý do từ chối / refusal (en)", refused.message_en if refused else None],
        *([label, value] for label, value in _counts(report)),
        *([label, value] for label, value in _diff(report)),
        ["cột bị bỏ qua / ignored columns", ", ".join(report.ignored_columns) or None],
        ["dòng bị bỏ qua / skipped rows", len(report.skipped_rows)],
    ]


def report_xlsx(report: Report) -> bytes:
    """Return an XLSX workbook: a 'Báo cáo' sheet with the rows table and a 'Tóm tắt' summary sheet."""
    return workbook_bytes([("Báo cáo", report_rows_table(report)), ("Tóm tắt", _summary_table(report))])
