"""Layer tiles decoded with mapbox-vector-tile: contents, clusters, privacy, caching, versions."""

from __future__ import annotations

import csv
import math

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from layers.catalog import default_catalog
from layers.overview import CLUSTER_CELLS, MAX_LEVEL, build_overview, cell_of
from layers.rollback import rollback
from layers.tiles import _STATEMENTS, EXTENT, MAX_TILE_POINTS, clustered, tile_statement
from tests.ingest.helpers import SAMPLES, run
from tests.layers.test_overview import alive_points
from tests.portal.test_tiles import tile_of

THU_DAU_MOT = (106.65, 10.98)


def _tile(client, layer: str, publication: int, z: int, lon: float, lat: float) -> dict:
    x, y = tile_of(lon, lat, z)
    response = client.get(f"/tiles/{layer}/{publication}/{z}/{x}/{y}.mvt")
    assert response.status_code == 200, response.data
    return mapbox_vector_tile.decode(response.data).get(layer, {"features": []})


def _current(client, layer: str) -> int:
    return client.get(f"/tiles/{layer}.json").json["publication"]


def test_tile_holds_the_layers_features_with_public_attributes(client, connection):
    pub = _current(client, "testing_sites")
    layer = _tile(client, "testing_sites", pub, 13, 106.651953, 10.980862)
    names = {f["properties"]["name"] for f in layer["features"]}
    assert "Trạm Y tế Phú Cường" in names
    props = next(f["properties"] for f in layer["features"]
                 if f["properties"]["name"] == "Trạm Y tế Phú Cường")
    assert props["address"] and props["hours"] == "7h00 - 17h00 (T2-CN)"
    assert props["updated"] > 0 and props["approximate"] is False
    assert "note" not in props  # not a public attribute


def test_private_attributes_never_reach_a_tile(client, connection):
    pub = _current(client, "quarantine_facilities")
    layer = _tile(client, "quarantine_facilities", pub, 10, 106.647606, 10.986127)
    assert layer["features"]
    for feature in layer["features"]:
        assert "occupancy" not in feature["properties"]
        assert "capacity" in feature["properties"]
    stored = connection.execute(text(
        "SELECT count(*) FROM feature WHERE layer_id = 'quarantine_facilities' AND props ? 'occupancy'"
    )).scalar()
    assert stored == 15  # kept in the database, hidden from the public


def test_low_zooms_carry_clusters_with_counts(client, connection):
    pub = _current(client, "testing_sites")
    (x0, y0), (x1, y1) = tile_of(106.3, 11.5, 8), tile_of(107.0, 10.8, 8)  # the province's tiles
    features = []
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            data = client.get(f"/tiles/testing_sites/{pub}/8/{x}/{y}.mvt").data
            features += mapbox_vector_tile.decode(data).get("testing_sites", {"features": []})["features"]
    assert features and all(f["properties"]["cluster"] for f in features)
    assert any(f["properties"]["count"] > 1 for f in features)
    total = sum(f["properties"]["count"] for f in features)
    current = connection.execute(text(
        "SELECT count(*) FROM feature WHERE layer_id = 'testing_sites' AND valid_to_pub IS NULL")).scalar()
    assert total == current == 40


def test_lockdown_zones_are_polygons_with_decision_and_dates(client):
    pub = _current(client, "lockdown_zones")
    layer = _tile(client, "lockdown_zones", pub, 12, 106.714, 10.943)  # Thuận Giao
    zone = next(f for f in layer["features"] if f["properties"]["decision_number"] == "849/QĐ-UBND")
    assert zone["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert (zone["properties"]["valid_from"], zone["properties"]["valid_to"]) == ("2021-08-01",
                                                                                  "2021-08-15")


