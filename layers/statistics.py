"""Statistics per unit and day, rolled up the administrative hierarchy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

_ROLLED_UP = text(
    """
    WITH RECURSIVE tree AS (
        SELECT code AS root, code, ARRAY[]::text[] AS above FROM admin_unit
        WHERE boundary_set = :s AND CASE WHEN :children THEN parent_code = :c ELSE code = :c END
        UNION ALL
        SELECT t.root, u.code, t.above || t.code FROM admin_unit u
        JOIN tree t ON u.boundary_set = :s AND u.parent_code = t.code
        WHERE u.code <> ALL (t.above || t.code)
    )
    SELECT t.root, v.day, sum(v.value) AS value FROM tree t
    JOIN unit_stat v ON v.boundary_set = :s AND v.metric = :m AND v.unit_code = t.code
    WHERE v.day BETWEEN :start AND :end AND NOT EXISTS (
        SELECT 1 FROM unit_stat o WHERE o.boundary_set = :s AND o.metric = :m AND o.day = v.day
        AND o.unit_code = ANY (t.above))
    GROUP BY t.root, v.day ORDER BY t.root, v.day
    """
)


def _rolled_up(session: Session, set_name: str, code: str, metric: str, *, children: bool,
               start: date = date.min, end: date = date.max) -> list[tuple[str, date, float]]:
    """Return (unit, day, value) rolled up for a unit (or each child of it) over a day range.

    A unit's own value for a day wins; otherwise its children's (rolled-up) values are summed.
    """
    rows = session.execute(_ROLLED_UP, {"s": set_name, "c": code, "m": metric, "children": children,
                                        "start": start, "end": end})
    return [(r.root, r.day, float(r.value)) for r in rows]


def stat_series(session: Session, set_name: str, unit_code: str, metric: str) -> list[tuple[date, float]]:
    """Return a unit's daily values, summing its descendants' on days it has no value of its own."""
    rows = _rolled_up(session, set_name, unit_code, metric, children=False)
    return [(day, value) for _, day, value in rows]


def stat_totals(session: Session, set_name: str, parent_code: str, metric: str, start: date,
                end: date) -> dict[str, float]:
    """Return each child unit's rolled-up total over [start, end]; children without data are left out."""
    totals: dict[str, float] = {}
    for code, _, value in _rolled_up(session, set_name, parent_code, metric, children=True,
                                     start=start, end=end):
        totals[code] = totals.get(code, 0.0) + value
    return totals


# Map statistics: each is computed per child unit for the week ending on a day.
MAP_STATISTICS = ("new_cases_7d", "cases_per_100k", "doses_per_100")
WEEK = 7


def data_days(session: Session, set_name: str, metric: str = "new_cases") -> tuple[date | None, date | None]:
    """Return the first and the last day a metric has a value in a boundary set."""
    row = session.execute(
        text("SELECT min(day), max(day) FROM unit_stat WHERE boundary_set = :s AND metric = :m"),
        {"s": set_name, "m": metric}).first()
    return (row[0], row[1]) if row else (None, None)


def latest_day(session: Session, set_name: str, metric: str = "new_cases") -> date | None:
    """Return the last day a metric has a value in a boundary set."""
    return session.execute(
        text("SELECT max(day) FROM unit_stat WHERE boundary_set = :s AND metric = :m"),
        {"s": set_name, "m": metric}).scalar()


def populations(session: Session, set_name: str, parent_code: str, day: date) -> dict[str, float]:
    """Return each child's population: its latest ``population`` statistic, else the boundary's."""
    from_stats = {code: value for code, value in latest_totals(session, set_name, parent_code,
                                                               "population", day).items() if value}
    rows = session.execute(text(
        "SELECT code, population FROM admin_unit WHERE boundary_set = :s AND parent_code = :c"
        " AND population IS NOT NULL"), {"s": set_name, "c": parent_code})
    return {**{r.code: float(r.population) for r in rows}, **from_stats}


def latest_totals(session: Session, set_name: str, parent_code: str, metric: str,
                  day: date) -> dict[str, float]:
    """Return each child's rolled-up value on the last day with data up to ``day``."""
    series: dict[str, tuple[date, float]] = {}
    for code, when, value in _rolled_up(session, set_name, parent_code, metric, children=True, end=day):
        if code not in series or when >= series[code][0]:
            series[code] = (when, value)
    return {code: value for code, (_, value) in series.items()}


