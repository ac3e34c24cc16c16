"""Formula-safe CSV and XLSX cells, shared by every export (ingest reports, layer downloads).

Strings are made plain first: control, format (bidi override, zero-width) and surrogate
characters are dropped or turned into spaces and whitespace is collapsed, so a cell can neither
inject terminal escapes nor split a line.  They are then passed through
:func:`ingest.values.neutralise_formula`, so a spreadsheet never runs them as formulas.
Numbers stay numbers.  CSV is UTF-8 with a BOM, so Excel shows Vietnamese.
"""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections.abc import Iterable, Iterator, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ingest.values import neutralise_formula

Cell = str | int | float | None

BOM = "\ufeff"
XLSX_MAX_CELL = 32767
_XLSX_WIDTHS = (8, 60)


def plain_text(value: object) -> str:
    """Return a value as one line of printable text, without control or format characters.

    >>> plain_text("\\x1b[31mđỏ\\r\\nred\\u202e"), plain_text(None), plain_text(2.5)
    ('[31mđỏ red', '', '2.5')
    """
    if value is None:
        return ""
    kept = []
    for char in str(value):
        category = unicodedata.category(char)
        if category == "Cc":
            kept.append(" ")
        elif category == "Cs":
            kept.append("\ufffd")
        elif category != "Cf":
            kept.append(char)
    return " ".join("".join(kept).split())


def text_width(text: str) -> int:
    """Return how many terminal columns text takes: combining marks 0, wide characters 2.

    >>> text_width("Ha\\u0300 Nội"), text_width("北京")
    (6, 4)
    """
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def safe_cell(value: Cell) -> Cell:
    """Return a cell fit for a spreadsheet: strings made plain and formula-neutralised.

    >>> safe_cell(" \\x1b=1+1"), safe_cell(-5), safe_cell(None), safe_cell("Bình Dương")
    ("'=1+1", -5, None, 'Bình Dương')
    """
    return neutralise_formula(plain_text(value)) if isinstance(value, str) else value


def csv_lines(table: Iterable[Sequence[Cell]]) -> Iterator[str]:
    """Yield a table as formula-safe CSV lines (CRLF-terminated), one at a time, for streaming.

    >>> list(csv_lines([["Tên", "n"], ["=1+1", 2], ["a,b", None]]))
    ['Tên,n\\r\\n', "'=1+1,2\\r\\n", '"a,b",\\r\\n']
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in table:
        writer.writerow([safe_cell(cell) for cell in line])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def csv_bytes(table: Iterable[Sequence[Cell]]) -> bytes:
    """Return a table as formula-safe CSV in UTF-8 with a BOM, so Excel reads Vietnamese."""
    return (BOM + "".join(csv_lines(table))).encode("utf-8")


def xlsx_cell(value: Cell) -> Cell:
    """Return a cell ready for openpyxl: neutralised text within Excel's limit, finite numbers.

    >>> xlsx_cell(float("nan")), xlsx_cell("@SUM(A1)"), len(xlsx_cell("x" * 40000))
    (None, "'@SUM(A1)", 32767)
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    value = safe_cell(value)
    return value[:XLSX_MAX_CELL] if isinstance(value, str) else value


def fill_sheet(sheet: Worksheet, table: Iterable[Sequence[Cell]]) -> None:
    """Write a table with a bold, frozen header row, every string stored as a string, never a formula."""
    for r, line in enumerate(table, start=1):
        for c, raw in enumerate(line, start=1):
            cell = sheet.cell(row=r, column=c)
            cell.value = xlsx_cell(raw)
            if isinstance(cell.value, str):
                cell.data_type = "s"
            if r == 1:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    size_columns(sheet)


def size_columns(sheet: Worksheet) -> None:
    """Set each column's width from its longest text, within sensible bounds."""
    low, high = _XLSX_WIDTHS
    for index, column in enumerate(sheet.iter_cols(), start=1):
        longest = max((text_width(str(c.value)) for c in column if c.value is not None), default=0)
        sheet.column_dimensions[get_column_letter(index)].width = min(high, max(low, longest + 2))


def workbook_bytes(sheets: Sequence[tuple[str, Iterable[Sequence[Cell]]]]) -> bytes:
    """Return an XLSX workbook with one filled sheet per (title, table), in order."""
    book = Workbook()
    for index, (title, table) in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        sheet.title = title
        fill_sheet(sheet, table)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
