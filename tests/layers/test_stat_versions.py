"""Versioned statistics: publications record the values they change; a rollback restores a unit's
figures as they were at a publication, inside that publication's unit only."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from epimap.db import session_scope
from epimap.errors import Problem
from ingest.stats import ingest_stats
from layers.catalog import STATISTICS_LAYER, Catalog, default_catalog
from layers.meta import layer_state
from layers.rollback import rollback
from layers.statistics import latest_values, stat_series, value_count
from layers.versions import Diff
from tests.ingest.builders import COMMUNES_718, statistics_feed, write_xlsx
from tests.ingest.test_stats import stored

HIEP_THANH, LAI_THIEU = "25741", "25966"  # in Thủ Dầu Một (718), in Thuận An (725)
D16, D17 = date(2021, 8, 16), date(2021, 8, 17)


@pytest.fixture
def catalog() -> Catalog:
    return default_catalog()


def publish(connection: Connection, catalog: Catalog, path: Path, scope: str) -> int:
    report = ingest_stats(connection, path, catalog=catalog, set_name="vn2021", scope_code=scope,
                          author="test")
    assert report.publication is not None, report.refused
    return report.publication


def hiep_thanh(connection: Connection, catalog: Catalog, tmp_path: Path, name: str, on_16: float,
               on_17: float) -> int:
    """Publish the 718 communes' rows with Hiệp Thành's 16/08 changed and a 17/08 column for all."""
    feed = statistics_feed(tmp_path / name, communes=COMMUNES_718,
                           changed={("Hiệp Thành", "16/08/2021"): on_16}, new_day=("17/08/2021", on_17))
    return publish(connection, catalog, feed, "718")


def lai_thieu(connection: Connection, catalog: Catalog, tmp_path: Path, value: float) -> int:
    """Publish, for the province, Lái Thiêu's 16/08 value."""
    feed = write_xlsx(tmp_path / f"lai_thieu_{value}.xlsx", [("F0", [["Huyện", "Xã", "16/08/2021"],
                                                                   ["Thuận An", "Lái Thiêu", value]])])
    return publish(connection, catalog, feed, "74")


def day_values(connection: Connection, day: date) -> dict[str, float]:
    return {code: v for (code, metric, d), v in stored(connection, "new_cases").items() if d == day}


def test_rollback_restores_values_as_they_were_inside_the_unit(connection: Connection, catalog: Catalog,
                                                               tmp_path: Path) -> None:
    layer = catalog.layer(STATISTICS_LAYER)
    original = stored(connection)
    first = hiep_thanh(connection, catalog, tmp_path, "dot_1.xlsx", 11, 2)
    at_first = stored(connection)
    hiep_thanh(connection, catalog, tmp_path, "dot_2.xlsx", 12, 3)
    lai_thieu(connection, catalog, tmp_path, 99)  # a later province publication, outside 718
    assert stored(connection)[(HIEP_THANH, "new_cases", D16)] == 12

    restored, change = rollback(connection, layer, first, author="tester")
    assert change == Diff(added=0, changed=6, removed=0, unchanged=0)  # 16/08 of one, 17/08 of five
    now = stored(connection)
    assert now == {**at_first, (LAI_THIEU, "new_cases", D16): 99}  # Thuận An is not 718's to restore
    row = connection.execute(text("SELECT action, restores_publication, scope_code, changed FROM publication"
                                  " WHERE id = :p"), {"p": restored}).one()
    assert tuple(row) == ("rollback", first, "718", 6)

    demo = connection.execute(text("SELECT id FROM publication WHERE layer_id = 'unit_stats'"
                                   " AND author = 'demo' AND scope_code = '74'")).scalar_one()
    _, change = rollback(connection, layer, demo, author="tester")  # the demo's unit: the province
    assert change == Diff(added=0, changed=2, removed=5, unchanged=0)  # 17/08 removed, both 16/08 back
    assert stored(connection) == original

    # A rollback is a publication too; restoring it restores 718 only (Lái Thiêu keeps the demo's).
    _, change = rollback(connection, layer, restored, author="tester")
    assert change == Diff(added=5, changed=1, removed=0, unchanged=0)
    assert stored(connection) == at_first


def test_rollback_to_the_latest_publication_changes_nothing(connection: Connection, catalog: Catalog,
                                                            tmp_path: Path) -> None:
    latest = hiep_thanh(connection, catalog, tmp_path, "dot_1.xlsx", 11, 2)
    before = stored(connection)
    _, change = rollback(connection, catalog.layer(STATISTICS_LAYER), latest, author="tester")
    assert change == Diff() and stored(connection) == before


def test_rollback_to_another_layers_publication_is_refused(connection: Connection, catalog: Catalog) -> None:
    other = connection.execute(text(
        "SELECT max(id) FROM publication WHERE layer_id = 'checkpoints'")).scalar()
    with pytest.raises(Problem) as info:
        rollback(connection, catalog.layer(STATISTICS_LAYER), other, author="tester")
    assert info.value.code == "unknown_publication"


def test_readers_see_the_current_values_only(connection: Connection, catalog: Catalog,
                                             tmp_path: Path) -> None:
    layer = catalog.layer(STATISTICS_LAYER)
    hiep_thanh(connection, catalog, tmp_path, "dot_1.xlsx", 11, 2)
    latest = hiep_thanh(connection, catalog, tmp_path, "dot_2.xlsx", 12, 3)
    with session_scope(connection) as session:
        series = dict(stat_series(session, "vn2021", HIEP_THANH, "new_cases"))
        figures = {(v.unit_code, v.metric): v for v in latest_values(session, "vn2021", "718", 100)}
        state = layer_state(session, layer)
        in_718 = value_count(session, "vn2021", "718")
    assert (series[D16], series[D17]) == (12, 3)
    assert (figures[(HIEP_THANH, "new_cases")].day, figures[(HIEP_THANH, "new_cases")].value) == (D17, 3)
    assert figures[(HIEP_THANH, "new_cases")].days == 8 and len(figures) == 5
    assert (state.publication, state.count) == (latest, len(stored(connection)))
    assert in_718 == 5 * 8 and day_values(connection, D17) == dict.fromkeys((c for c, _ in figures), 3)
