"""Publishing a large snapshot by rebuilding the layer's partition: when it is chosen, what the
swapped-in partition holds (indexes, keys, history, overview), and that it ends as row by row does;
a publication PostgreSQL aborts for a concurrent one; staged rows keep every character."""

from __future__ import annotations

import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from boundaries.names import name_key
from epimap.db import session_scope
from epimap.errors import Problem
from ingest import stage as stage_module
from ingest.rows import Candidate
from layers import versions
from layers.catalog import default_catalog
from layers.overview import build_overview
from layers.rollback import rollback
from tests.ingest.builders import changed_checkpoints, current_features, latest_publication, layer_counts
from tests.ingest.helpers import run

CHECKPOINTS = default_catalog().layer("checkpoints")


def _partition_oid(connection, layer: str) -> int:
    return connection.execute(text("SELECT feature_partition(:l)::regclass::oid"), {"l": layer}).scalar_one()


def _history(connection, layer: str, publications: list[int]) -> list[tuple]:
    """Every version of a layer's features, without row ids, naming publications by their rank."""
    rank = {p: i for i, p in enumerate(publications)}
    rows = connection.execute(text(
        "SELECT source_id, props::text, ST_AsEWKT(geom), units::text, unit_code, approximate, content_hash,"
        " source_row, valid_from_pub, valid_to_pub FROM feature WHERE layer_id = :l"
        " ORDER BY source_id, valid_from_pub"), {"l": layer})
    return [(*r[:8], rank[r.valid_from_pub], rank.get(r.valid_to_pub)) for r in rows]


def _publish_and_roll_back(connection, tmp_path) -> list[tuple]:
    """Publish a changed feed, roll back to the demo's publication; return the layer's history."""
    first = latest_publication(connection, "checkpoints")
    second = run(connection, changed_checkpoints(tmp_path / "chot_moi.csv"), "checkpoints").publication
    third, _ = rollback(connection, CHECKPOINTS, first, author="tester")
    return _history(connection, "checkpoints", [first, second, third])


@pytest.fixture
def always_rebuild(monkeypatch):
    monkeypatch.setattr(versions, "_rebuilds_partition", lambda session, layer, inserted: True)


def test_rebuilding_ends_as_inserting_row_by_row_does(connection, tmp_path, monkeypatch):
    savepoint = connection.begin_nested()
    by_rows = _publish_and_roll_back(connection, tmp_path)
    savepoint.rollback()
    before = _partition_oid(connection, "checkpoints")
    monkeypatch.setattr(versions, "_rebuilds_partition", lambda session, layer, inserted: True)
    assert _publish_and_roll_back(connection, tmp_path) == by_rows
    assert _partition_oid(connection, "checkpoints") != before  # it really was swapped


