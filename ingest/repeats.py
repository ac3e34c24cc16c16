"""Settle a statistics feed's repeated rows: one unit, metric and day given by several rows.

The same value twice keeps one (the later row is kept with a warning naming both rows); different
values reject every row involved, with a message naming them all: never "first one wins".
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from ingest.errors import conflicting_rows, repeated_row
from ingest.report import Report, RowResult

Key = tuple[str, str, date]  # unit code, metric, day
Entry = tuple[int, dict[Key, float], str]  # a row's index in the report, its values, its unit column


def _shown(key: Key) -> tuple[str, str, str]:
    code, metric, day = key
    return code, metric, day.strftime("%d/%m/%Y")


def _conflicts(report: Report, entries: list[Entry]) -> dict[int, RowResult]:
    """Return the rejection of every row giving a key another value than another row gives it."""
    rows_of: dict[Key, list[int]] = defaultdict(list)
    columns = {index: column for index, _, column in entries}
    values_of = {index: found for index, found, _ in entries}
    for index, found, _ in entries:
        for key in found:
            rows_of[key].append(index)
    rejected: dict[int, RowResult] = {}
    for key, indexes in rows_of.items():
        if len(indexes) < 2 or len({values_of[i][key] for i in indexes}) < 2:
            continue
        problem = conflicting_rows([report.rows[i].row for i in indexes],
                                   [values_of[i][key] for i in indexes], *_shown(key))
        for i in indexes:
            if i not in rejected:
                row = report.rows[i]
                rejected[i] = RowResult.rejected(row.sheet, row.row, problem, columns[i])
    return rejected


def settle_repeats(report: Report, entries: list[Entry]) -> tuple[dict[Key, float], dict[Key, int]]:
    """Reject conflicting rows, warn on repeated ones; return the values kept and each one's row."""
    rejected = _conflicts(report, entries)
    values: dict[Key, float] = {}
    first_rows: dict[Key, int] = {}
    for index, found, column in entries:
        row = report.rows[index]
        if index in rejected:
            report.rows[index] = rejected[index]
            continue
        for key in (k for k in found if k in values):
            row.warn(repeated_row(row.row, first_rows[key], *_shown(key)), column)
            break  # one warning per row names both rows
        for key, value in found.items():
            values.setdefault(key, value)
            first_rows.setdefault(key, row.row)
    return values, first_rows
