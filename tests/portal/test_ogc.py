"""OGC API – Features under /ogc: documents and links, items and their filters, HTML, GDAL as a client."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest
from openapi_spec_validator import validate
from sqlalchemy import text

from layers.catalog import default_catalog
from portal.ogc.openapi import openapi_path, public_rules
from tests.ingest.helpers import SAMPLES, run

PUBLIC = [layer.id for layer in default_catalog().feature_layers() if layer.public]
ITEMS = "/ogc/collections/testing_sites/items"
CONFORMANCE = {f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{c}"
               for c in ("core", "geojson", "html", "oas30")}


def _path(href: str) -> str:
    """The path and query of a link (links are absolute)."""
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _links(doc: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for link in doc["links"]:
        found.setdefault(link["rel"], []).append(link)
    return found


def _count(connection, layer: str, where: str = "true", **params) -> int:
    return connection.execute(text(
        f"SELECT count(*) FROM feature f WHERE f.layer_id = :l AND f.valid_to_pub IS NULL AND {where}"),  # noqa: S608
        {"l": layer, **params}).scalar_one()


# ------------------------------------------------------------------------------ documents


def test_landing_page_links_to_the_api_definition_conformance_and_collections(client):
    response = client.get("/ogc")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    links = _links(response.json)
    assert links["self"][0]["type"] == "application/json"
    assert links["alternate"][0]["type"] == "text/html"
    assert links["service-desc"][0]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert _path(links["service-desc"][0]["href"]) == "/openapi.json"
    assert _path(links["conformance"][0]["href"]).startswith("/ogc/conformance")
    assert _path(links["data"][0]["href"]).startswith("/ogc/collections")
    for rel in ("self", "alternate", "service-desc", "conformance", "data"):
        assert client.get(_path(links[rel][0]["href"])).status_code == 200, rel
    assert client.get("/ogc/").json == response.json


def test_conformance_declares_core_geojson_html_and_oas30(client):
    assert set(client.get("/ogc/conformance").json["conformsTo"]) == CONFORMANCE


def test_collections_are_the_public_layers_with_their_current_extent(client, connection):
    body = client.get("/ogc/collections").json
    assert [c["id"] for c in body["collections"]] == PUBLIC
    assert "home_isolation" not in {c["id"] for c in body["collections"]}
    testing = next(c for c in body["collections"] if c["id"] == "testing_sites")
    row = connection.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom)::geometry AS e"
        " FROM feature WHERE layer_id = 'testing_sites' AND valid_to_pub IS NULL) q")).one()
    assert testing["extent"]["spatial"]["bbox"] == [pytest.approx(list(row))]
    assert testing["extent"]["spatial"]["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    start, end = testing["extent"]["temporal"]["interval"][0]
    assert start.endswith("Z") and end is None
    empty = next(c for c in body["collections"] if c["id"] == "pharmacies")  # nothing published yet
    assert "extent" not in empty


def test_a_collection_has_its_links_item_type_and_crs(client):
    response = client.get("/ogc/collections/testing_sites")
    body = response.json
    assert body["id"] == "testing_sites" and body["title"] == "Điểm xét nghiệm"
    assert body["itemType"] == "feature"
    assert body["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    items = _links(body)["items"]
    assert {link["type"] for link in items} == {"application/geo+json", "text/html"}
    geojson = next(link for link in items if link["type"] == "application/geo+json")
    assert client.get(_path(geojson["href"])).mimetype == "application/geo+json"
    assert client.get("/ogc/collections/testing_sites?lang=en").json["title"] == "Testing sites"


# ------------------------------------------------------------------------------ items


def test_items_are_a_geojson_page_of_public_attributes(client, connection):
    response = client.get(ITEMS)
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = json.loads(response.data)
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == _count(connection, "testing_sites") == 40
    assert body["numberReturned"] == len(body["features"]) == 10
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["timeStamp"])
    public = set(default_catalog().layer("testing_sites").public_attributes)
    for feature in body["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        assert set(feature["properties"]) == public  # "note" is private
    ids = [f["id"] for f in body["features"]]
    assert ids == sorted(ids)
    links = _links(body)
    assert {"self", "alternate", "collection", "next"} <= set(links) and "prev" not in links


def test_paging_follows_next_links_to_the_end(client, connection):
    url, seen, pages = f"{ITEMS}?limit=7", [], 0
    while url:
        body = json.loads(client.get(url).data)
        assert body["numberMatched"] == 40
        seen += [f["id"] for f in body["features"]]
        pages += 1
        if pages > 1:
            assert "prev" in _links(body)
        nxt = _links(body).get("next")
        url = _path(nxt[0]["href"]) if nxt else None
        if url:
            assert "limit=7" in url
    assert pages == 6
    assert len(seen) == len(set(seen)) == _count(connection, "testing_sites")
    last = json.loads(client.get(f"{ITEMS}?limit=7&offset=35").data)
    assert last["numberReturned"] == 5
    assert _path(_links(last)["prev"][0]["href"]).endswith("offset=28&f=json")
    beyond = json.loads(client.get(f"{ITEMS}?offset=1000").data)
    assert beyond["features"] == [] and beyond["numberMatched"] == 40


def test_paging_keeps_the_filters(client):
    body = json.loads(client.get(f"{ITEMS}?bbox=106.3,10.8,107.0,11.5&test_types=RT-PCR&limit=2").data)
    nxt = _path(_links(body)["next"][0]["href"])
    assert "bbox=106.3,10.8,107.0,11.5" in nxt and "test_types=RT-PCR" in nxt and "offset=2" in nxt


def test_bbox_returns_the_features_in_the_box(client, connection):
    box = (106.6, 10.9, 106.75, 11.05)  # around Thủ Dầu Một and Thuận An
    body = json.loads(client.get(f"{ITEMS}?bbox={','.join(map(str, box))}&limit=100").data)
    expected = _count(connection, "testing_sites",
                      "ST_Intersects(geom, ST_MakeEnvelope(:w, :s, :e, :n, 4326))",
                      w=box[0], s=box[1], e=box[2], n=box[3])
    assert 0 < body["numberMatched"] == body["numberReturned"] == expected < 40
    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]
    assert json.loads(client.get(f"{ITEMS}?bbox=100,20,100.1,20.1").data)["numberMatched"] == 0


def test_polygons_intersecting_the_box_are_returned(client, connection):
    box = (106.70, 10.93, 106.72, 10.95)
    url = f"/ogc/collections/lockdown_zones/items?bbox={','.join(map(str, box))}"
    body = json.loads(client.get(url).data)
    expected = connection.execute(text(
        "SELECT count(*) FROM feature WHERE layer_id = 'lockdown_zones' AND valid_to_pub IS NULL"
        " AND ST_Intersects(geom, ST_MakeEnvelope(106.70, 10.93, 106.72, 10.95, 4326))")).scalar_one()
    assert body["numberMatched"] == expected >= 1
    assert body["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_property_filters_compare_the_attribute_text(client, connection):
    body = json.loads(client.get(f"{ITEMS}?test_types=RT-PCR&limit=100").data)
    expected = _count(connection, "testing_sites", "props ->> 'test_types' = 'RT-PCR'")
    assert 0 < body["numberMatched"] == expected < 40
    assert {f["properties"]["test_types"] for f in body["features"]} == {"RT-PCR"}
    name = body["features"][0]["properties"]["name"]
    both = json.loads(client.get(ITEMS, query_string={"test_types": "RT-PCR", "name": name}).data)
    assert [f["properties"]["name"] for f in both["features"]] == [name]
    hostile = json.loads(client.get(ITEMS, query_string={"name": "x' OR '1'='1"}).data)
    assert hostile["numberMatched"] == 0


@pytest.mark.parametrize("query", [
    "bbox=1,2,3", "bbox=a,b,c,d", "bbox=106,11,107", "bbox=106,12,107,11", "bbox=106,10,107,95",
    "bbox=nan,1,2,3", "bbox=1,2,3,4,5,6", "limit=0", "limit=-1", "limit=abc", "limit=1.5", "offset=-1",
    "offset=x", "datetime=yesterday", "datetime=2021-08-01T00:00:00",
    "datetime=2021-08-02T00:00:00Z/2021-08-01",
    "datetime=2021-02-30", "datetime=a/b/c", "f=xml", "unknown=1", "bbox-crs=EPSG:4326", "note=x",
    "properties=name", "limit=1&limit=2",
])
def test_invalid_or_unknown_parameters_are_400_exceptions(client, query):
    response = client.get(f"{ITEMS}?{query}")
    assert response.status_code == 400, query
    assert response.mimetype == "application/json"
    assert response.json["code"] == "InvalidParameterValue"
    assert response.json["error_vi"] and response.json["error_en"] and response.json["description"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_large_limit_is_capped_not_refused(client):
    body = json.loads(client.get(f"{ITEMS}?limit=1000000").data)
    assert body["numberReturned"] == 40


def test_an_item_by_its_id(client, connection):
    source_id = connection.execute(text(
        "SELECT source_id FROM feature WHERE layer_id = 'testing_sites' AND valid_to_pub IS NULL"
        " ORDER BY source_id LIMIT 1")).scalar_one()
    assert " " in source_id and "@" in source_id  # ids made from name and commune: encode them
    response = client.get(f"{ITEMS}/{quote(source_id, safe='')}")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    body = json.loads(response.data)
    assert body["id"] == source_id and body["type"] == "Feature"
    assert set(body["properties"]) == set(default_catalog().layer("testing_sites").public_attributes)
    links = _links(body)
    assert {"self", "alternate", "collection"} <= set(links)
    assert json.loads(client.get(_path(links["self"][0]["href"])).data)["id"] == source_id
    listed = json.loads(client.get(f"{ITEMS}?limit=1").data)["features"][0]
    assert listed == {k: v for k, v in body.items() if k != "links"}


def test_ids_with_slashes_and_hashes_are_reachable(client, connection):
    connection.execute(text("UPDATE feature SET source_id = 'A/B#1 x' WHERE id = (SELECT min(id) FROM feature"
                            " WHERE layer_id = 'checkpoints' AND valid_to_pub IS NULL)"))
    response = client.get(f"/ogc/collections/checkpoints/items/{quote('A/B#1 x', safe='')}")
    assert response.status_code == 200 and json.loads(response.data)["id"] == "A/B#1 x"


@pytest.mark.parametrize("url", [
    f"{ITEMS}/no-such-id", "/ogc/collections/home_isolation", "/ogc/collections/home_isolation/items",
    "/ogc/collections/home_isolation/items/x", "/ogc/collections/no_such_layer/items",
    "/ogc/collections/admin_unit",
])
def test_unknown_and_restricted_are_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.json["code"] == "NotFound"


def test_a_restricted_layer_never_appears(client, connection, tmp_path):
    path = tmp_path / "ho.csv"
    path.write_text("Họ tên chủ hộ,Địa chỉ,Vĩ độ,Kinh độ\nNguyễn Văn A,Số 1,10.98,106.65\n", encoding="utf-8")
    assert run(connection, path, "home_isolation").publication
    assert "home_isolation" not in client.get("/ogc/collections").get_data(as_text=True)
    assert client.get("/ogc/collections/home_isolation/items").status_code == 404
    source_id = connection.execute(text(
        "SELECT source_id FROM feature WHERE layer_id = 'home_isolation'")).scalar_one()
    assert client.get(f"/ogc/collections/home_isolation/items/{quote(source_id, safe='')}").status_code == 404
    assert "home_isolation" not in json.dumps(client.get("/openapi.json").json["paths"])


def test_signed_in_officials_get_no_restricted_layer_either(client, connection, tmp_path, monkeypatch):
    """Tiles show restricted layers to signed-in viewers; this public, cacheable API never does."""
    from officials import accounts
    from tests.portal.console.helpers import FAST_HASHER, make_account, sign_in

    monkeypatch.setattr(accounts, "_hasher", FAST_HASHER)
    path = tmp_path / "ho.csv"
    path.write_text("Họ tên chủ hộ,Địa chỉ,Vĩ độ,Kinh độ\nNguyễn Văn A,Số 1,10.98,106.65\n", encoding="utf-8")
    assert run(connection, path, "home_isolation").publication
    make_account(connection, "viewer@soyte.vn", "viewer", "74")
    sign_in(client, "viewer@soyte.vn")
    assert client.get("/tiles/home_isolation.json").status_code == 200  # signed in indeed
    assert client.get("/ogc/collections/home_isolation").status_code == 404
    assert client.get("/ogc/collections/home_isolation/items").status_code == 404
    assert "home_isolation" not in client.get("/ogc/collections").get_data(as_text=True)


def test_private_attributes_are_absent(client, connection):
    stored = connection.execute(text(
        "SELECT count(*) FROM feature WHERE layer_id = 'quarantine_facilities' AND props ? 'occupancy'"
        " AND valid_to_pub IS NULL")).scalar_one()
    assert stored > 0
    for fmt in ("json", "html"):
        url = f"/ogc/collections/quarantine_facilities/items?limit=100&f={fmt}"
        data = client.get(url).get_data(as_text=True)
        assert "occupancy" not in data and "Đang cách ly" not in data
    body = json.loads(client.get("/ogc/collections/quarantine_facilities/items?limit=100").data)
    assert all("capacity" in f["properties"] and "occupancy" not in f["properties"] for f in body["features"])
    assert client.get("/ogc/collections/quarantine_facilities/items?occupancy=1").status_code == 400


# ------------------------------------------------------------------------------ datetime


def _checkpoints_changed(tmp_path):
    """The checkpoints feed with CKS-001's status changed and the last row removed."""
    rows = list(csv.reader((SAMPLES / "chot_kiem_soat.csv").read_text(encoding="cp1258").splitlines()))
    rows[1][5] = "Đã giải tỏa hôm nay"
    removed = rows.pop(2)[0]  # CKS-002
    path = tmp_path / "chot.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return path, removed


