"""The public request counts: per commune and kind in downloads, on map pages and in embeds."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import text

from dispatch import workflow
from epimap.db import session_scope
from tests.dispatch.helpers import NOW, file_request
from tests.portal.console.helpers import make_account


@pytest.fixture
def filed(connection):
    """Three requests in Phường Hiệp Thành (two food, one resolved in 2 h; one medical) and one elsewhere."""
    operator = make_account(connection, "op@binhduong.vn", "operator", "74")
    food = file_request(connection, phone="0911111111")
    file_request(connection, phone="0922222222", at=NOW + timedelta(hours=7))
    file_request(connection, kind="medical", phone="0933333333")
    file_request(connection, commune="Phường Phú Cường", phone="0944444444")
    with session_scope(connection) as session:
        workflow.move(session, operator, food.id, "resolved", NOW + timedelta(hours=2))


def _csv(client, query: str = "") -> pd.DataFrame:
    response = client.get(f"/download/citizen_requests.csv{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return pd.read_csv(io.BytesIO(response.data), comment="#", encoding="utf-8-sig", dtype={0: str})


def test_the_csv_counts_each_kind_in_each_commune_and_pandas_reads_it(client, filed):
    table = _csv(client, "?unit=718")
    rows = {(r["Mã xã / Commune code"], r["Mã loại / Kind code"]): r for _, r in table.iterrows()}
    food = rows[("25741", "food")]
    assert (food["Đang mở / Open"], food["Đã giải quyết / Resolved"]) == (1, 1)
    assert food["Trung vị giờ giải quyết / Median hours to resolve"] == 2.0
    assert food["Xã / Commune"] == "Phường Hiệp Thành"
    assert food["Loại / Kind"] == "Thực phẩm, nhu yếu phẩm / Food and essentials"
    assert rows[("25741", "medical")]["Đang mở / Open"] == 1
    assert sum(table["Đang mở / Open"]) + sum(table["Đã giải quyết / Resolved"]) == 4
    assert list(table.columns)[-2:] == ["Kinh độ xã / Commune lon", "Vĩ độ xã / Commune lat"]


def test_a_commune_counts_only_its_own_requests(client, filed):
    table = _csv(client, "?unit=25741")
    assert set(table["Mã xã / Commune code"]) == {"25741"}
    assert sum(table["Đang mở / Open"]) + sum(table["Đã giải quyết / Resolved"]) == 3


def test_the_geojson_has_one_point_per_commune_at_its_label_point(client, connection, filed):
    response = client.get("/download/citizen_requests.geojson?unit=74")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/geo+json"
    body = json.loads(response.data)
    assert body["type"] == "FeatureCollection" and body["metadata"]["layer"] == "citizen_requests"
    features = {f["properties"]["commune_code"]: f for f in body["features"]}
    hiep_thanh = features["25741"]
    assert (hiep_thanh["properties"]["open"], hiep_thanh["properties"]["resolved"]) == (2, 1)
    assert hiep_thanh["properties"]["kinds"]["food"]["median_hours_to_resolve"] == 2.0
    label = connection.execute(text("SELECT ST_X(label_point) AS lon, ST_Y(label_point) AS lat"
                                    " FROM admin_unit WHERE boundary_set = 'vn2021'"
                                    " AND code = '25741'")).one()
    assert hiep_thanh["geometry"]["coordinates"] == [round(label.lon, 5), round(label.lat, 5)]


def test_an_unknown_unit_is_a_404(client):
    assert client.get("/download/citizen_requests.csv?unit=99999").status_code == 404


def test_the_map_page_offers_the_counts_switched_off(client, filed):
    html = client.get("/map/718").get_data(as_text=True)
    assert "epimap.addRequestCounts(" in html and "epimap.addRequestCountsControl(" in html
    assert "/download/citizen_requests.geojson?unit=718" in html
    meta = json.loads(html.split("epimap.addRequestCounts(", 1)[1].split(", ", 1)[1].split(");", 1)[0])
    assert meta["shown"] is False and meta["count"] == 4
    assert meta["title"] == "Yêu cầu hỗ trợ theo xã/phường"


def test_an_embed_shows_the_counts_when_named_and_leaves_them_out_otherwise(client, filed):
    named = client.get("/embed/718?layers=citizen_requests").get_data(as_text=True)
    meta = json.loads(named.split("epimap.addRequestCounts(", 1)[1].split(", ", 1)[1].split(");", 1)[0])
    assert meta["shown"] is True
    assert "epimap.addRequestCounts(" in client.get("/embed/718").get_data(as_text=True)
    other = client.get("/embed/718?layers=testing_sites")
    assert other.status_code == 200 and "epimap.addRequestCounts(" not in other.get_data(as_text=True)
