"""Boundary vector tiles decoded with mapbox-vector-tile."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Return the x, y of the tile containing a point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(data)


@pytest.mark.parametrize("z", [7, 10, 13])
def test_district_tile_holds_the_expected_units(client, z):
    x, y = tile_of(106.65, 10.98, z)  # Thủ Dầu Một
    response = client.get(f"/tiles/boundaries/vn2021/district/{z}/{x}/{y}.mvt")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    layer = decode(response.data)["units"]
    props = {f["properties"]["code"]: f["properties"] for f in layer["features"]}
    assert props["718"]["name"] == "Thành phố Thủ Dầu Một"
    assert props["718"]["parent_code"] == "74" and props["718"]["level"] == "district"
    assert all(p["level"] == "district" for p in props.values())


def test_low_zoom_tiles_use_simplified_geometry(client):
    x, y = tile_of(106.65, 11.1, 6)
    low = decode(client.get(f"/tiles/boundaries/vn2021/commune/6/{x}/{y}.mvt").data)["units"]
    x, y = tile_of(106.65, 11.1, 12)
    high = decode(client.get(f"/tiles/boundaries/vn2021/commune/12/{x}/{y}.mvt").data)["units"]
    assert len(low["features"]) > 60  # units under a pixel are dropped by ST_AsMVTGeom

    def vertices(layer: dict) -> int:
        return sum(len(str(f["geometry"]["coordinates"])) for f in layer["features"])

    assert vertices(low) / len(low["features"]) < vertices(high) / len(high["features"])


def test_commune_tile_of_two_level_set(client):
    x, y = tile_of(105.598, 18.93, 11)  # Xã An Châu, Nghệ An
    layer = decode(client.get(f"/tiles/boundaries/vn2025/commune/11/{x}/{y}.mvt").data)["units"]
    assert "17479" in {f["properties"]["code"] for f in layer["features"]}


def test_empty_tile_is_empty_not_an_error(client):
    response = client.get("/tiles/boundaries/vn2021/district/10/0/0.mvt")
    assert response.status_code == 200 and decode(response.data) == {}


def test_tiles_are_cacheable_and_conditional(client):
    x, y = tile_of(106.65, 10.98, 9)
    url = f"/tiles/boundaries/vn2021/district/9/{x}/{y}.mvt"
    first = client.get(url)
    assert "max-age" in first.headers["Cache-Control"] and first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(("url", "status"), [
    ("/tiles/boundaries/vn2021/district/3/8/0.mvt", 404),  # off the pyramid: no such tile
    ("/tiles/boundaries/vn2021/district/23/0/0.mvt", 400),  # beyond the documented largest zoom
    ("/tiles/boundaries/vn2021/district/5/-1/0.mvt", 404),
    ("/tiles/boundaries/vn2021/ward/5/0/0.mvt", 404),
    ("/tiles/boundaries/nope/district/5/0/0.mvt", 404),
])
def test_bad_tile_requests(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert response.is_json and response.json["error_en"]
