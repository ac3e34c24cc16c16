"""Locating staged rows in SQL: the plan that keeps a million points to a few seconds."""

from __future__ import annotations

import re

from sqlalchemy import text

from ingest import locate as locate_module
from tests.ingest.builders import SITES, write_csv
from tests.ingest.helpers import SAMPLES, run


def test_points_are_placed_piece_by_piece_through_the_index_of_staged_points(connection, monkeypatch):
    """Each unit piece walks an index of the staged points.  That index is built before the rows
    named by commune only are updated: built after, this transaction could not use it, and every
    point would probe the pieces in turn (four times slower)."""
    plans: list[str] = []
    place = locate_module.place_in_pieces

    def explained(session, polygons):
        place(session, polygons)
        select = locate_module._INSIDE.format(point=locate_module._ROW_POINT[polygons].format(t="s"))
        plans.append("\n".join(r[0] for r in session.execute(
            text("EXPLAIN " + select.split(" AS\n", 1)[1]))))

    monkeypatch.setattr(locate_module, "place_in_pieces", explained)
    report = run(connection, SAMPLES / "xet_nghiem.xlsx", "testing_sites", dry_run=True)
    assert any(row.approximate for row in report.accepted)  # some rows were placed by commune name
    [plan] = plans
    staged = re.search(r"Index Scan (using|on) ingest_staging_geom_idx", plan)
    assert staged and plan.index("Seq Scan on unit_piece") < staged.start(), plan  # pieces outside
    assert "Seq Scan on ingest_staging" not in plan, plan


def test_staged_ids_stay_indexed_after_repeated_names_are_numbered(connection, tmp_path):
    """Publishing looks staged rows up by id; numbering repeated names updates ids, and the id
    index must be built before that update to serve this transaction."""
    site = SITES[0]
    rows = [[site.name, site.lat, site.lon]] * 3
    plans: list[str] = []

    def inspect(session, layer, scope):
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plans.append("\n".join(r[0] for r in session.execute(
            text("EXPLAIN SELECT * FROM ingest_staging WHERE source_id = 'x'"))))
        session.execute(text("RESET enable_seqscan"))

    report = run(connection, write_csv(tmp_path / "trung.csv", ["Tên cơ sở", "Vĩ độ", "Kinh độ"], rows),
                 "testing_sites", dry_run=True, inspect=inspect)
    assert [r.source_id[-2:] for r in report.rows][1:] == ["#2", "#3"]  # the ids were updated
    [plan] = plans
    assert "Index" in plan and "Seq Scan" not in plan, plan


def test_staged_ids_are_indexed_only_when_current_features_may_share_them(connection, tmp_path):
    """A layer with no current feature (pharmacies, in the demo) has no id to look up."""
    site = SITES[0]
    path = write_csv(tmp_path / "diem.csv", ["Tên", "Vĩ độ", "Kinh độ"], [[site.name, site.lat, site.lon]])
    indexed: dict[str, bool] = {}
    for layer in ("testing_sites", "pharmacies"):
        def inspect(session, layer_, scope, layer=layer):
            indexed[layer] = session.execute(text(
                "SELECT EXISTS (SELECT FROM pg_indexes WHERE tablename = 'ingest_staging'"
                " AND indexdef LIKE '%(source_id)%')")).scalar_one()

        report = run(connection, path, layer, dry_run=True, inspect=inspect)
        assert len(report.accepted) == 1 and report.diff.added + report.diff.changed == 1
    assert indexed == {"testing_sites": True, "pharmacies": False}