def test_tiles_are_immutable_with_etags(client):
    pub = _current(client, "testing_sites")
    x, y = tile_of(*THU_DAU_MOT, 12)
    response = client.get(f"/tiles/testing_sites/{pub}/12/{x}/{y}.mvt")
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    again = client.get(f"/tiles/testing_sites/{pub}/12/{x}/{y}.mvt",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    tilejson = client.get("/tiles/testing_sites.json")
    assert tilejson.headers["Cache-Control"] == "public, max-age=15"


def _rewrite_checkpoints(tmp_path, status: str):
    rows = list(csv.reader((SAMPLES / "chot_kiem_soat.csv").read_text(encoding="cp1258").splitlines()))
    rows[1][5] = status
    path = tmp_path / "chot.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


def test_tilejson_names_the_new_publication_right_after_a_publish(client, connection, tmp_path):
    before = _current(client, "checkpoints")
    old_tile = _tile(client, "checkpoints", before, 14, 106.570379, 11.144156)
    report = run(connection, _rewrite_checkpoints(tmp_path, "Đã giải tỏa hôm nay"), "checkpoints")
    assert report.diff.changed == 1
    after = _current(client, "checkpoints")
    assert after == report.publication != before
    new_tile = _tile(client, "checkpoints", after, 14, 106.570379, 11.144156)
    status = {f["properties"]["id"]: f["properties"]["status"] for f in new_tile["features"]}
    assert status["CKS-001"] == "Đã giải tỏa hôm nay"
    # The past publication is still served, unchanged (history, pinned embeds).
    past = _tile(client, "checkpoints", before, 14, 106.570379, 11.144156)
    assert past == old_tile
    assert {f["properties"]["id"]: f["properties"]["status"] for f in past["features"]}["CKS-001"] \
        == "Đang hoạt động"


@pytest.mark.parametrize("url", [
    "/tiles/home_isolation.json",
    "/tiles/home_isolation/1/10/0/0.mvt",
    "/tiles/no_such_layer.json",
    "/tiles/no_such_layer/1/10/0/0.mvt",
    "/tiles/admin_unit/1/10/0/0.mvt",
])
def test_restricted_and_unknown_layers_are_404_to_the_public(client, url):
    assert client.get(url).status_code == 404


def test_restricted_layer_is_not_on_the_public_map(client, connection, tmp_path):
    path = tmp_path / "ho.csv"
    path.write_text("Họ tên chủ hộ,Địa chỉ,Vĩ độ,Kinh độ\nNguyễn Văn A,Số 1,10.98,106.65\n", encoding="utf-8")
    report = run(connection, path, "home_isolation")
    assert report.publication
    assert client.get(f"/tiles/home_isolation/{report.publication}/10/0/0.mvt").status_code == 404
    assert "home_isolation" not in client.get("/map/718").get_data(as_text=True)


def test_a_publication_of_another_layer_is_404(client):
    other = _current(client, "lockdown_zones")
    x, y = tile_of(*THU_DAU_MOT, 12)
    assert client.get(f"/tiles/testing_sites/{other}/12/{x}/{y}.mvt").status_code == 404
    assert client.get(f"/tiles/testing_sites/999999/12/{x}/{y}.mvt").status_code == 404


def _clusters(data: bytes, layer: str) -> list[tuple[int, int, int]]:
    """Return a tile's (count, x, y) of its clusters, y down; fail on any other feature."""
    decoded = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    features = decoded.get(layer, {"features": []})["features"]
    assert all(f["properties"].get("cluster") for f in features)
    return sorted((f["properties"]["count"], *f["geometry"]["coordinates"]) for f in features)


def _expected_clusters(connection, layer: str, publication: int, z: int, x: int, y: int
                       ) -> list[tuple[int, float, float]]:
    """Count a tile's points per cell one by one in Python: (count, x, y) at their mean, y down."""
    cells: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for lon, lat in alive_points(connection, layer, publication):
        cell = cell_of(lon, lat, z)
        if (cell[0] // CLUSTER_CELLS, cell[1] // CLUSTER_CELLS) == (x, y):
            cells.setdefault(cell, []).append((lon, lat))
    expected = []
    for points in cells.values():
        lon, lat = (math.fsum(p[i] for p in points) / len(points) for i in (0, 1))
        mx = (lon + 180) / 360 * 2**z - x
        my = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z - y
        expected.append((len(points), mx * EXTENT, my * EXTENT))
    return sorted(expected)


def _assert_same_clusters(got: list[tuple[int, int, int]], expected: list[tuple[int, float, float]]) -> None:
    """Match every cluster to an expected one with its count, within a pixel of its position."""
    assert len(got) == len(expected)
    left = list(expected)
    for count, gx, gy in got:
        match = next(e for e in left if e[0] == count and abs(e[1] - gx) <= 1 and abs(e[2] - gy) <= 1)
        left.remove(match)


def _province_tiles(z: int) -> list[tuple[int, int]]:
    (x0, y0), (x1, y1) = tile_of(106.3, 11.5, z), tile_of(107.0, 10.8, z)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


@pytest.mark.parametrize("layer", ["testing_sites", "checkpoints"])
def test_cluster_counts_equal_a_brute_force_count_per_cell(client, connection, layer):
    pub = _current(client, layer)
    zooms = range(default_catalog().layer(layer).cluster_below_zoom)
    clusters = 0
    for z in [z for z in zooms if z >= 7]:
        for x, y in _province_tiles(z):
            got = _clusters(client.get(f"/tiles/{layer}/{pub}/{z}/{x}/{y}.mvt").data, layer)
            _assert_same_clusters(got, _expected_clusters(connection, layer, pub, z, x, y))
            clusters += len(got)
    assert clusters > 0


def test_past_clusters_count_the_points_of_their_publication(client, connection, tmp_path):
    before = _current(client, "checkpoints")
    rows = list(csv.reader((SAMPLES / "chot_kiem_soat.csv").read_text(encoding="cp1258").splitlines()))
    path = tmp_path / "chot.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows[:-8])
    after = run(connection, path, "checkpoints").publication
    totals = []
    for pub in (before, after):
        total = 0
        for x, y in _province_tiles(9):
            got = _clusters(client.get(f"/tiles/checkpoints/{pub}/9/{x}/{y}.mvt").data, "checkpoints")
            _assert_same_clusters(got, _expected_clusters(connection, "checkpoints", pub, 9, x, y))
            total += sum(c for c, _, _ in got)
        totals.append(total)
        assert total == len(alive_points(connection, "checkpoints", pub))
    assert totals[0] > totals[1] > 0


def _add_dense_points(connection, pub: int, n: int) -> None:
    """Add n points in a 1 x 1 m grid near Phú Cường to a publication (outside a publish, so the
    overview is built again as publishing builds it)."""
    connection.execute(text(
        "INSERT INTO feature (layer_id, source_id, geom, props, units, content_hash, valid_from_pub)"
        " SELECT 'testing_sites', 'dense-' || i,"
        "  ST_SetSRID(ST_MakePoint(106.6500 + (i % 50) * 0.00002, 10.9800 + (i / 50) * 0.00002), 4326),"
        "  jsonb_build_object('name', 'Điểm ' || i), '{}'::jsonb, md5(i::text), :pub"
        " FROM generate_series(1, :n) AS i"), {"pub": pub, "n": n})
    build_overview(connection, default_catalog().layer("testing_sites"), pub)


def test_a_dense_tile_is_drawn_as_clusters_even_above_the_cluster_zoom(client, connection):
    pub = _current(client, "testing_sites")
    _add_dense_points(connection, pub, MAX_TILE_POINTS + 500)
    for z in (11, 14):
        x, y = tile_of(106.6505, 10.9805, z)
        got = _clusters(client.get(f"/tiles/testing_sites/{pub}/{z}/{x}/{y}.mvt").data, "testing_sites")
        assert got and sum(c for c, _, _ in got) >= MAX_TILE_POINTS + 500
        _assert_same_clusters(got, _expected_clusters(connection, "testing_sites", pub, z, x, y))


def test_a_tile_from_the_overview_equals_the_tile_counted_from_the_points(connection):
    layer = default_catalog().layer("testing_sites")
    past = connection.execute(text(
        "SELECT max(id) FROM publication WHERE layer_id = 'testing_sites'")).scalar()
    _add_dense_points(connection, past, MAX_TILE_POINTS + 500)
    latest, _ = rollback(connection, layer, past, author="tester")  # the same points, a newer publication
    compared = 0
    for pub in (past, latest):  # the latest reads the current rows, the past one the rows alive at it
        for z in range(MAX_LEVEL + 1):
            x, y = tile_of(106.6505, 10.9805, z)
            statement, params = tile_statement(layer, pub, z, x, y)
            kind = "clusters" if clustered(layer, z) else "points"
            from_points = _STATEMENTS[(kind, False, False)]
            overview = connection.execute(statement, params).one().tile
            points = connection.execute(from_points, {**params, "cells": CLUSTER_CELLS * 2**z}).one().tile
            assert mapbox_vector_tile.decode(overview) == mapbox_vector_tile.decode(points), (pub, z)
            compared += bool(overview)
    assert compared >= 2 * (MAX_LEVEL + 1)


def test_tiles_above_the_overview_count_their_points(client, connection):
    pub = _current(client, "testing_sites")
    _add_dense_points(connection, pub, MAX_TILE_POINTS + 500)
    z = MAX_LEVEL + 1
    x, y = tile_of(106.6505, 10.9805, z)
    got = _clusters(client.get(f"/tiles/testing_sites/{pub}/{z}/{x}/{y}.mvt").data, "testing_sites")
    _assert_same_clusters(got, _expected_clusters(connection, "testing_sites", pub, z, x, y))
