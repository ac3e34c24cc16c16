"""Commune risk levels (1 green to 4 red) from statistics, by rules declared in ``risk.yml``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import yaml
from sqlalchemy import text
from sqlalchemy.orm import Session

RULES_FILE = Path(__file__).with_name("risk.yml")


@dataclass(frozen=True)
class RiskRules:
    """Thresholds of weekly cases per population, and the vaccination-coverage adjustment."""

    name: str
    window_days: int
    per_population: int
    bounds: tuple[tuple[int, float | None], ...]
    coverage_metric: str
    coverage_minimum: float
    raise_by: int
    colors: dict[int, str]
    names: dict[int, dict[str, str]]


def parse_rules(data: dict) -> RiskRules:
    """Validate rule data and return the rules."""
    bounds = tuple((int(item["level"]), item.get("below")) for item in data["levels"])
    levels = [level for level, _ in bounds]
    if levels != sorted(levels) or bounds[-1][1] is not None:
        raise ValueError("risk levels must ascend and the last one must have no bound")
    coverage = data["coverage"]
    return RiskRules(name=data["name"], window_days=int(data["window_days"]),
                     per_population=int(data["per_population"]), bounds=bounds,
                     coverage_metric=coverage["metric"], coverage_minimum=float(coverage["minimum"]),
                     raise_by=int(coverage["raise_by"]),
                     colors={int(k): v for k, v in data["colors"].items()},
                     names={int(k): v for k, v in data["names"].items()})


@cache
def default_rules() -> RiskRules:
    """Return the bundled rules (the Ministry of Health's 2021 scheme)."""
    return parse_rules(yaml.safe_load(RULES_FILE.read_text(encoding="utf-8")))


def risk_level(rules: RiskRules, weekly_cases: float, population: float | None,
               vaccinated: float | None = None) -> int | None:
    """Return a commune's level from its weekly cases, population and vaccinated people.

    >>> rules = default_rules()
    >>> risk_level(rules, 1, 10_000, 9_000), risk_level(rules, 3, 10_000, 9_000)
    (1, 2)
    >>> risk_level(rules, 1, 10_000, 5_000)  # coverage 50 % < 70 %: one level higher
    2
    >>> risk_level(rules, 100, 10_000, None), risk_level(rules, 5, None)
    (4, None)
    """
    if not population:
        return None
    rate = weekly_cases * rules.per_population / population
    level = next(lvl for lvl, below in rules.bounds if below is None or rate < below)
    if vaccinated is not None and vaccinated / population < rules.coverage_minimum:
        level += rules.raise_by
    return min(level, rules.bounds[-1][0])


_COMMUNE_FIGURES = text(
    """
    WITH RECURSIVE tree AS (
        SELECT code, population, depth FROM admin_unit WHERE boundary_set = :s AND code = :c
        UNION ALL
        SELECT u.code, u.population, u.depth FROM admin_unit u
        JOIN tree t ON u.boundary_set = :s AND u.parent_code = t.code
    ), leaves AS (
        SELECT code, population FROM tree
        WHERE depth = (SELECT max(depth) FROM admin_unit WHERE boundary_set = :s)
    )
    SELECT l.code,
        coalesce((SELECT sum(value) FROM unit_stat v WHERE v.boundary_set = :s AND v.unit_code = l.code
                  AND v.metric = 'new_cases' AND v.day BETWEEN :start AND :day), 0) AS cases,
        coalesce((SELECT value FROM unit_stat v WHERE v.boundary_set = :s AND v.unit_code = l.code
                  AND v.metric = 'population' AND v.day <= :day ORDER BY v.day DESC LIMIT 1),
                 l.population) AS population,
        (SELECT sum(value) FROM unit_stat v WHERE v.boundary_set = :s AND v.unit_code = l.code
         AND v.metric = :coverage AND v.day <= :day) AS vaccinated,
        (SELECT level FROM risk_override o WHERE o.boundary_set = :s AND o.unit_code = l.code
         ORDER BY o.id DESC LIMIT 1) AS override
    FROM leaves l
    """
)


def commune_levels(session: Session, set_name: str, code: str, day: date,
                   rules: RiskRules | None = None) -> dict[str, int | None]:
    """Return the risk level of every lowest-level unit inside a unit; overrides win."""
    rules = rules or default_rules()
    rows = session.execute(_COMMUNE_FIGURES, {
        "s": set_name, "c": code, "day": day, "start": day - timedelta(days=rules.window_days - 1),
        "coverage": rules.coverage_metric})
    return {r.code: r.override if r.override is not None else
            risk_level(rules, float(r.cases), r.population and float(r.population),
                       r.vaccinated and float(r.vaccinated))
            for r in rows}


def level_counts(levels: dict[str, int | None]) -> dict[int | None, int]:
    """Count units per level (None: not enough data).

    >>> level_counts({"a": 1, "b": 1, "c": None})
    {1: 2, 2: 0, 3: 0, 4: 0, None: 1}
    """
    counts: dict[int | None, int] = {1: 0, 2: 0, 3: 0, 4: 0, None: 0}
    for level in levels.values():
        counts[level] += 1
    return counts


def override_level(session: Session, set_name: str, code: str, level: int | None, reason: str,
                   author: str) -> None:
    """Record an official's level for a unit (None returns it to the computed level)."""
    if not reason.strip():
        raise ValueError("an override needs a reason")
    session.execute(text(
        "INSERT INTO risk_override (boundary_set, unit_code, level, reason, author)"
        " VALUES (:s, :c, :level, :reason, :author)"),
        {"s": set_name, "c": code, "level": level, "reason": reason.strip(), "author": author})
