"""Restricted layers through every door × every reader: anonymous and viewers of three units.

Two households isolate at home, one in Thủ Dầu Một (district 718) and one in district 724.  A
viewer scoped to 718 reads the first (in scope) and never the second (out of scope), through any
door; a viewer of 724 the reverse; a viewer of the province both; the public neither.  Doors that
serve restricted rows answer privately (never kept by a shared cache, no wildcard CORS); the public
doors refuse the restricted layer outright.
"""

from __future__ import annotations

import csv
import io
import json

import mapbox_vector_tile
import pytest
from openpyxl import load_workbook

from tests.ingest.helpers import run
from tests.portal.console.helpers import make_account, sign_in
from tests.portal.test_tiles import tile_of

HOUSEHOLD = {"718": ("Hộ Thủ Dầu Một", "0912 345 718"), "724": ("Hộ Huyện Khác", "0912 345 724")}
# Each reader (anonymous, or a viewer scoped to a unit) and the households in its scope.
SCOPE = {"anonymous": set(), "718": {"718"}, "724": {"724"}, "74": {"718", "724"}}
READERS = tuple(SCOPE)


@pytest.fixture
def households(connection, spots, tmp_path) -> dict:
    """Publish one household at place B (in 718) and one at place C (in 724)."""
    path = tmp_path / "ho_cach_ly.csv"
    lines = ["Mã,Họ tên chủ hộ,Điện thoại,Vĩ độ,Kinh độ"]
    for code, key in (("718", "B"), ("724", "C")):
        name, phone = HOUSEHOLD[code]
        lines.append(f"HO-{code},{name},{phone},{spots[key].lat},{spots[key].lon}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run(connection, path, "home_isolation")
    assert report.publication and len(report.accepted) == 2
    return {"publication": report.publication, "718": spots["B"], "724": spots["C"]}


@pytest.fixture
def reader(console, connection, request):
    """A client: anonymous, or signed in as a viewer scoped to a unit."""
    if request.param != "anonymous":
        email = f"viewer.{request.param}@soyte.binhduong.gov.vn"
        make_account(connection, email, "viewer", request.param)
        sign_in(console, email)
    return request.param, console


def _names(text: str) -> set[str]:
    return {code for code, (name, _) in HOUSEHOLD.items() if name in text}


def _tile_names(data: bytes) -> set[str]:
    decoded = mapbox_vector_tile.decode(data).get("home_isolation", {"features": []})
    return {code for code, (name, _) in HOUSEHOLD.items()
            if any(f["properties"].get("name") == name for f in decoded["features"])}


def _tile_count(data: bytes) -> int:
    decoded = mapbox_vector_tile.decode(data).get("home_isolation", {"features": []})
    return sum(f["properties"].get("count", 1) for f in decoded["features"])


def _private(response) -> None:
    assert response.headers["Cache-Control"] == "private, no-store"
    assert {"Cookie", "Authorization"} <= set(response.vary)
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("reader", READERS, indirect=True)
def test_tiles_show_only_the_readers_unit(reader, households):
    kind, client = reader
    pub = households["publication"]
    seen = set()
    for code in HOUSEHOLD:
        x, y = tile_of(households[code].lon, households[code].lat, 15)
        response = client.get(f"/tiles/home_isolation/{pub}/15/{x}/{y}.mvt")
        _private(response)
        if kind == "anonymous":
            assert response.status_code == 404
            continue
        assert response.status_code == 200
        seen |= _tile_names(response.data)
    assert seen == SCOPE[kind]
    # Clustered low zooms count only the reader's households too.
    x, y = tile_of(households["718"].lon, households["718"].lat, 8)
    assert tile_of(households["724"].lon, households["724"].lat, 8) == (x, y)  # both in this tile
    response = client.get(f"/tiles/home_isolation/{pub}/8/{x}/{y}.mvt")
    _private(response)
    if kind != "anonymous":
        assert _tile_count(response.data) == len(SCOPE[kind])


@pytest.mark.parametrize("reader", READERS, indirect=True)
def test_tilejson_counts_and_bounds_only_the_readers_unit(reader, households):
    kind, client = reader
    response = client.get("/tiles/home_isolation.json")
    _private(response)
    if kind == "anonymous":
        assert response.status_code == 404
        return
    body = response.get_json()
    assert body["features"] == len(SCOPE[kind])
    spots = [households[code] for code in SCOPE[kind]]
    box = (min(s.lon for s in spots), min(s.lat for s in spots), max(s.lon for s in spots),
           max(s.lat for s in spots))
    assert body["bounds"] == pytest.approx(box, abs=1e-6)


@pytest.mark.parametrize("reader", READERS, indirect=True)
@pytest.mark.parametrize("query", ["", "?unit=724", "?unit=718", "?unit=74"])
@pytest.mark.parametrize("fmt", ["csv", "geojson", "xlsx"])
def test_downloads_hold_only_the_readers_unit(reader, households, query, fmt):
    kind, client = reader
    response = client.get(f"/download/home_isolation.{fmt}{query}")
    _private(response)
    if kind == "anonymous":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(response.data), read_only=True)["Dữ liệu"]
        text = json.dumps([list(row) for row in sheet.iter_rows(values_only=True)], ensure_ascii=False)
    elif fmt == "csv":
        rows = csv.reader(io.StringIO(response.data.decode("utf-8-sig")))
        text = json.dumps(list(rows), ensure_ascii=False)
    else:
        text = json.dumps(response.get_json(), ensure_ascii=False)
    asked = query.removeprefix("?unit=") or "74"
    assert _names(text) == {code for code in SCOPE[kind] if asked in (code, "74")}


@pytest.mark.parametrize("reader", READERS, indirect=True)
@pytest.mark.parametrize(("url", "status"), [
    ("/ogc/collections/home_isolation", 404),
    ("/ogc/collections/home_isolation/items", 404),
    ("/ogc/collections/home_isolation/items/HO-724", 404),
    ("/api/nearby?layer=home_isolation&lat={lat}&lon={lon}", 400),
    ("/embed/724?layers=home_isolation", 400),
    ("/embed/724?pub=home_isolation:{pub}", 404),
    ("/snapshot/724.png?layers=home_isolation", 400),
    ("/snapshot/724.png?pub=home_isolation:{pub}", 404),
])
def test_public_doors_refuse_the_restricted_layer(reader, households, url, status):
    _, client = reader
    spot = households["724"]
    response = client.get(url.format(lat=spot.lat, lon=spot.lon, pub=households["publication"]))
    assert response.status_code == status
    assert not _names(response.get_data(as_text=True))


@pytest.mark.parametrize("reader", READERS, indirect=True)
@pytest.mark.parametrize("url", ["/map/vn2021/724/van-ban", "/map/vn2021/718/van-ban", "/map/724",
                                 "/embed/724", "/ogc/collections"])
def test_public_pages_never_show_households(reader, households, url):
    _, client = reader
    response = client.get(url)
    assert response.status_code == 200
    assert not _names(response.get_data(as_text=True))
    assert "home_isolation" not in response.get_data(as_text=True)


@pytest.mark.parametrize("reader", READERS, indirect=True)
def test_console_layer_page_lists_only_the_readers_unit(reader, households):
    kind, client = reader
    response = client.get("/quan-tri/lop/home_isolation")
    if kind == "anonymous":
        assert response.status_code in (302, 401)
        return
    assert response.status_code == 200
    assert _names(response.get_data(as_text=True)) == SCOPE[kind]