def child_statistic(session: Session, set_name: str, parent_code: str, statistic: str,
                    day: date) -> dict[str, float]:
    """Return a map statistic for each child of a unit; children without data are left out."""
    week = (day - timedelta(days=WEEK - 1), day)
    if statistic == "new_cases_7d":
        return stat_totals(session, set_name, parent_code, "new_cases", *week)
    people = populations(session, set_name, parent_code, day)
    if statistic == "cases_per_100k":
        cases = stat_totals(session, set_name, parent_code, "new_cases", *week)
        # a unit without figures has no rate (never 0): the demo records its zeros explicitly
        return {code: value * 100_000 / people[code] for code, value in cases.items() if people.get(code)}
    if statistic == "doses_per_100":
        totals = [stat_totals(session, set_name, parent_code, metric, date.min, day)
                  for metric in ("doses_1", "doses_2")]
        doses = {code: sum(t.get(code, 0.0) for t in totals) for t in totals for code in t}
        return {code: value * 100 / people[code] for code, value in doses.items() if people.get(code)}
    raise ValueError(f"unknown statistic {statistic}")


# The current values of a unit and every unit inside it (the console's view of the statistics layer).
_UNITS_WITHIN = """
WITH RECURSIVE down AS (
    SELECT code, name, depth FROM admin_unit WHERE boundary_set = :s AND code = :c
    UNION
    SELECT a.code, a.name, a.depth FROM admin_unit a
    JOIN down ON a.boundary_set = :s AND a.parent_code = down.code
)
"""


@dataclass(frozen=True)
class LatestValue:
    """A unit's latest value of a metric, and on how many days it has one."""

    unit_code: str
    unit_name: str
    metric: str
    day: date
    value: float
    days: int


def latest_values(session: Session, set_name: str, unit_code: str, limit: int) -> list[LatestValue]:
    """Return each (unit, metric)'s latest value inside a unit (itself included), the unit first."""
    rows = session.execute(text(
        _UNITS_WITHIN + """
        SELECT * FROM (
            SELECT DISTINCT ON (v.unit_code, v.metric) v.unit_code, d.name AS unit_name, d.depth,
                   v.metric, v.day, v.value, count(*) OVER (PARTITION BY v.unit_code, v.metric) AS days
            FROM unit_stat v JOIN down d ON d.code = v.unit_code WHERE v.boundary_set = :s
            ORDER BY v.unit_code, v.metric, v.day DESC
        ) q ORDER BY depth, unit_name, unit_code, metric LIMIT :n
        """),  # noqa: S608 - constant SQL
        {"s": set_name, "c": unit_code, "n": limit}).mappings()
    return [LatestValue(r["unit_code"], r["unit_name"], r["metric"], r["day"], float(r["value"]), r["days"])
            for r in rows]


def has_estimates(session: Session, set_name: str, unit_code: str, metric: str, start: date,
                  end: date) -> bool:
    """Tell whether a value inside a unit (itself included) over [start, end] is an estimate.

    Estimates are old units' figures shared by area onto new units (``ingest.carry_stats``).
    """
    return session.execute(text(
        _UNITS_WITHIN + "SELECT EXISTS (SELECT 1 FROM unit_stat v JOIN down d ON d.code = v.unit_code"  # noqa: S608
        " WHERE v.boundary_set = :s AND v.metric = :m AND v.estimated AND v.day BETWEEN :start AND :end)"),
        {"s": set_name, "c": unit_code, "m": metric, "start": start, "end": end}).scalar_one()


def value_count(session: Session, set_name: str | None = None, unit_code: str | None = None) -> int:
    """Count the current values (everywhere, or inside a unit of a set, itself included)."""
    if set_name is None or unit_code is None:
        return session.execute(text("SELECT count(*) FROM unit_stat")).scalar_one()
    return session.execute(text(
        _UNITS_WITHIN + "SELECT count(*) FROM unit_stat v JOIN down d ON d.code = v.unit_code"  # noqa: S608
        " WHERE v.boundary_set = :s"), {"s": set_name, "c": unit_code}).scalar_one()
