"""The statistics shown with a unit: child colours by a chosen statistic, figures, risk levels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import request
from sqlalchemy.orm import Session

from boundaries.queries import Unit
from layers.classify import colour_for, legend, nice_breaks
from layers.risk import RiskRules, commune_levels, default_rules, level_counts
from layers.statistics import MAP_STATISTICS, child_statistic, data_days, has_estimates, stat_series
from portal.errors import BadRequest

SERIES_DAYS = 14


@dataclass
class UnitStatistics:
    """Everything a unit page shows about statistics."""

    statistic: str
    day: date | None
    child_values: dict[str, float] = field(default_factory=dict)
    child_colours: dict[str, str] = field(default_factory=dict)
    legend: list[tuple[float | None, float, str]] = field(default_factory=list)
    series: list[tuple[date, float]] = field(default_factory=list)
    week_total: float | None = None  # None: no figure for the week (never shown as 0)
    week_estimated: bool = False  # some figure of the week was shared by area from an old unit's
    first_day: date | None = None  # the days with figures: the date picker's bounds
    last_day: date | None = None
    levels: dict[str, int | None] = field(default_factory=dict)
    level_counts: dict[int | None, int] = field(default_factory=dict)
    rules: RiskRules | None = None

    @property
    def out_of_range(self) -> bool:
        """Whether the day asked for lies outside the days with figures."""
        return bool(self.day and self.first_day and self.last_day
                    and not self.first_day <= self.day <= self.last_day)

    @property
    def own_level(self) -> int | None:
        return next(iter(self.levels.values())) if len(self.levels) == 1 else None


def parse_choice(statistic: str | None, day: str | None) -> tuple[str, date | None]:
    """Validate the statistic and date asked for in the query string."""
    statistic = statistic or MAP_STATISTICS[0]
    if statistic not in MAP_STATISTICS:
        raise BadRequest(f"Không có chỉ số “{statistic[:40]}”.", f"No statistic '{statistic[:40]}'.")
    try:
        return statistic, date.fromisoformat(day) if day else None
    except ValueError as exc:
        raise BadRequest("Ngày phải có dạng YYYY-MM-DD.", "The date must look like YYYY-MM-DD.") from exc


def requested_statistics(session: Session, unit: Unit, has_children: bool) -> UnitStatistics:
    """Compute the statistics a request asks for with ``?stat=&date=``."""
    statistic, day = parse_choice(request.args.get("stat"), request.args.get("date"))
    return unit_statistics(session, unit, statistic, day, has_children)


def unit_statistics(session: Session, unit: Unit, statistic: str, day: date | None,
                    has_children: bool) -> UnitStatistics:
    """Compute the statistics of a unit page for a day (default: the latest with data)."""
    first_day, last_day = data_days(session, unit.boundary_set)
    day = day or last_day
    result = UnitStatistics(statistic=statistic, day=day, rules=default_rules(), first_day=first_day,
                            last_day=last_day)
    if day is None:
        return result
    if has_children:
        result.child_values = child_statistic(session, unit.boundary_set, unit.code, statistic, day)
        breaks = nice_breaks(list(result.child_values.values()))
        result.legend = legend(breaks)
        result.child_colours = {code: colour_for(value, breaks)
                                for code, value in result.child_values.items()}
    series = stat_series(session, unit.boundary_set, unit.code, "new_cases")
    result.series = [(d, v) for d, v in series if day - timedelta(days=SERIES_DAYS) < d <= day]
    week = [v for d, v in series if day - timedelta(days=7) < d <= day]
    result.week_total = sum(week) if week else None
    if week:
        result.week_estimated = has_estimates(session, unit.boundary_set, unit.code, "new_cases",
                                              day - timedelta(days=6), day)
    result.levels = commune_levels(session, unit.boundary_set, unit.code, day)
    result.level_counts = level_counts(result.levels)
    return result
