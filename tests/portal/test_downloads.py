"""Layer downloads (CSV, XLSX, GeoJSON): the current features, public attributes only, formula-safe,
stating their publication and licence; CORS on the public read-only routes."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
import shapely
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.catalog import default_catalog
from layers.store import features
from portal.share.common import iso_time
from tests.ingest.builders import changed_checkpoints
from tests.ingest.helpers import run

HOSTILE = {"name": "=cmd|' /C calc'!A0", "address": "+84 Đường Ngô Quyền", "hours": "-1",
           "phone": "@SUM(1)", "test_types": "RT-PCR", "note": "bí mật nội bộ"}
POINT = (106.6588, 10.99)  # in Phường Hiệp Thành (25741), Thành phố Thủ Dầu Một (718)
BOM = b"\xef\xbb\xbf"
FORMULA_START = ("=", "+", "-", "@")


def _publication(connection, layer_id: str) -> int:
    return connection.execute(text("SELECT max(id) FROM publication WHERE layer_id = :l"),
                              {"l": layer_id}).scalar()


@pytest.fixture
def hostile(connection) -> dict:
    """Add (in the test transaction) a testing site whose cells are spreadsheet formulas."""
    connection.execute(text(
        "INSERT INTO feature (layer_id, source_id, geom, props, units, unit_code, approximate, content_hash,"
        " valid_from_pub) VALUES ('testing_sites', 'hostile@25741', ST_SetSRID(ST_MakePoint(:x, :y), 4326),"
        " CAST(:props AS jsonb), CAST(:units AS jsonb), '25741', false, 'test', :pub)"),
        {"x": POINT[0], "y": POINT[1], "props": json.dumps(HOSTILE, ensure_ascii=False),
         "units": json.dumps({"commune": "25741", "district": "718", "province": "74"}),
         "pub": _publication(connection, "testing_sites")})
    return HOSTILE


def _expected(connection, layer_id: str, unit: tuple[str, str] | None = None, as_of: int | None = None):
    with Session(bind=connection) as session:
        return features(session, default_catalog().layer(layer_id), unit=unit, as_of=as_of)


def _csv(response) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(response.data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _sidecar(client, response) -> dict:
    """Follow a CSV's ``Link: <…csv-metadata.json>; rel="describedby"`` to its CSVW metadata."""
    link = response.headers["Link"]
    assert link.endswith('; rel="describedby"; type="application/csvm+json"'), link
    url = link[1:link.index(">")]
    assert ".csv-metadata.json?" in url
    metadata = client.get(url.removeprefix("http://localhost"))
    assert metadata.status_code == 200 and metadata.content_type == "application/csvm+json; charset=utf-8"
    return json.loads(metadata.data)


def test_csv_holds_the_units_current_features_with_bilingual_headers(client, connection, hostile):
    response = client.get("/download/testing_sites.csv?unit=718")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.data.startswith(BOM + "Mã / ID,Tên / Name,".encode())  # no preamble: the header first
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="testing_sites_vn2021-718_pub{_publication(connection, "testing_sites")}.csv"'
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    table = _csv(response)
    assert list(table.columns) == [
        "Mã / ID", "Tên / Name", "Địa chỉ / Address", "Hình thức / Test types",
        "Giờ làm việc / Opening hours", "Điện thoại / Phone", "Kinh độ / Longitude", "Vĩ độ / Latitude",
        "Mã xã / Commune code", "Mã huyện / District code", "Mã tỉnh / Province code",
        "Vị trí gần đúng / Approximate", "Lần xuất bản / Publication"]
    expected = _expected(connection, "testing_sites", ("district", "718"))
    assert len(table) == len(expected) == 4
    by_id = {f["source_id"]: f for f in expected}
    for _, row in table.iterrows():
        feature = by_id[row["Mã / ID"]]
        name = feature["props"]["name"]
        assert row["Tên / Name"] == ("'" + name if name.startswith(FORMULA_START) else name)
        lon, lat = feature["geometry"]["coordinates"]
        assert (float(row["Kinh độ / Longitude"]), float(row["Vĩ độ / Latitude"])) == (lon, lat)
        assert row["Mã huyện / District code"] == "718" and row["Mã tỉnh / Province code"] == "74"
        assert int(row["Lần xuất bản / Publication"]) == feature["publication"]
    assert "Trạm Y tế Phú Cường" in set(table["Tên / Name"])  # Vietnamese intact
    row = table[table["Mã / ID"] == "hostile@25741"].iloc[0]
    assert row["Tên / Name"] == "'=cmd|' /C calc'!A0"
    assert (row["Địa chỉ / Address"], row["Giờ làm việc / Opening hours"], row["Điện thoại / Phone"]) == \
        ("'+84 Đường Ngô Quyền", "'-1", "'@SUM(1)")
    assert not any(str(cell).startswith(FORMULA_START) for cell in table.to_numpy().ravel())
    assert "bí mật" not in response.data.decode("utf-8") and "Ghi chú" not in response.data.decode("utf-8")


