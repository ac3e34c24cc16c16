"""Risk levels: the rule table, overrides, and counts per level on unit pages."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from layers.risk import commune_levels, default_rules, level_counts, override_level, parse_rules, risk_level

DAY = date(2021, 8, 16)


@pytest.mark.parametrize(("cases", "population", "vaccinated", "level"), [
    (0, 10_000, 9_000, 1),
    (1.9, 10_000, 9_000, 1),     # 19 per 100,000
    (2, 10_000, 9_000, 2),       # 20: the bound belongs to the next level
    (4.9, 10_000, 9_000, 2),
    (5, 10_000, 9_000, 3),
    (14.9, 10_000, 9_000, 3),
    (15, 10_000, 9_000, 4),
    (500, 10_000, 9_000, 4),
    (0, 10_000, 6_999, 2),       # coverage under 70 % raises one level
    (5, 10_000, 1_000, 4),
    (15, 10_000, 1_000, 4),      # never above 4
    (0, 10_000, None, 1),        # coverage unknown: no adjustment
    (3, None, None, None),       # no population: no level
    (3, 0, None, None),
])
def test_rule_table(cases, population, vaccinated, level):
    assert risk_level(default_rules(), cases, population, vaccinated) == level


def test_rules_are_data_and_validated():
    rules = parse_rules({"name": "strict", "window_days": 7, "per_population": 100_000,
                         "levels": [{"level": 1, "below": 5}, {"level": 4}],
                         "coverage": {"metric": "doses_2", "minimum": 0.9, "raise_by": 0},
                         "colors": {1: "#0f0", 4: "#f00"}, "names": {1: {}, 4: {}}})
    assert risk_level(rules, 1, 10_000) == 4 and risk_level(rules, 0.4, 10_000) == 1
    with pytest.raises(ValueError):
        parse_rules({"name": "x", "window_days": 7, "per_population": 1,
                     "levels": [{"level": 2, "below": 1}, {"level": 1, "below": 3}],
                     "coverage": {"metric": "d", "minimum": 0, "raise_by": 0}, "colors": {}, "names": {}})


def _population(connection, code: str, people: int) -> None:
    connection.execute(text(
        "INSERT INTO unit_stat (boundary_set, unit_code, metric, day, value)"
        " VALUES ('vn2021', :c, 'population', '2021-01-01', :p)"), {"c": code, "p": people})


def _no_populations(connection) -> None:
    """Forget the demo's estimated 2021 populations, as a set without any would be."""
    connection.execute(text("UPDATE admin_unit SET population = NULL WHERE boundary_set = 'vn2021'"))


def test_commune_levels_from_the_demo_statistics(connection):
    _no_populations(connection)
    # Hiệp Thành (25741): 40 + 0 + 5 + 5 + 3 + 0 + 1 = 54 new cases in the week to 16/08.
    _population(connection, "25741", 40_000)   # 135 per 100,000 -> level 3
    _population(connection, "25747", 1_000_000)  # Phú Cường: 79 cases -> 7.9 -> level 1
    levels = commune_levels(connection_session(connection), "vn2021", "718", DAY)
    assert levels["25741"] == 3 and levels["25747"] == 1
    assert levels["25744"] is None  # no population known
    counts = level_counts(levels)
    assert counts[3] == 1 and counts[1] == 1 and sum(counts.values()) == len(levels) == 14


def test_override_wins_until_cleared(connection):
    session = connection_session(connection)
    _population(connection, "25741", 40_000)
    override_level(session, "vn2021", "25741", 4, "Ổ dịch mới tại chợ", "cdc")
    assert commune_levels(session, "vn2021", "718", DAY)["25741"] == 4
    override_level(session, "vn2021", "25741", None, "Hết ổ dịch", "cdc")
    assert commune_levels(session, "vn2021", "718", DAY)["25741"] == 3
    with pytest.raises(ValueError):
        override_level(session, "vn2021", "25741", 2, "  ", "cdc")


def test_district_and_province_pages_count_communes_per_level(client, connection):
    _no_populations(connection)
    _population(connection, "25741", 40_000)
    district = client.get("/map/718?date=2021-08-16").get_data(as_text=True)
    assert 'data-level="3">1<' in district and 'data-level="unknown">13<' in district
    province = client.get("/?date=2021-08-16").get_data(as_text=True)
    assert 'data-level="3">1<' in province and 'data-level="unknown">87<' in province


def connection_session(connection):
    from sqlalchemy.orm import Session

    return Session(bind=connection, join_transaction_mode="create_savepoint")
