"""2021 communes' figures carried onto 2025 wards: whole merges summed, parts shared by area."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.crosswalk import load_crosswalk
from boundaries.load import FieldMap, load_boundaries
from layers.carried import carried_total, carried_week
from tests.conftest import DATA

WARDS = DATA / "boundaries" / "vn2025" / "wards_79_former_binh_duong_2025.geojson"
TABLE = DATA / "crosswalk" / "reform_2025_gso_nghe_an_binh_duong.csv"
ALL_DAYS = (date.min, date.max)


@pytest.fixture
def bd2025(connection) -> Session:
    """Load the 2025 wards over former Bình Dương as a test-only set, with the crosswalk to them."""
    load_boundaries(connection, WARDS, set_name="vn2025bd", level="commune",
                    fields=FieldMap(code="ward_code_gso2025", name="ward_name_gso", population="population"))
    load_crosswalk(connection, TABLE, old_set="vn2021", new_set="vn2025bd")
    with Session(connection) as session:
        yield session


def _old_sum(connection, codes: list[str]) -> float | None:
    return connection.execute(text(
        "SELECT sum(value) FROM unit_stat WHERE boundary_set = 'vn2021' AND metric = 'new_cases'"
        " AND unit_code = ANY(:codes)"), {"codes": codes}).scalar()


def _wards(connection, *, whole: bool) -> dict[str, list[str]]:
    """Return the 2025 wards formed only of whole (or with some partial) 2021 communes."""
    rows = connection.execute(text(
        "SELECT new_code, array_agg(old_code) AS olds FROM crosswalk WHERE new_set = 'vn2025bd'"
        " GROUP BY new_code HAVING bool_and(whole) = :whole"), {"whole": whole})
    return {r.new_code: r.olds for r in rows}


def test_sums_of_whole_merges_equal_the_2021_figures(connection, bd2025):
    checked = 0
    for code, olds in _wards(connection, whole=True).items():
        figure = carried_total(bd2025, "vn2025bd", code, "new_cases", *ALL_DAYS)
        expected = _old_sum(connection, olds)
        assert (figure.value is None) == (expected is None), code
        if expected is not None:
            assert figure.value == pytest.approx(expected) and not figure.estimated, code
            checked += 1
    assert checked >= 5
    # Phường Thuận An, formed of three whole communes: their 211 cases, exactly
    assert carried_total(bd2025, "vn2025bd", "25978", "new_cases", *ALL_DAYS).value == 211


def test_partial_merges_are_apportioned_by_area_and_marked_estimated(connection, bd2025):
    estimated = 0
    for code, olds in _wards(connection, whole=False).items():
        figure = carried_total(bd2025, "vn2025bd", code, "new_cases", *ALL_DAYS)
        if figure.value is None:
            continue
        wholes = connection.execute(text(
            "SELECT array_agg(old_code) FROM crosswalk WHERE new_set = 'vn2025bd' AND new_code = :c"
            " AND whole"), {"c": code}).scalar() or []
        assert (_old_sum(connection, wholes) or 0) - 1e-6 <= figure.value <= _old_sum(connection, olds) + 1e-6
        estimated += figure.estimated
    assert estimated >= 5
    thu_dau_mot = carried_total(bd2025, "vn2025bd", "25747", "new_cases", *ALL_DAYS)
    assert thu_dau_mot.estimated and thu_dau_mot.value != round(thu_dau_mot.value)


def test_nothing_is_lost_or_counted_twice_over_the_province(connection, bd2025):
    carried = sum((carried_total(bd2025, "vn2025bd", code, "new_cases", *ALL_DAYS).value or 0)
                  for code in {**_wards(connection, whole=True), **_wards(connection, whole=False)})
    communes = connection.execute(text(
        "SELECT array_agg(code) FROM admin_unit"
        " WHERE boundary_set = 'vn2021' AND level = 'commune'")).scalar()
    province = _old_sum(connection, communes)
    assert 0.97 * province <= carried <= 1.001 * province  # parts are shared by imperfectly matching areas


def test_a_part_without_a_boundary_is_named_not_guessed(connection, bd2025):
    connection.execute(text("DELETE FROM unit_stat WHERE boundary_set = 'vn2021' AND unit_code = '25741'"))
    connection.execute(text("DELETE FROM admin_unit WHERE boundary_set = 'vn2021' AND code = '25741'"))
    figure = carried_total(bd2025, "vn2025bd", "25747", "new_cases", *ALL_DAYS)
    assert figure.unknown_shares == ["25741"] and figure.value is not None


def test_a_week_defaults_to_the_old_sets_last_week_with_figures(connection, bd2025):
    week = carried_week(bd2025, "vn2025bd", "25978", None)
    assert (week.start, week.end) == (date(2021, 8, 10), date(2021, 8, 16)) and week.value == 211
    assert carried_week(bd2025, "vn2025bd", "25978", date(2021, 8, 12)).end == date(2021, 8, 12)
    # Nghệ An's 2021 communes have no figures: nothing is carried, and nothing is shown as 0
    assert carried_week(bd2025, "vn2025", "16681", None).value is None