def test_csv_metadata_is_a_csvw_sidecar_naming_authority_and_legal_reference(client, connection):
    publication = _publication(connection, "testing_sites")
    connection.execute(text("UPDATE publication SET legal_ref = '849/QĐ-UBND' WHERE id = :p"),
                       {"p": publication})
    response = client.get("/download/testing_sites.csv?unit=718")
    meta = _sidecar(client, response)
    created = connection.execute(text("SELECT created_at FROM publication WHERE id = :p"),
                                 {"p": publication}).scalar()
    pinned = f"http://localhost/download/testing_sites.csv?pub={publication}&unit=718&set=vn2021"
    assert meta["@context"][0] == "http://www.w3.org/ns/csvw" and meta["url"] == pinned
    assert meta["dc:publisher"] == "CDC Bình Dương" and meta["dc:references"] == "849/QĐ-UBND"
    assert meta["dc:issued"]["@value"] == iso_time(created) and iso_time(created).endswith("+07:00")
    assert meta["dc:license"] == "CC BY 4.0" and meta["dc:source"] == "http://localhost/"
    assert meta["dc:coverage"] == "vn2021:718 Thành phố Thủ Dầu Một" and meta["dc:extent"] == 3
    columns = meta["tableSchema"]["columns"]
    assert [c["titles"] for c in columns] == list(_csv(response).columns)  # CSVW: titles match the header
    types = {c["name"]: c["datatype"] for c in columns}
    assert types["phone"] == types["commune_code"] == types["source_id"] == "string"
    assert (types["lon"], types["approximate"], types["publication"]) == ("number", "boolean", "integer")


def test_csv_opens_as_it_is_with_phone_numbers_and_codes_keeping_their_zeros(client, connection):
    connection.execute(text(
        "INSERT INTO feature (layer_id, source_id, geom, props, units, unit_code, approximate, content_hash,"
        " valid_from_pub) VALUES ('testing_sites', '007', ST_SetSRID(ST_MakePoint(:x, :y), 4326),"
        " CAST(:props AS jsonb), CAST(:units AS jsonb), '25741', false, 'test', :pub)"),
        {"x": POINT[0], "y": POINT[1], "props": json.dumps({"name": "Trạm 7", "phone": "0912345678"}),
         "units": json.dumps({"commune": "25741", "district": "718", "province": "74"}),
         "pub": _publication(connection, "testing_sites")})
    data = client.get("/download/testing_sites.csv?unit=718").data
    plain = pd.read_csv(io.BytesIO(data))  # no options: the header row comes first
    assert plain.columns[0].endswith("Mã / ID") and len(plain) == 4
    row = plain[plain["Tên / Name"] == "Trạm 7"].iloc[0]
    assert row["Điện thoại / Phone"] == "0912 345 678"  # text, its zero kept
    assert "\r\n007," in data.decode("utf-8-sig")  # the id as it is


