"""The ingest report: every data row's fate, with reasons in Vietnamese and English.

Rows of other provinces than the scope's (a national feed sent to a province portal) are kept,
``out_of_scope`` with their province named, but they are expected: :attr:`Report.rejected` leaves
them out and :meth:`Report.other_provinces` counts them per province.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from ingest.errors import OtherProvince, Problem
from layers.versions import Diff

MAX_VALUE = 80


def shown_value(value: object, limit: int = MAX_VALUE) -> str | None:
    """Return a value as a rejected row shows it: text on one line, shortened.

    >>> shown_value("  11°08'39.0  N "), shown_value(None), shown_value(""), shown_value("x" * 90)[-3:]
    ("11°08'39.0 N", None, None, 'xx…')
    """
    if value is None:
        return None
    shown = " ".join(str(value).split())
    if not shown:
        return None
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


@dataclass(slots=True)
class RowResult:
    """What happened to one data row."""

    sheet: str | None
    row: int
    status: str  # "accepted" or "rejected"
    reason: str | None = None
    column: str | None = None
    message_vi: str | None = None
    message_en: str | None = None
    source_id: str | None = None
    unit_codes: dict[str, str] = field(default_factory=dict)
    lon: float | None = None
    lat: float | None = None
    approximate: bool = False
    warnings: list[dict[str, str]] = field(default_factory=list)
    value: str | None = None  # a rejected row's offending value, as the file gave it (shortened)
    other_province: str | None = None  # the province of a row outside the scope's province

    @classmethod
    def rejected(cls, sheet: str | None, row: int, problem: Problem, column: str | None,
                 value: object = None) -> RowResult:
        """Return a rejected row from a problem and the value at fault."""
        province = problem.province if isinstance(problem, OtherProvince) else None
        return cls(sheet=sheet, row=row, status="rejected", reason=problem.code, column=column,
                   message_vi=problem.message_vi, message_en=problem.message_en, value=shown_value(value),
                   other_province=province)

    def warn(self, problem: Problem, column: str | None = None) -> None:
        """Add a warning (the row is kept)."""
        self.warnings.append({**problem.as_dict(), "column": column or ""})


@dataclass
class Report:
    """The result of reading, validating and (maybe) publishing one feed."""

    file: str
    layer: str
    sha256: str
    rows: list[RowResult] = field(default_factory=list)
    diff: Diff = field(default_factory=Diff)
    publication: int | None = None
    dry_run: bool = False
    refused: Problem | None = None
    ignored_columns: list[str] = field(default_factory=list)
    skipped_rows: list[tuple[str | None, int, str]] = field(default_factory=list)

    @property
    def accepted(self) -> list[RowResult]:
        return [r for r in self.rows if r.status == "accepted"]

    @property
    def rejected(self) -> list[RowResult]:
        """Return the rejected rows, leaving out those of other provinces (expected, counted apart)."""
        return [r for r in self.rows if r.status == "rejected" and r.other_province is None]

    def other_provinces(self) -> list[tuple[str, int]]:
        """Return each other province with its number of rows, most rows first."""
        counts = Counter(r.other_province for r in self.rows if r.other_province is not None)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "file": self.file, "layer": self.layer, "sha256": self.sha256,
            "publication": self.publication, "dry_run": self.dry_run,
            "refused": self.refused.as_dict() if self.refused else None,
            "counts": {"rows": len(self.rows), "accepted": len(self.accepted),
                       "rejected": len(self.rejected)},
            "other_provinces": [{"province": p, "rows": n} for p, n in self.other_provinces()],
            "diff": asdict(self.diff),
            "ignored_columns": self.ignored_columns,
            "skipped_rows": [{"sheet": s, "row": n, "reason": why} for s, n, why in self.skipped_rows],
            "rows": [asdict(r) for r in self.rows],
        }
