"""Statistics feeds as publications of ``unit_stats``: rows outside the scope, the publication and its
recorded changes, a feed never removing values, the CLI and the demo loader."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from ingest.report import Report
from ingest.stats import ingest_stats
from layers.catalog import Catalog, default_catalog
from tests.ingest.builders import COMMUNES_718, statistics_feed, write_xlsx
from tests.ingest.test_stats import EXPECTED, SAMPLE, by_row, parents, stored

HIEP_THANH = "25741"  # Phường Hiệp Thành, Thủ Dầu Một (718)


@pytest.fixture
def catalog() -> Catalog:
    return default_catalog()


def ingest(connection: Connection, path: Path, catalog: Catalog, scope: str, **kwargs: Any) -> Report:
    return ingest_stats(connection, path, catalog=catalog, set_name="vn2021", scope_code=scope, **kwargs)


def publication(connection: Connection, publication_id: int) -> dict[str, Any]:
    return dict(connection.execute(text("SELECT * FROM publication WHERE id = :p"),
                                   {"p": publication_id}).mappings().one())


def changes(connection: Connection, publication_id: int) -> dict[tuple[str, str, date], tuple]:
    rows = connection.execute(text(
        "SELECT unit_code, metric, day, old_value, new_value FROM unit_stat_change"
        " WHERE publication_id = :p"),
        {"p": publication_id})
    return {(r.unit_code, r.metric, r.day): (r.old_value, r.new_value) for r in rows}


def counts(report: Report) -> tuple[int, int, int, int]:
    return report.diff.added, report.diff.changed, report.diff.removed, report.diff.unchanged


def demo_publication(connection: Connection) -> int:
    return connection.execute(text(
        "SELECT id FROM publication WHERE layer_id = 'unit_stats' AND author = 'demo'"
        " AND scope_code = '74'")).scalar_one()


# --------------------------------------------------------------------------- scope


def test_rows_of_other_districts_are_out_of_scope(connection: Connection, catalog: Catalog) -> None:
    before = stored(connection)
    report = ingest(connection, SAMPLE, catalog, "718", author="cdc-tdm")
    parent, rows = parents(connection), by_row(report)
    inside = [e for e in EXPECTED["rows"] if parent[e["unit_code"]] == "718"]
    assert len(inside) == 5 and len(report.rejected) == EXPECTED["data_rows"] - 5 == 25
    for expected in EXPECTED["rows"]:
        got = rows[expected["row"]]
        if expected in inside:
            assert (got.status, got.unit_codes) == ("accepted", {"commune": expected["unit_code"]})
            continue
        assert (got.status, got.reason, got.column, got.sheet) == (
            "rejected", "out_of_scope", "Xã/Phường", "F0 theo xã"), expected["row"]
        assert "nằm ngoài đơn vị được phép cập nhật (Thành phố Thủ Dầu Một)" in got.message_vi
        assert "outside the unit this feed may update (Thành phố Thủ Dầu Một)" in got.message_en
    # The demo published the same figures: re-publishing them inside 718 changes nothing.
    assert counts(report) == (0, 0, 0, 35)
    assert stored(connection) == before
    row = publication(connection, report.publication)
    assert (row["layer_id"], row["scope_code"], row["scope_level"], row["author"], row["action"]) == (
        "unit_stats", "718", "district", "cdc-tdm", "ingest")
    assert (row["unchanged"], row["rejected"], row["source_name"], row["source_sha256"]) == (
        35, 25, SAMPLE.name, report.sha256)
    assert changes(connection, report.publication) == {}


def test_a_district_may_send_its_own_figures(connection: Connection, catalog: Catalog,
                                             tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "huyen.xlsx", [("Xét nghiệm", [
        ["Huyện/Thị xã/Thành phố", "20/08/2021"],
        ["Thành phố Thủ Dầu Một", 1500],
        ["Huyện Dĩ An", 700],
        ["Huyện Không Có", 3],
    ])])
    report = ingest(connection, path, catalog, "718")
    assert [(r.status, r.unit_codes, r.reason) for r in report.rows] == [
        ("accepted", {"district": "718"}, None), ("rejected", {}, "out_of_scope"),
        ("rejected", {}, "unknown_unit")]
    assert stored(connection, "tests") == {("718", "tests", date(2021, 8, 20)): 1500}


def test_a_commune_scope_accepts_only_its_commune(connection: Connection, catalog: Catalog) -> None:
    report = ingest(connection, SAMPLE, catalog, HIEP_THANH, dry_run=True)
    assert [r.unit_codes for r in report.accepted] == [{"commune": HIEP_THANH}]
    assert {r.reason for r in report.rejected} == {"out_of_scope"}


# --------------------------------------------------------------------------- publication


def test_a_feed_adds_and_changes_and_never_removes(connection: Connection, catalog: Catalog,
                                                   tmp_path: Path) -> None:
    before = stored(connection)
    only = statistics_feed(tmp_path / "hiep_thanh.xlsx", communes=("Hiệp Thành",),
                           changed={("Hiệp Thành", "16/08/2021"): 11}, new_day=("17/08/2021", 2))
    report = ingest(connection, only, catalog, "718")
    assert counts(report) == (1, 1, 0, 6)
    assert changes(connection, report.publication) == {
        (HIEP_THANH, "new_cases", date(2021, 8, 16)): (1, 11),
        (HIEP_THANH, "new_cases", date(2021, 8, 17)): (None, 2)}
    after = stored(connection)
    assert after == {**before, (HIEP_THANH, "new_cases", date(2021, 8, 16)): 11,
                     (HIEP_THANH, "new_cases", date(2021, 8, 17)): 2}  # the other communes keep theirs


def test_a_dry_run_publishes_nothing(connection: Connection, catalog: Catalog, tmp_path: Path) -> None:
    count = "SELECT (SELECT count(*) FROM publication), (SELECT count(*) FROM unit_stat_change)"
    before, values = connection.execute(text(count)).one(), stored(connection)
    feed = statistics_feed(tmp_path / "f0.xlsx", new_day=("17/08/2021", 5))
    report = ingest(connection, feed, catalog, "718", dry_run=True)
    assert report.publication is None and report.diff.added == 5
    assert connection.execute(text(count)).one() == before and stored(connection) == values


def test_the_demo_published_its_statistics(connection: Connection) -> None:
    demo = publication(connection, demo_publication(connection))
    assert (demo["scope_code"], demo["added"], demo["rejected"], demo["source_name"]) == (
        "74", 210, 0, SAMPLE.name)
    recorded = changes(connection, demo["id"])
    assert len(recorded) == 210 and all(old is None for old, _ in recorded.values())


# --------------------------------------------------------------------------- CLI


def test_cli_publishes_lists_and_rolls_back_statistics(run_cli, connection: Connection,
                                                       tmp_path: Path) -> None:
    before, demo = stored(connection), demo_publication(connection)
    first = statistics_feed(tmp_path / "dot_1.xlsx", communes=COMMUNES_718,
                            changed={("Hiệp Thành", "16/08/2021"): 11}, new_day=("17/08/2021", 2))
    result = run_cli("ingest", str(first), "--layer", "unit_stats", "--scope", "718", "--author", "cdc-tdm",
                     "--legal-ref", "15/QĐ-TTYT")
    assert result.exit_code == 0, result.output
    published = connection.execute(text(
        "SELECT max(id) FROM publication WHERE layer_id = 'unit_stats'")).scalar()
    assert f"#{published}" in result.output and published > demo
    assert stored(connection)[(HIEP_THANH, "new_cases", date(2021, 8, 16))] == 11

    lines = run_cli("layers", "history", "unit_stats").output.strip().splitlines()
    assert lines[0].startswith(f"#{published} ") and "+5 ~1 -0 =34 !0" in lines[0]
    assert "[15/QĐ-TTYT]" in lines[0]
    assert lines[-2].startswith(f"#{demo} ") and "+210 ~0 -0 =0" in lines[-2]
    assert "+441 ~0 -0 =0" in lines[-1] and "so_ca_theo_tinh_2021.csv" in lines[-1]  # the country's, first

    rolled = run_cli("layers", "rollback", "unit_stats", str(demo), "--author", "tester")
    assert rolled.exit_code == 0, rolled.output
    assert rolled.output.strip().endswith(f"restores #{demo}: +0 ~1 -5 =0")
    assert stored(connection) == before