def _status(client, query: str) -> tuple[dict[str, str], int]:
    body = json.loads(client.get(f"/ogc/collections/checkpoints/items?limit=100&{query}").data)
    return {f["id"]: f["properties"]["status"] for f in body["features"]}, body["numberMatched"]


def _stamp(moment) -> str:
    return quote(moment.isoformat(), safe="")


def test_datetime_returns_the_layer_as_it_was(client, connection, tmp_path):
    before = connection.execute(text(
        "SELECT max(created_at) FROM publication WHERE layer_id = 'checkpoints'")).scalar_one()
    path, removed = _checkpoints_changed(tmp_path)
    report = run(connection, path, "checkpoints")
    assert report.diff.changed == 1 and report.diff.removed == 1
    after = connection.execute(text("SELECT created_at FROM publication WHERE id = :p"),
                               {"p": report.publication}).scalar_one()
    assert after > before

    now, count_now = _status(client, "")
    assert now["CKS-001"] == "Đã giải tỏa hôm nay" and removed not in now and count_now == 24
    then, count_then = _status(client, f"datetime={_stamp(before)}")
    assert then["CKS-001"] == "Đang hoạt động" and removed in then and count_then == 25
    assert _status(client, f"datetime=..%2F{_stamp(before)}")[0] == then
    between = before + (after - before) / 2
    assert _status(client, f"datetime={_stamp(between)}")[0] == then
    assert _status(client, f"datetime={_stamp(after)}")[0] == now
    assert _status(client, "datetime=2999-01-01T00:00:00Z")[0] == now
    assert _status(client, "datetime=2000-01-01T00:00:00Z") == ({}, 0)  # before the first publication
    # A/..: the current features published from A on: the changed one only.
    changed, count = _status(client, f"datetime={_stamp(after)}%2F..")
    assert changed == {"CKS-001": "Đã giải tỏa hôm nay"} and count == 1
    # A/B: as it was at B, published from A on.
    assert _status(client, f"datetime={_stamp(before - timedelta(days=1))}%2F{_stamp(before)}")[1] == 25
    assert _status(client, f"datetime={_stamp(between)}%2F{_stamp(between)}")[1] == 0
    # The item endpoint serves the current version.
    item = json.loads(client.get("/ogc/collections/checkpoints/items/CKS-001").data)
    assert item["properties"]["status"] == "Đã giải tỏa hôm nay"
    assert client.get(f"/ogc/collections/checkpoints/items/{removed}").status_code == 404


