"""Statistics of old units carried onto a new unit through the crosswalk (2021 communes → 2025 wards).

An old unit merged whole gives all its figures; one merged in part gives the share of its area that
lies in the new unit (both geometries are needed), and the result is then marked estimated.  A part
whose share cannot be told is left out and named, so a figure is never silently short.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from boundaries.lineage import Share, shares
from layers.statistics import WEEK, data_days, stat_series


@dataclass(frozen=True)
class CarriedFigure:
    """A new unit's total of a metric over some days, from its old units' figures."""

    old_set: str
    start: date
    end: date
    value: float | None  # None: no old unit has a figure for those days
    estimated: bool  # some old unit was merged in part: its share was apportioned by area
    unknown_shares: list[str] = field(default_factory=list)  # old units merged in part, not counted


def old_total(session: Session, share: Share, metric: str, start: date, end: date) -> float | None:
    """Return an old unit's total of a metric over [start, end], or None without figures."""
    values = [v for d, v in stat_series(session, share.old_set, share.old_code, metric) if start <= d <= end]
    return sum(values) if values else None


def carried_total(session: Session, set_name: str, code: str, metric: str, start: date,
                  end: date) -> CarriedFigure | None:
    """Return a new unit's total over [start, end] from its old units, or None without old units."""
    found = shares(session, set_name, code)
    if not found:
        return None
    value, estimated, unknown = None, False, []
    for share in found:
        if share.fraction is None:
            unknown.append(share.old_code)
            continue
        total = old_total(session, share, metric, start, end)
        if total is not None:
            value = (value or 0.0) + total * share.fraction
            estimated = estimated or not share.whole
    return CarriedFigure(found[0].old_set, start, end, value, estimated, unknown)


def carried_week(session: Session, set_name: str, code: str, day: date | None,
                 metric: str = "new_cases") -> CarriedFigure | None:
    """Return a new unit's week total of old figures up to a day (default: the old set's last day)."""
    found = shares(session, set_name, code)
    if not found:
        return None
    first, last = data_days(session, found[0].old_set, metric)
    if last is None:
        return None
    end = day if day is not None and first <= day <= last else last
    return carried_total(session, set_name, code, metric, end - timedelta(days=WEEK - 1), end)
