"""Cluster overviews: written by every publish path, equal to counting the points, backfilled."""

from __future__ import annotations

import csv
import importlib.util
import math
from collections import Counter

from sqlalchemy import text

from layers.catalog import default_catalog
from layers.overview import MAX_LEVEL, build_overview, cell_of
from layers.rollback import rollback
from layers.store import live_at
from officials import publishing
from tests.conftest import REPO
from tests.ingest.helpers import SAMPLES, run
from tests.portal.console.helpers import HERE, make_account
from tests.portal.test_tiles import tile_of


def alive_points(connection, layer_id: str, publication: int) -> list[tuple[float, float]]:
    """Return the (lon, lat) of a layer's features alive at a publication."""
    rows = connection.execute(text(
        "SELECT ST_X(f.geom), ST_Y(f.geom) FROM feature f WHERE f.layer_id = :l AND "  # noqa: S608
        + live_at(publication)), {"l": layer_id, "as_of": publication}).all()
    return [(lon, lat) for lon, lat in rows]


def brute_force_cells(connection, layer_id: str, publication: int, z: int) -> Counter:
    """Count a publication's points per cluster cell at a zoom, one point at a time in Python."""
    return Counter(cell_of(lon, lat, z) for lon, lat in alive_points(connection, layer_id, publication))


def overview_cells(connection, publication: int, z: int) -> Counter:
    """Return the overview's count per cell of a publication at a zoom."""
    rows = connection.execute(text(
        "SELECT cx, cy, count FROM cluster_overview WHERE publication_id = :p AND level = :z"),
        {"p": publication, "z": z}).all()
    return Counter({(r.cx, r.cy): r.count for r in rows})


def overview_rows(connection) -> dict[tuple, tuple[float, float]]:
    """Return every overview row: (publication, level, cx, cy, count) -> (sum_lon, sum_lat)."""
    rows = connection.execute(text(
        "SELECT publication_id, level, cx, cy, count, sum_lon, sum_lat FROM cluster_overview")).all()
    return {tuple(r[:5]): (r.sum_lon, r.sum_lat) for r in rows}


def assert_same_overview(found: dict, expected: dict) -> None:
    """Assert the same cells and counts, and sums equal but for the noise of summing in another order."""
    assert found.keys() == expected.keys()
    for key, sums in found.items():
        assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(sums, expected[key], strict=True)), key


def point_publications(connection) -> list[tuple[int, str]]:
    """Return (publication, layer) of every publication of a point layer."""
    rows = connection.execute(text(
        "SELECT p.id, p.layer_id FROM publication p JOIN layer l ON l.id = p.layer_id"
        " WHERE l.geometry_type = 'point' ORDER BY p.id")).all()
    return [(r.id, r.layer_id) for r in rows]


def assert_overview_counts_the_points(connection, layer_id: str, publication: int) -> None:
    """Check the overview of a publication against counting its points, at several zooms."""
    points = alive_points(connection, layer_id, publication)
    for z in (0, 5, 8, 11, MAX_LEVEL):
        assert overview_cells(connection, publication, z) == brute_force_cells(
            connection, layer_id, publication, z), (layer_id, publication, z)
    cells = connection.execute(text(
        "SELECT sum(count) AS n, sum(sum_lon) AS lon, sum(sum_lat) AS lat FROM cluster_overview"
        " WHERE publication_id = :p AND level = 0"), {"p": publication}).one()
    assert (cells.n or 0) == len(points)
    if points:
        assert math.isclose(cells.lon, math.fsum(p[0] for p in points), rel_tol=1e-9)
        assert math.isclose(cells.lat, math.fsum(p[1] for p in points), rel_tol=1e-9)


def test_the_demo_publications_of_point_layers_have_their_overviews(connection):
    publications = point_publications(connection)
    assert {layer for _, layer in publications} >= {"testing_sites", "checkpoints"}
    for publication, layer_id in publications:
        assert_overview_counts_the_points(connection, layer_id, publication)


def test_polygon_layers_have_no_overview(connection):
    zones = connection.execute(text(
        "SELECT count(*) FROM cluster_overview o JOIN publication p ON p.id = o.publication_id"
        " WHERE p.layer_id = 'lockdown_zones'")).scalar()
    assert zones == 0


def test_ingest_and_rollback_publications_get_their_overviews(connection, tmp_path):
    first = connection.execute(text(
        "SELECT max(id) FROM publication WHERE layer_id = 'checkpoints'")).scalar()
    rows = list(csv.reader((SAMPLES / "chot_kiem_soat.csv").read_text(encoding="cp1258").splitlines()))
    path = tmp_path / "chot.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows[:-5])  # five checkpoints removed
    second = run(connection, path, "checkpoints").publication
    assert_overview_counts_the_points(connection, "checkpoints", second)
    restored, _ = rollback(connection, default_catalog().layer("checkpoints"), first, author="tester")
    assert_overview_counts_the_points(connection, "checkpoints", restored)
    assert overview_cells(connection, restored, 8) == overview_cells(connection, first, 8) \
        != overview_cells(connection, second, 8)


def test_an_edit_publication_gets_its_overview(connection):
    admin = make_account(connection, "admin74@test.vn", "admin", "74")
    site = connection.execute(text(
        "SELECT source_id FROM feature WHERE layer_id = 'testing_sites' AND valid_to_pub IS NULL"
        " ORDER BY source_id LIMIT 1")).scalar()
    publication, _ = publishing.edit_feature(connection, admin, "testing_sites", site, {"hours": "24/7"},
                                             HERE)
    assert_overview_counts_the_points(connection, "testing_sites", publication)


def test_building_again_replaces_the_rows(connection):
    publication, layer_id = point_publications(connection)[-1]
    before = overview_rows(connection)
    build_overview(connection, default_catalog().layer(layer_id), publication, current=False)
    assert_same_overview(overview_rows(connection), before)


def test_a_cell_of_a_zoom_holds_exactly_its_four_cells_of_the_next():
    lon, lat = 106.6519, 10.9808
    for z in range(MAX_LEVEL):
        (x, y), (fine_x, fine_y) = cell_of(lon, lat, z), cell_of(lon, lat, z + 1)
        assert (fine_x >> 1, fine_y >> 1) == (x, y)
    x, y = tile_of(lon, lat, 12)
    assert tuple(c // 48 for c in cell_of(lon, lat, 12)) == (x, y)


def _migration():
    path = REPO / "epimap" / "migrations" / "versions" / "0006_cluster_overview.py"
    spec = importlib.util.spec_from_file_location("migration_0006", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_backfills_what_publishing_builds(connection):
    built = overview_rows(connection)
    assert built
    connection.execute(text("DELETE FROM cluster_overview"))
    _migration().backfill(connection)
    assert_same_overview(overview_rows(connection), built)