def test_datetime_accepts_dates_and_open_intervals(client):
    assert _status(client, "datetime=2000-01-01")[1] == 0
    assert _status(client, "datetime=2999-01-01")[1] == 25
    assert _status(client, "datetime=2000-01-01%2F..")[1] == 25
    assert _status(client, "datetime=..%2F..")[1] == 25
    assert _status(client, "datetime=%2F2999-01-01T00:00:00%2B07:00")[1] == 25


# ------------------------------------------------------------------------------ HTML


def test_html_by_parameter_or_accept_header(client):
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    for url in ("/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/testing_sites", ITEMS):
        page = client.get(url, headers=browser)
        assert page.status_code == 200 and page.mimetype == "text/html", url
        assert client.get(url, headers={**browser, "Accept": "application/json"}).mimetype != "text/html"
        assert client.get(f"{url}?f=html").mimetype == "text/html"
        assert client.get(f"{url}?f=json", headers=browser).mimetype != "text/html"


def test_items_html_is_a_table_with_paging(client, connection):
    html = client.get(f"{ITEMS}?f=html&limit=5").get_data(as_text=True)
    assert "<table" in html and "Bệnh viện đa khoa An Bình" in html
    assert "Hiển thị 1–5 trong 40 đối tượng." in html
    assert 'rel="next"' in html and "offset=5" in html and 'rel="prev"' not in html
    assert "Ghi chú" not in html  # the private note's label
    english = client.get(f"{ITEMS}?f=html&limit=5&lang=en").get_data(as_text=True)
    assert "Showing 1–5 of 40 features." in english and "Opening hours" in english
    empty = client.get(f"{ITEMS}?f=html&bbox=100,20,100.1,20.1&lang=vi").get_data(as_text=True)
    assert "Không có đối tượng nào khớp." in empty