def test_the_swapped_partition_has_every_index_and_key_of_feature(connection, tmp_path, always_rebuild):
    run(connection, changed_checkpoints(tmp_path / "chot_moi.csv"), "checkpoints")
    partition = connection.execute(text("SELECT feature_partition('checkpoints')")).scalar_one()
    attached = connection.execute(text(
        "SELECT count(*) FROM pg_index parent JOIN pg_inherits i ON i.inhparent = parent.indexrelid"
        " JOIN pg_index child ON child.indexrelid = i.inhrelid"
        " WHERE parent.indrelid = 'feature'::regclass AND child.indrelid = CAST(:p AS regclass)"),
        {"p": partition}).scalar_one()
    indexes = connection.execute(text("SELECT count(*) FROM pg_index WHERE indrelid = 'feature'::regclass")
                                 ).scalar_one()
    assert attached == indexes == 5  # each index of feature has its counterpart here
    keys = connection.execute(text(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = CAST(:p AS regclass) AND contype = 'f'"),
        {"p": partition}).scalar_one()
    assert keys == 2
    leftovers = connection.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE 'feature_fresh_%'"))
    assert leftovers.scalar_one() == 0
    with pytest.raises(Exception, match="feature_current_key_idx|duplicate key"):
        with connection.begin_nested():  # the unique index on current keys holds in the new partition
            connection.execute(text(
                "INSERT INTO feature (layer_id, source_id, geom, props, content_hash, valid_from_pub)"
                " SELECT layer_id, source_id, geom, props, content_hash, valid_from_pub FROM feature"
                " WHERE layer_id = 'checkpoints' AND valid_to_pub IS NULL LIMIT 1"))


def test_a_rebuilt_point_layer_gets_the_overview_of_its_rows(connection, tmp_path, always_rebuild):
    run(connection, changed_checkpoints(tmp_path / "chot_moi.csv"), "checkpoints")
    pub = latest_publication(connection, "checkpoints")
    overview = "SELECT level, cx, cy, count, sum_lon, sum_lat FROM cluster_overview WHERE publication_id = :p"
    built = sorted(connection.execute(text(overview), {"p": pub}))
    build_overview(connection, CHECKPOINTS, pub)  # again, from the attached partition
    assert built and built == sorted(connection.execute(text(overview), {"p": pub}))


def test_a_publication_rebuilds_when_large_and_at_least_half_the_partition(connection, monkeypatch):
    held = layer_counts(connection, "checkpoints")["rows"]
    assert held == 25
    monkeypatch.setattr(versions, "BULK_MIN_ROWS", 10)
    with session_scope(connection) as session:
        decide = versions._rebuilds_partition  # noqa: SLF001 - the rule itself
        assert not decide(session, CHECKPOINTS, 9)  # too few to be worth it
        assert not decide(session, CHECKPOINTS, 12)  # 25 rows held > 2 x 12
        assert decide(session, CHECKPOINTS, 13)
        assert decide(session, default_catalog().layer("pharmacies"), 10)  # an empty partition


def test_a_small_publication_keeps_the_partition(connection, tmp_path):
    before = _partition_oid(connection, "checkpoints")
    report = run(connection, changed_checkpoints(tmp_path / "chot_moi.csv"), "checkpoints")
    assert report.publication is not None and len(current_features(connection, "checkpoints")) == 24
    assert _partition_oid(connection, "checkpoints") == before


def _publish_failing_with(state: str):
    """Return a ``publish`` that fails as PostgreSQL does, with that SQLSTATE, after its first rows."""
    real = versions.publish

    def failing(session, *args):
        real(session, *args)
        session.execute(text(f"DO $$ BEGIN RAISE EXCEPTION 'aborted' USING ERRCODE = '{state}'; END $$"))

    return failing


def test_a_publication_aborted_for_a_concurrent_one_is_a_clear_feed_error(connection, tmp_path, monkeypatch):
    before = layer_counts(connection)
    monkeypatch.setattr("ingest.pipeline.publish", _publish_failing_with("40P01"))  # deadlock_detected
    with pytest.raises(Problem) as raised:
        run(connection, changed_checkpoints(tmp_path / "chot.csv"), "checkpoints")
    assert raised.value.code == "publish_conflict"
    assert "chạy lại" in raised.value.message_vi and "Run it again" in raised.value.message_en
    assert layer_counts(connection) == before


def test_other_database_errors_are_not_called_conflicts(connection, tmp_path, monkeypatch):
    monkeypatch.setattr("ingest.pipeline.publish", _publish_failing_with("22012"))  # division_by_zero
    with pytest.raises(DBAPIError):
        run(connection, changed_checkpoints(tmp_path / "chot.csv"), "checkpoints")


def test_staged_lines_keep_every_character_of_the_row(connection):
    tricky = 'Tab\there, new\nline, CR\r, back\\slash \\N "quote" \x0b ừ'
    candidates = [
        Candidate(sheet=tricky, row=7, props={"name": f"Chốt {tricky}", "note": None, "n": 2.5},
                  geometry=None, source_id=tricky, district=tricky, xy=(106.65, 10.98)),
        Candidate(sheet=None, row=8, props={"name": "\\"}, geometry=None, commune=tricky, district=None),
        Candidate(sheet="S", row=9, props={"name": "Vùng"}, source_id="\\.",
                  geometry=shapely.box(106.6, 10.9, 106.7, 11.0)),
    ]
    lines = [f"{seq}\t{stage_module.staging_line(c)}" for seq, c in enumerate(candidates)]
    with session_scope(connection) as session:
        assert stage_module.stage(session, iter(lines)) == 3
        staged = session.execute(text(
            "SELECT seq, sheet, row_no, source_id, name_key, ST_AsText(geom), commune_name, district_name,"
            " props FROM ingest_staging ORDER BY seq")).all()
        session.execute(text("DROP TABLE ingest_staging"))
    assert [tuple(r) for r in staged] == [
        (0, tricky, 7, tricky, name_key(f"Chốt {tricky}"), "POINT(106.65 10.98)", None,
         tricky, candidates[0].props),
        (1, None, 8, None, "", None, tricky, None, {"name": "\\"}),
        (2, "S", 9, "\\.", "vung", "POLYGON((106.7 10.9,106.7 11,106.6 11,106.6 10.9,106.7 10.9))", None,
         None, {"name": "Vùng"}),
    ]
