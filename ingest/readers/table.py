"""Rows and tables of a feed, the safety limits, and building a table from raw rows.

Both the Excel and the text reader feed :func:`build_table` ``(row_number, cells)`` pairs, where
``row_number`` is the 1-based number a person sees and ``cells`` a list of raw values (blank
cells are ``None`` or blank strings).  See :mod:`ingest.readers.header` for how the header is
found.  Below it, rows are skipped — and listed in :attr:`Table.skipped` with a reason — when
they are ``blank``, a ``total`` ("Tổng", "Tổng cộng", "Cộng", "Total", with or without
diacritics, in the first two non-empty cells), a ``note``/footer (one or two text cells starting
with "Ghi chú", "Nguồn:", "Người lập", "*", a "…, ngày d tháng m năm yyyy" signature line…), or a
``repeated_header``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ingest.errors import FeedError
from ingest.readers.cells import (
    column_letter,
    fold,
    is_blank,
    label,
    skip_reason,
    unique_names,
    where,
)
from ingest.readers.header import HEADER_SCAN_ROWS, HeaderGrid, HeaderHint, Merge


@dataclass(frozen=True)
class Limits:
    """Safety caps applied while reading a feed file."""

    max_bytes: int = 50 * 1024 * 1024
    max_columns: int = 1_000
    max_cell_chars: int = 32_767
    max_unzipped_bytes: int = 200 * 1024 * 1024
    max_zip_ratio: float = 100.0
    zip_ratio_min_bytes: int = 10 * 1024 * 1024


@dataclass
class Row:
    """One data row of a feed, keyed by header text."""

    sheet: str | None
    number: int
    cells: dict[str, Any]


@dataclass
class Table:
    """A header plus the data rows below it; ``skipped`` fills up as ``rows`` is consumed."""

    sheet: str | None
    header_row: int
    headers: list[str]
    rows: Iterator[Row]
    skipped: list[tuple[int, str]] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None


def check_row(cells: list[Any], sheet: str | None, number: int, limits: Limits) -> None:
    """Raise ``too_many_columns`` / ``cell_too_large`` for a row that breaks the limits."""
    if len(cells) > limits.max_columns:
        vi_where, en_where = where(sheet, number)
        raise FeedError(
            "too_many_columns",
            f"{vi_where[:1].upper()}{vi_where[1:]} có {len(cells)} cột, vượt giới hạn "
            f"{limits.max_columns} cột.",
            f"{en_where[:1].upper()}{en_where[1:]} has {len(cells)} columns, more than the "
            f"limit of {limits.max_columns}.",
        )
    for value in cells:
        if isinstance(value, str) and len(value) > limits.max_cell_chars:
            raise cell_too_large(sheet, number, len(value), limits)


def cell_too_large(sheet: str | None, number: int, size: int | None, limits: Limits) -> FeedError:
    """Return the error for a cell longer than Excel's own limit."""
    vi_where, en_where = where(sheet, number)
    vi_size = f" dài {size} ký tự," if size else ""
    en_size = f" is {size} characters long," if size else " is"
    return FeedError(
        "cell_too_large",
        f"Một ô ở {vi_where}{vi_size} vượt giới hạn {limits.max_cell_chars} ký tự của Excel.",
        f"A cell in {en_where}{en_size} over Excel's limit of {limits.max_cell_chars} characters.",
    )


def build_table(
    records: Iterator[tuple[int, list[Any]]],
    *,
    sheet: str | None,
    merges: list[Merge] | None = None,
    header_hint: HeaderHint | None = None,
    missing: Any = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Table:
    """Find the header in the first rows of ``records`` and return a lazily-read table."""
    window = list(itertools.islice(records, HEADER_SCAN_ROWS))
    vi_where, en_where = where(sheet)
    if not any(not is_blank(v) for _, cells in window for v in cells):
        raise FeedError(
            "empty_file",
            f"Không có dữ liệu{' trong ' + vi_where if sheet is not None else ''}: "
            "tệp hoặc trang tính trống.",
            f"No data{' in ' + en_where if sheet is not None else ''}: the file or sheet is empty.",
        )
    grid = HeaderGrid(window, merges)
    found = grid.find_header(header_hint)
    if found is None:
        raise FeedError(
            "no_header",
            f"Không tìm thấy dòng tiêu đề cột trong {HEADER_SCAN_ROWS} dòng đầu"
            f"{' của ' + vi_where if sheet is not None else ''}.",
            f"No column header row found in the first {HEADER_SCAN_ROWS} rows"
            f"{' of ' + en_where if sheet is not None else ''}.",
        )
    i, continued = found
    columns, headers = grid.header_names(i, continued)
    header_keys = [fold(label(v)) for v in grid.rows[i]]
    table = Table(sheet, grid.numbers[i], headers, iter(()), encoding=encoding, delimiter=delimiter)
    rest = itertools.chain(window[i + (2 if continued else 1) :], records)
    table.rows = _data_rows(table, rest, columns, header_keys, missing)
    return table


def _data_rows(
    table: Table,
    records: Iterator[tuple[int, list[Any]]],
    columns: list[int],
    header_keys: list[str],
    missing: Any,
) -> Iterator[Row]:
    """Yield the data rows of ``records``, noting skipped ones in ``table.skipped``.

    Non-empty cells outside the header's columns are kept under "Cột X" (X = column letter).
    """
    pairs = list(zip(columns, table.headers, strict=True))
    inside = set(columns)
    taken = {h.casefold() for h in table.headers}
    extra_names: dict[int, str] = {}
    outside: dict[int, list[int]] = {}  # row width -> the columns outside the header
    for number, cells in records:
        reason = skip_reason(cells, header_keys)
        if reason is not None:
            table.skipped.append((number, reason))
            continue
        size = len(cells)
        values = {name: cells[c] if c < size else missing for c, name in pairs}
        if size not in outside:
            outside[size] = [c for c in range(size) if c not in inside]
        for c in outside[size]:
            value = cells[c]
            if is_blank(value):
                continue
            if c not in extra_names:
                name = unique_names([*taken, f"Cột {column_letter(c)}"])[-1]
                taken.add(name.casefold())
                extra_names[c] = name
            values[extra_names[c]] = value
        yield Row(table.sheet, number, values)
