"""Parse a large feed's rows in other processes while this one reads the file and stages the rows.

Parsing a row (typed attributes, coordinates, its staging line) costs about twice what reading
it does, so a feed that proves large (``PARALLEL_FROM_ROWS``) sends its further rows, in batches,
to worker processes and takes their outcomes back in order.  A row travels as its number and its
cell values (the header is sent once per batch); an outcome as the staging line (COPY text) of an
accepted row with its id and warnings, or the problem and column of a rejected one.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from ingest.readers import Row
from ingest.rows import RowContext, RowRejected, parse_row
from ingest.stage import staging_line

PARALLEL_FROM_ROWS = 20_000  # rows parsed here before workers start (a smaller feed never waits)
BATCH_ROWS = 1_000
IN_FLIGHT = 4  # batches sent ahead per worker

# (staging line, source id, warnings) of an accepted row; (None, problem, column) of a rejected one
Outcome = tuple[str | None, Any, Any]

_context: RowContext | None = None  # a worker's, set once when it starts


def outcome(row: Row, context: RowContext) -> Outcome:
    """Parse one row into its outcome."""
    try:
        candidate = parse_row(row, context)
    except RowRejected as rejected:
        return None, rejected.problem, rejected.column
    return staging_line(candidate), candidate.source_id, candidate.warnings


def _start(context: RowContext) -> None:
    global _context
    _context = context


def _outcomes(sheet: str | None, headers: list[str], rows: list[tuple[int, Any]]) -> list[Outcome]:
    """Parse a batch in a worker: cells as a tuple in header order, or as a dict when not."""
    assert _context is not None
    return [outcome(Row(sheet, number, dict(zip(headers, cells, strict=True))
                        if type(cells) is tuple else cells), _context) for number, cells in rows]


def _packed(row: Row, headers: list[str]) -> tuple[int, Any]:
    cells = row.cells
    return row.number, tuple(cells.values()) if len(cells) == len(headers) else cells


def workers() -> int:
    """Return how many worker processes to start: one per CPU beyond this one's, at least one."""
    return max(1, (os.cpu_count() or 1) - 1)


def parsed_rows(rows: Iterable[Row], headers: list[str], context: RowContext
                ) -> Iterator[tuple[Row, Outcome]]:
    """Yield each row with its outcome, in order: the first rows parsed here, the rest by workers."""
    rows = iter(rows)
    for row in itertools.islice(rows, PARALLEL_FROM_ROWS):
        yield row, outcome(row, context)
    batches = iter(lambda: list(itertools.islice(rows, BATCH_ROWS)), [])
    first = next(batches, None)
    if first is None:
        return
    count = workers()
    # Forked: nothing to import, and no caller's script run again (spawned workers import ``__main__``).
    # The workers only parse: they touch no lock, connection or thread they inherit.
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(count, mp_context=fork, initializer=_start, initargs=(context,)) as pool:
        pending: deque[tuple[list[Row], Future]] = deque()
        for batch in itertools.chain([first], batches):
            packed = [_packed(row, headers) for row in batch]
            pending.append((batch, pool.submit(_outcomes, batch[0].sheet, headers, packed)))
            if len(pending) >= IN_FLIGHT * count:
                done, future = pending.popleft()
                yield from zip(done, future.result(), strict=True)
        while pending:
            done, future = pending.popleft()
            yield from zip(done, future.result(), strict=True)