def test_item_and_landing_html(client, connection):
    source_id = json.loads(client.get(f"{ITEMS}?limit=1").data)["features"][0]["id"]
    html = client.get(f"{ITEMS}/{quote(source_id, safe='')}?f=html").get_data(as_text=True)
    assert "Bệnh viện đa khoa An Bình" in html and "106.818036, 11.358004" in html
    landing = client.get("/ogc?f=html").get_data(as_text=True)
    assert "/openapi.json" in landing and "/ogc/collections" in landing
    collections = client.get("/ogc/collections?f=html").get_data(as_text=True)
    assert "ogc-collections" in collections and "Điểm xét nghiệm" in collections


def test_html_errors_for_browsers(client):
    page = client.get("/ogc/collections/home_isolation", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    bad = client.get(f"{ITEMS}?limit=0&f=html")
    assert bad.status_code == 400 and bad.mimetype == "text/html"


# ------------------------------------------------------------------------------ OpenAPI


def test_the_openapi_document_validates_and_describes_every_public_route(client, app):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.oai.openapi+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.json
    validate(document)
    rules = public_rules(app)
    assert set(document["paths"]) == {openapi_path(rule) for rule in rules}
    for path in ("/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/{layer_id}",
                 "/ogc/collections/{layer_id}/items", "/ogc/collections/{layer_id}/items/{feature_id}",
                 "/tiles/{layer_id}.json", "/api/units", "/openapi.json"):
        assert path in document["paths"], path
    items = document["paths"]["/ogc/collections/{layer_id}/items"]["get"]
    params = {p["name"]: p for p in items["parameters"]}
    assert {"bbox", "limit", "offset", "datetime", "f"} <= set(params)
    # A larger limit is capped, never refused (as the standard asks), so it is not the schema's maximum.
    assert "capped at 10000" in params["limit"]["description"] and params["limit"]["schema"]["default"] == 10
    assert "maximum" not in params["limit"]["schema"]
    assert "as of the layer's latest publication at or before T" in params["datetime"]["description"]
    assert "home_isolation" not in json.dumps(document)


# ------------------------------------------------------------------------------ a real client: GDAL


def _ogrinfo(*args: str) -> str:
    if shutil.which("ogrinfo") is None:
        pytest.fail("ogrinfo (gdal-bin) is required")
    done = subprocess.run(["ogrinfo", "-ro", *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gdal_lists_the_collections(live_server):
    out = _ogrinfo("-so", f"OAPIF:{live_server}/ogc")
    listed = re.findall(r"^\d+: (\w+)", out, re.MULTILINE)
    assert listed == PUBLIC


def test_gdal_reads_a_collection_with_the_right_count(live_server, engine):
    with engine.connect() as conn:
        expected = _count(conn, "testing_sites")
    out = _ogrinfo("-al", "-so", f"OAPIF:{live_server}/ogc/collections/testing_sites")
    assert f"Feature Count: {expected}" in out
    assert "Geometry: Point" in out and "name: String" in out and "note:" not in out
    features = _ogrinfo("-al", "-q", f"OAPIF:{live_server}/ogc", "testing_sites")
    assert features.count("OGRFeature(testing_sites)") == expected
