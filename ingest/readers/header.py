"""Find the header row (or two-row header) at the top of a grid of cells.

With a ``header_hint``, every row among the first rows — alone and, when the next row continues
it, combined with it — is scored by the hint and the best wins; when all score 0 the built-in
rule applies.  Built-in rule: among the first :data:`HEADER_SCAN_ROWS` rows, the header is
the first row that

* has at least two non-empty cells, more than half of them text labels (strings that are not
  numbers, or date/time values — a wide table's day columns are headers),
* has at least half as many non-empty cells (counting its continuation row, merged ranges not
  spread) as the fullest of those rows, so a two-cell letterhead such as
  "SỞ Y TẾ … | CỘNG HÒA …" above a nine-column header is not taken, and
* is not followed by a title-only row (one non-empty cell) below which a wider header-like row
  appears — that row is the real header and the upper lines were letterhead/titles.

Title rows and blank rows above the header are ignored.  When the row just below the header
*continues* it (a group header such as a merged "Tọa độ" over "Vĩ độ" / "Kinh độ") the two
rows are combined: each column's name is the group label — taken from the merged range, or,
without merge information, from the nearest group cell to the left whose sub-header run is
unbroken — followed by the sub-header, joined with a space ("Tọa độ Vĩ độ").  A lower cell
that merely repeats the upper one is not doubled.  Columns that are merged in a single header
row repeat the merged label and are then made unique ("Tọa độ", "Tọa độ (2)").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ingest.readers.cells import column_letter, fold, is_blank, is_label, label, skip_reason, unique_names

HEADER_SCAN_ROWS = 30
"""How many rows from the top are examined to find the header row."""

Merge = tuple[tuple[int, int], tuple[int, int]]
"""A merged range as ``((first_row, first_col), (last_row, last_col))``, 0-based, inclusive."""

HeaderHint = Callable[[list[str]], int]
"""Scores a candidate header: the names the table would get if that row (or that row combined
with the next one) were the header.  The best positive score wins; ties go to the upper row and
to the combined two-row header."""


class HeaderGrid:
    """The first rows of a sheet, with merged-cell spans, in which the header is searched."""

    def __init__(self, window: list[tuple[int, list[Any]]], merges: list[Merge] | None) -> None:
        self.numbers = [number for number, _ in window]
        self.rows = [cells for _, cells in window]
        self.filled = [[c for c, v in enumerate(cells) if not is_blank(v)] for cells in self.rows]
        self.labels = [
            sum(is_label(cells[c]) for c in f) for cells, f in zip(self.rows, self.filled, strict=True)
        ]
        self.span: dict[tuple[int, int], int] = {}
        self.owner: dict[tuple[int, int], tuple[int, int] | None] = {}
        index_of = {number: i for i, number in enumerate(self.numbers)}
        row_width = max((len(cells) for cells in self.rows), default=0)
        for (r0, c0), (r1, c1) in merges or ():
            c1 = min(c1, row_width - 1)  # merged blanks right of every value name nothing
            if c1 < c0:
                continue
            anchor_i = index_of.get(r0 + 1)
            if anchor_i is not None and c1 > c0:
                self.span[(anchor_i, c0)] = c1
            for r in range(r0 + 1, r1 + 2):
                i = index_of.get(r)
                if i is None:
                    continue
                for c in range(c0, c1 + 1):
                    if (r, c) != (r0 + 1, c0):
                        owner = (anchor_i, c0) if anchor_i is not None else None
                        self.owner[(i, c)] = owner

    def cell(self, i: int, c: int) -> Any:
        """Return the raw value at window row ``i``, column ``c`` (None past the row's end)."""
        row = self.rows[i]
        return row[c] if c < len(row) else None

    def is_candidate(self, i: int) -> bool:
        """Tell whether row ``i`` has 2+ non-empty cells, mostly labels."""
        n = len(self.filled[i])
        return n >= 2 and 2 * self.labels[i] > n

    def width(self, i: int, continued: bool) -> int:
        """Return how many non-empty columns row ``i`` (plus its continuation row) has.

        Merged ranges are not spread here, so a letterhead merged across the sheet stays narrow.
        """
        cols = set(self.filled[i])
        if continued:
            cols.update(self.filled[i + 1])
        return len(cols)

    def continues(self, i: int) -> bool:
        """Tell whether row ``i + 1`` holds sub-headers of the header row ``i``."""
        if i + 1 >= len(self.rows):
            return False
        lower = self.filled[i + 1]
        if not lower or any(not is_label(self.rows[i + 1][c]) for c in lower):
            return False
        if skip_reason(self.rows[i + 1]) is not None:
            return False
        units = 0
        for c in lower:
            text = str(self.rows[i + 1][c]).strip()
            unit_like = text.startswith(("(", "["))
            units += unit_like
            upper = self.cell(i, c)
            if is_blank(upper) or self.span.get((i, c), c) > c or unit_like:
                continue
            if is_blank(self.cell(i, c + 1)) and (i, c + 1) not in self.owner:
                continue  # an unmerged group label with blank cells to its right
            return False  # text under a stand-alone header: this is a data row
        return len(lower) >= 2 or units == len(lower)

    def title_then_wider(self, i: int, width: int) -> bool:
        """Tell whether a title-only row follows row ``i`` and a wider header-like row follows it."""
        seen_title = False
        for k in range(i + 1, len(self.rows)):
            n = len(self.filled[k])
            if n == 0:
                continue
            if n == 1:
                seen_title = True
            elif seen_title and self.is_candidate(k) and self.width(k, False) > width:
                return True
        return False

    def find_header(self, hint: HeaderHint | None) -> tuple[int, bool] | None:
        """Return the window index of the header row and whether the next row continues it."""
        if hint is not None:
            best, best_score = None, 0
            for i in range(len(self.rows)):
                if not self.filled[i]:
                    continue
                for continued in (True, False) if self.continues(i) else (False,):
                    score = hint(self.header_names(i, continued)[1])
                    if score > best_score:
                        best, best_score = (i, continued), score
            if best is not None:
                return best
        widest = max(len(f) for f in self.filled)
        need = max(2, math.ceil(widest / 2))
        for i in range(len(self.rows)):
            if not self.is_candidate(i):
                continue
            continued = self.continues(i)
            width = self.width(i, continued)
            if width < need or self.title_then_wider(i, width):
                continue
            return i, continued
        return None

    def header_names(self, i: int, continued: bool) -> tuple[list[int], list[str]]:
        """Return the column indexes and names of header row ``i`` (plus row ``i + 1``).

        Columns run from the first to the last named one; unnamed ones between get "Cột X".
        """
        upper = self.rows[i]
        lower = self.rows[i + 1] if continued else []
        n = max(
            [len(upper), len(lower)]
            + [c1 + 1 for (r, _), c1 in self.span.items() if r == i]
            + [c + 1 for (r, c) in self.owner if r == i]
        )
        groups = []
        for c in range(n):
            text = label(self.cell(i, c))
            owner = self.owner.get((i, c))
            if not text and owner is not None:
                text = label(self.cell(*owner))
            groups.append(text)
        if continued:
            self._fill_groups(i, groups)
        names = []
        for c in range(n):
            parts = [groups[c]]
            if continued:
                sub = label(lower[c]) if c < len(lower) else ""
                if sub and fold(sub) != fold(groups[c]):
                    parts.append(sub)
            names.append(" ".join(p for p in parts if p))
        columns = [c for c, name in enumerate(names) if name]
        columns = list(range(columns[0], columns[-1] + 1)) if columns else []
        named = [names[c] or f"Cột {column_letter(c)}" for c in columns]
        return columns, unique_names(named)

    def _fill_groups(self, i: int, groups: list[str]) -> None:
        """Carry an unmerged group label right over blank upper cells that have sub-headers."""

        def has_sub(c: int) -> bool:
            return not is_blank(self.cell(i + 1, c))

        for c in range(len(groups)):
            if groups[c] or (i, c) in self.owner or not has_sub(c):
                continue
            a = c - 1
            while a >= 0 and not groups[a] and (i, a) not in self.owner and has_sub(a):
                a -= 1
            if a < 0 or (i, a) in self.owner or not has_sub(a):
                continue
            if not is_blank(self.cell(i, a)) and self.span.get((i, a), a) == a:
                groups[c] = label(self.cell(i, a))