def test_xlsx_has_the_table_and_a_metadata_sheet(client, connection, hostile):
    response = client.get("/download/testing_sites.xlsx?unit=718")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Dữ liệu", "Thông tin"]
    rows = list(book["Dữ liệu"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[:2] == ("Mã / ID", "Tên / Name") and "Ghi chú / Note" not in header
    expected = {f["source_id"]: f for f in _expected(connection, "testing_sites", ("district", "718"))}
    assert len(body) == len(expected) == 4
    for row in body:
        record = dict(zip(header, row, strict=True))
        feature = expected[record["Mã / ID"]]
        where = (record["Kinh độ / Longitude"], record["Vĩ độ / Latitude"])
        assert where == tuple(feature["geometry"]["coordinates"])
        assert record["Vị trí gần đúng / Approximate"] is feature["approximate"]
    cells = [c for line in book["Dữ liệu"].iter_rows() for c in line]
    hostile_cell = next(c for c in cells if c.value == "'=cmd|' /C calc'!A0")
    assert hostile_cell.data_type == "s"
    assert not any(isinstance(c.value, str) and c.value.startswith(FORMULA_START) for c in cells)
    assert "Trạm Y tế Phú Cường" in [c.value for c in cells]
    about = dict(list(book["Thông tin"].iter_rows(values_only=True))[1:])
    assert about["Lần xuất bản / Publication"] == _publication(connection, "testing_sites")
    assert about["Giấy phép / Licence"] == "CC BY 4.0" and about["Số đối tượng / Features"] == 4
    assert about["Cơ quan ban hành / Issuing authority"] == "CDC Bình Dương"
    assert "Căn cứ pháp lý / Legal reference" in about


def test_geojson_has_a_metadata_member_and_the_features(client, connection, hostile):
    response = client.get("/download/testing_sites.geojson?unit=718")
    assert response.content_type == "application/geo+json"
    body = json.loads(response.data)
    assert body["type"] == "FeatureCollection"
    meta = body["metadata"]
    assert meta["publication"] == _publication(connection, "testing_sites") and meta["licence"] == "CC BY 4.0"
    assert meta["unit"] == {"set": "vn2021", "code": "718", "name": "Thành phố Thủ Dầu Một"}
    assert meta["published_at"].endswith("+07:00") and meta["count"] == 4
    assert meta["authority"] == "CDC Bình Dương" and "legal_ref" in meta
    expected = {f["source_id"]: f for f in _expected(connection, "testing_sites", ("district", "718"))}
    assert {f["id"] for f in body["features"]} == set(expected)
    for feature in body["features"]:
        assert feature["geometry"] == expected[feature["id"]]["geometry"]
        assert "note" not in feature["properties"]
        assert feature["properties"]["name"] == expected[feature["id"]]["props"]["name"]
        assert feature["properties"]["district_code"] == "718"


def test_polygon_layer_gives_wkt(client, connection):
    table = _csv(client.get("/download/lockdown_zones.csv"))
    expected = {f["source_id"]: f for f in _expected(connection, "lockdown_zones")}
    assert len(table) == len(expected) == 8
    assert "Kinh độ / Longitude" not in table.columns
    for _, row in table.iterrows():
        shape = shapely.from_wkt(row["Hình học (WKT) / Geometry (WKT)"])
        assert shape.equals_exact(shapely.geometry.shape(expected[row["Mã / ID"]]["geometry"]), 1e-6)
    assert "Khu vực / Area" in table.columns and "Số quyết định / Decision number" in table.columns


def test_older_publication_is_pinned_and_cached_longer(client, connection, tmp_path):
    old = _publication(connection, "checkpoints")
    run(connection, changed_checkpoints(tmp_path / "chot.csv"), "checkpoints")
    assert len(_csv(client.get("/download/checkpoints.csv"))) == 24
    pinned = client.get(f"/download/checkpoints.csv?pub={old}")
    assert pinned.headers["Cache-Control"] == "public, max-age=86400"
    table = _csv(pinned)
    assert len(table) == 25 and "CKS-010" in set(table["Mã / ID"])
    assert _sidecar(client, pinned)["url"].endswith(f"/download/checkpoints.csv?pub={old}")


# A restricted layer's refusal depends on who asks: private, without CORS (test_restricted_reads).
@pytest.mark.parametrize(("url", "status"), [
    ("/download/no_such_layer.csv", 404),
    ("/download/testing_sites.pdf", 404),
    ("/download/testing_sites.csv?unit=99999", 404),
    ("/download/testing_sites.csv?unit=74&set=nosuchset", 404),
    ("/download/testing_sites.csv?pub=abc", 400),
    ("/download/testing_sites.csv?pub=999999", 404),
    ("/download/pharmacies.csv", 404),  # public, but never published
])
def test_download_errors(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_publication_of_another_layer_is_refused(client, connection):
    assert client.get(f"/download/checkpoints.geojson?pub={_publication(connection, 'testing_sites')}"
                      ).status_code == 404


def test_whole_layer_and_units_of_the_other_set(client):
    assert len(_csv(client.get("/download/testing_sites.csv"))) == 40
    assert len(_csv(client.get("/download/testing_sites.csv?unit=74"))) == 40
    other = client.get("/download/testing_sites.csv?unit=40&set=vn2025")
    assert other.status_code == 200 and len(_csv(other)) == 0


# ------------------------------------------------------------------------------ CORS


@pytest.mark.parametrize("url", [
    "/download/testing_sites.csv", "/oembed?url=http://localhost/map/718", "/api/units?q=Ph%C3%BA",
    "/tiles/testing_sites.json", "/snapshot/718.png",
])
def test_public_read_only_routes_allow_any_origin(client, url):
    response = client.get(url, headers={"Origin": "https://bao.example.vn"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(url, headers={"Origin": "https://bao.example.vn",
                                             "Access-Control-Request-Method": "GET",
                                             "Access-Control-Request-Headers": "If-None-Match"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert int(preflight.headers["Access-Control-Max-Age"]) > 0


def test_pages_do_not_allow_other_origins(client):
    assert "Access-Control-Allow-Origin" not in client.get("/map/718").headers
    assert "Access-Control-Allow-Origin" not in client.get("/map/vn2021/718/van-ban").headers


def test_only_reads_are_opened_to_other_origins(client):
    origin = {"Origin": "https://bao.example.vn"}
    preflight = client.options("/api/units", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert "POST" not in preflight.headers["Access-Control-Allow-Methods"]
    write = client.post("/api/units?q=x", headers=origin)
    assert write.status_code in (400, 405)
    assert "Access-Control-Allow-Origin" not in write.headers
