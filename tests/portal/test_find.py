"""``/api/nearby`` (validation, GeoJSON, caching, CORS, rate limit) and the page ``/tim-diem`` without JS."""

from __future__ import annotations

import html as htmllib
import re
from datetime import datetime

import pytest
from sqlalchemy import text

from portal import create_app

PHU_CUONG = (10.98, 106.65)  # lat, lon in Thủ Dầu Một
NEAREST_TO_PHU_CUONG = "Trạm Y tế Phú Cường"
NEARBY = "/api/nearby"


def _nearby(client, **params):
    query = {"lat": PHU_CUONG[0], "lon": PHU_CUONG[1], "layer": "testing_sites"}
    query.update(params)
    return client.get(NEARBY, query_string={k: v for k, v in query.items() if v is not None})


def _names(page: str) -> list[str]:
    return [htmllib.unescape(n) for n in re.findall(r'<h3 class="site-name">(.*?)</h3>', page)]


def _zone_around(connection, lon: float, lat: float) -> None:
    """Publish (inside the test's transaction) a lockdown zone in force, with no end date."""
    publication = connection.execute(text(
        "INSERT INTO publication (layer_id, author, action, boundary_set, scope_code, scope_level)"
        " VALUES ('lockdown_zones', 'test', 'ingest', 'vn2021', '74', 'province') RETURNING id")).scalar_one()
    connection.execute(text(
        "INSERT INTO feature (layer_id, source_id, geom, props, content_hash, valid_from_pub)"
        " VALUES ('lockdown_zones', 'test-zone', ST_Buffer(ST_SetSRID(ST_MakePoint(:x, :y), 4326), 0.001),"
        " jsonb_build_object('name', 'Khu phố 1', 'decision_number', '1/QĐ', 'valid_from', '2021-01-01'),"
        " 'x', :p)"), {"x": lon, "y": lat, "p": publication})


# ---------------------------------------------------------------------------------------- the API


def test_nearby_is_geojson_sorted_by_distance_with_site_facts(client):
    response = _nearby(client, limit=5)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] in ("public, max-age=60", "max-age=60, public")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.json
    assert body["type"] == "FeatureCollection" and body["layer"] == "testing_sites" and "note" not in body
    features = body["features"]
    assert len(features) == 5
    distances = [f["properties"]["distance_m"] for f in features]
    assert distances == sorted(distances) and distances[0] < 1000
    first = features[0]
    assert first["type"] == "Feature" and first["geometry"]["type"] == "Point"
    props = first["properties"]
    assert props["name"] == NEAREST_TO_PHU_CUONG
    assert {"address", "hours", "phone", "distance_m", "open_now", "in_lockdown", "approximate",
            "updated", "stale"} <= set(props)
    assert "note" not in props  # not a public attribute
    assert props["open_now"] in (True, False) and props["in_lockdown"] is False
    assert props["stale"] is False and datetime.fromisoformat(props["updated"]).tzinfo is not None
    vaccination = _nearby(client, layer="vaccination_sites", limit=3).json["features"]
    assert [f["properties"]["open_now"] for f in vaccination] == [None] * 3  # no hours in that feed


def test_default_limit_and_largest_limit(client):
    assert len(_nearby(client).json["features"]) == 10
    assert len(_nearby(client, limit=100).json["features"]) == 40  # every demo testing site


def test_stale_after_the_configured_days(connection, database_url):
    connection.execute(text("UPDATE publication SET created_at = now() - interval '10 days'"
                            " WHERE layer_id = 'testing_sites'"))
    default = create_app({"bind": connection, "database_url": database_url}).test_client()
    assert _nearby(default, limit=1).json["features"][0]["properties"]["stale"] is True
    relaxed = create_app({"bind": connection, "database_url": database_url, "stale_days": 30}).test_client()
    assert _nearby(relaxed, limit=1).json["features"][0]["properties"]["stale"] is False


def test_lockdown_flag_and_exclusion(client, connection):
    _zone_around(connection, 106.651953, 10.980862)  # around Trạm Y tế Phú Cường
    flagged = _nearby(client, limit=2).json["features"]
    assert flagged[0]["properties"]["name"] == NEAREST_TO_PHU_CUONG
    assert [f["properties"]["in_lockdown"] for f in flagged] == [True, False]
    kept = _nearby(client, limit=2, exclude_lockdown=1).json["features"]
    assert kept[0]["id"] == flagged[1]["id"] and len(kept) == 2


def test_open_now_filter_keeps_only_open_sites(client):
    features = _nearby(client, open_now="true", limit=100).json["features"]
    assert all(f["properties"]["open_now"] is True for f in features)
    assert _nearby(client, layer="vaccination_sites", open_now=1).json["features"] == []


@pytest.mark.parametrize(("params", "mentions"), [
    ({"lat": None}, "lat"),
    ({"lon": None}, "lon"),
    ({"lat": ""}, "lat"),
    ({"lat": "abc"}, "lat"),
    ({"lon": "106,65"}, "lon"),
    ({"lat": "nan"}, "lat"),
    ({"lat": "inf"}, "lat"),
    ({"lat": "91"}, "lat"),
    ({"lat": "-90.5"}, "lat"),
    ({"lon": "180.01"}, "lon"),
    ({"layer": None}, "layer"),
    ({"layer": "nope"}, "layer"),
    ({"layer": "lockdown_zones"}, "layer"),  # polygons
    ({"layer": "home_isolation"}, "layer"),  # not public
    ({"layer": "../feature"}, "layer"),
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "-1"}, "limit"),
    ({"limit": "1.5"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"open_now": "maybe"}, "open_now"),
    ({"exclude_lockdown": "2"}, "exclude_lockdown"),
])
def test_invalid_parameters_are_400_in_both_languages(client, params, mentions):
    response = _nearby(client, **params)
    assert response.status_code == 400
    body = response.json
    assert body["status"] == 400 and mentions in body["error_vi"] and mentions in body["error_en"]
    assert body["error"] == body["error_vi"] and "tham số" in body["error_vi"].lower()
    assert "parameter" in body["error_en"].lower()
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    english = _nearby(client, lang="en", **params).json
    assert english["error"] == english["error_en"]


def test_far_away_point_is_an_empty_list_with_a_note(client):
    response = _nearby(client, lat=21.03, lon=105.85)  # Hà Nội
    assert response.status_code == 200
    body = response.json
    assert body["features"] == []
    assert "50 km" in body["note_vi"] and "outside" in body["note_en"] and body["note"] == body["note_vi"]
    assert _nearby(client, lat=21.03, lon=105.85, lang="en").json["note"] == body["note_en"]
    # Hồ Chí Minh City's centre is outside the province but within 50 km of it: sites are listed.
    assert _nearby(client, lat=10.776, lon=106.70).json["features"]


def test_rate_limit_answers_429_in_both_languages(connection, database_url):
    app = create_app({"bind": connection, "database_url": database_url, "api_rate_limit": "3/minute"})
    client = app.test_client()
    first = _nearby(client, limit=1)
    assert (first.status_code, first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) \
        == (200, "3", "2")
    assert _nearby(client, limit=1).status_code == 200
    assert client.get("/api/ping").status_code == 200  # one limit for the whole API
    response = _nearby(client, limit=1)
    assert response.status_code == 429
    body = response.json
    assert body["status"] == 429 and body["error_vi"].startswith("Bạn đã gửi quá nhiều yêu cầu")
    assert body["error_en"].startswith("Too many requests")
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/api/ping", query_string={"lang": "en"}).json["error"] == body["error_en"]
    page = client.get("/tim-diem")
    assert page.status_code == 200 and "X-RateLimit-Limit" not in page.headers  # pages are not limited
    other_client = client.get("/api/ping", environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert other_client.status_code == 200  # per client IP


def test_rate_limit_can_be_raised_or_turned_off(connection, database_url):
    for limit in ("1000/minute", ""):
        client = create_app({"bind": connection, "database_url": database_url,
                             "api_rate_limit": limit}).test_client()
        assert {client.get("/api/ping").status_code for _ in range(150)} == {200}
    with pytest.raises(ValueError):
        create_app({"bind": connection, "database_url": database_url, "api_rate_limit": "lots"})


# ---------------------------------------------------------------------------------------- the page


@pytest.mark.parametrize("query", ["Phú Cường", "phu cuong", "P. Phú Cường"])
def test_page_lists_the_nearest_sites_to_a_commune_without_javascript(client, query):
    response = client.get("/tim-diem", query_string={"kind": "testing", "q": query})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Gần trung tâm Phường Phú Cường" in page
    names = _names(page)
    assert len(names) == 10 and names[0] == NEAREST_TO_PHU_CUONG
    first = page[page.index('<li class="site'):page.index("</li>", page.index('<li class="site'))]
    assert re.search(r'<span class="site-distance">\d+ m</span>', first)
    assert "Số 96 đường ĐT703" in first and "7h00 - 17h00 (T2-CN)" in first
    assert 'href="tel:+849838368713">09838368713</a>' in first
    assert re.search(r'href="geo:10\.980862,106\.651953"', first)
    assert "https://www.openstreetmap.org/directions?to=10.980862,106.651953" in first
    assert "mlat=10.980862&amp;mlon=106.651953#map=17/10.980862/106.651953" in first
    assert re.search(r"(Đang mở cửa|Đã đóng cửa)</span>", first)
    assert re.search(r"cập nhật (vừa xong|\d+ phút trước)", first)
    assert "gọi trước để xác nhận" not in first and "vùng phong tỏa:" not in first
    assert re.search(r'<span class="site-distance">\d+,\d km</span>', page)  # farther ones in km


def test_the_same_page_in_english_at_find(client):
    page = client.get("/find", query_string={"q": "phu cuong", "lang": "en"}).get_data(as_text=True)
    assert "Near the centre of Phường Phú Cường" in page
    assert re.search(r"(Open now|Closed now)</span>", page) and re.search(r"\d\.\d km", page)
    assert "Use my location" in page and 'lang="en"' in page


def test_ambiguous_name_lists_candidates_with_their_district(client):
    page = client.get("/tim-diem", query_string={"q": "Tân Bình", "kind": "vaccination"})
    page = page.get_data(as_text=True)
    assert "Bạn muốn tìm gần đâu?" in page and _names(page) == []
    candidates = re.findall(
        r'<li><a href="([^"]+)" data-code="(\d+)">([^<]+)</a> <span class="muted">— ([^<]+)</span>', page)
    assert {(code, name, district) for _, code, name, district in candidates} == {
        ("25900", "Thị trấn Tân Bình", "Thị xã Tân Uyên"), ("25945", "Phường Tân Bình", "Thành phố Dĩ An")}
    link = htmllib.unescape(next(href for href, code, _, _ in candidates if code == "25945"))
    assert "kind=vaccination" in link
    chosen = client.get(link).get_data(as_text=True)
    assert "Gần trung tâm Phường Tân Bình" in chosen and len(_names(chosen)) == 10


def test_unknown_place_empty_layer_and_bad_kind(client):
    assert "Không tìm thấy xã, phường hoặc huyện có tên này." in client.get(
        "/tim-diem", query_string={"q": "Nowhere at all"}).get_data(as_text=True)
    empty = client.get("/tim-diem", query_string={"q": "phu cuong", "kind": "pharmacy"})
    empty = empty.get_data(as_text=True)
    assert "Không có điểm nào phù hợp." in empty and _names(empty) == []
    assert client.get("/tim-diem", query_string={"kind": "spa"}).status_code == 400
    blank = client.get("/tim-diem").get_data(as_text=True)
    assert "Dùng vị trí của tôi" in blank and _names(blank) == [] and 'id="find-locate"' in blank


def test_page_warns_of_lockdowns_and_stale_data(client, connection):
    _zone_around(connection, 106.651953, 10.980862)
    connection.execute(text("UPDATE publication SET created_at = now() - interval '9 days'"
                            " WHERE layer_id = 'testing_sites'"))
    page = client.get("/tim-diem", query_string={"q": "phu cuong"}).get_data(as_text=True)
    first = page[page.index('<li class="site in-lockdown'):]
    first = first[:first.index("</li>")]
    assert "Nằm trong vùng phong tỏa" in first
    assert "cập nhật 9 ngày trước — gọi trước để xác nhận" in first
    skipped = client.get("/tim-diem", query_string={"q": "phu cuong", "exclude_lockdown": "1"})
    assert NEAREST_TO_PHU_CUONG not in _names(skipped.get_data(as_text=True))
    english = client.get("/find", query_string={"q": "phu cuong", "lang": "en"}).get_data(as_text=True)
    assert "updated 9 days ago — call to confirm" in english


def test_top_bar_links_to_the_page(client):
    assert 'href="/tim-diem"' in client.get("/map/25747").get_data(as_text=True)


def test_a_typo_close_to_a_commune_name_suggests_it(client):
    page = client.get("/tim-diem?q=phu+cuog").get_data(as_text=True)
    assert "Có phải bạn muốn tìm" in page
    assert re.search(r'<a href="[^"]*code=25747[^"]*" data-code="25747">Phường Phú Cường</a>', page)
    nothing = client.get("/tim-diem?q=zzzzqqq").get_data(as_text=True)
    assert "Không tìm thấy xã, phường hoặc huyện có tên này." in nothing and "data-code=" not in nothing


# ----------------------------------------------------------------------- closed sites, test types

DAY_TOKENS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")


def _site_open_only_tomorrow(connection, lon: float, lat: float) -> datetime:
    """Publish a testing site right at a point, open only tomorrow 7h-17h; return tomorrow 7:00."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    tomorrow = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(days=1)
    publication = connection.execute(text(
        "INSERT INTO publication (layer_id, author, action, boundary_set, scope_code, scope_level)"
        " VALUES ('testing_sites', 'test', 'ingest', 'vn2021', '74', 'province') RETURNING id")).scalar_one()
    connection.execute(text(
        "INSERT INTO feature (layer_id, source_id, geom, props, content_hash, valid_from_pub)"
        " VALUES ('testing_sites', 'closed-today', ST_SetSRID(ST_MakePoint(:x, :y), 4326),"
        " jsonb_build_object('name', 'Điểm chỉ mở ngày mai', 'hours', CAST(:hours AS text),"
        "                    'test_types', 'RT-PCR, test nhanh kháng nguyên'), 'x', :p)"),
        {"x": lon, "y": lat, "p": publication, "hours": f"{DAY_TOKENS[tomorrow.weekday()]}, 7h-17h"})
    return tomorrow.replace(hour=7, minute=0, second=0, microsecond=0)


def test_a_closed_site_says_when_it_opens_and_which_tests_it_does(connection, client):
    opening = _site_open_only_tomorrow(connection, PHU_CUONG[1], PHU_CUONG[0])
    first = _nearby(client, limit=1).json["features"][0]["properties"]
    assert first["name"] == "Điểm chỉ mở ngày mai" and first["open_now"] is False
    assert datetime.fromisoformat(first["opens_at"]) == opening
    assert first["test_types"] == "RT-PCR, test nhanh kháng nguyên"
    page = htmllib.unescape(client.get("/tim-diem?q=Phu+Cuong").get_data(as_text=True))
    weekday = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")[opening.weekday()]
    assert f"Mở cửa lại: {weekday} 07:00" in page
    assert "Hình thức xét nghiệm: RT-PCR, test nhanh kháng nguyên" in page
    english = htmllib.unescape(client.get("/tim-diem?q=Phu+Cuong&lang=en").get_data(as_text=True))
    assert f"Opens again: {opening.strftime('%A')} 07:00" in english


def test_kinds_without_data_are_not_offered_and_an_old_link_says_so(client):
    page = htmllib.unescape(client.get("/tim-diem").get_data(as_text=True))
    offered = re.findall(r'<option value="(\w+)"', page)
    assert offered[:2] == ["testing", "vaccination"] and "pharmacy" not in offered  # the demo has none
    old_link = htmllib.unescape(client.get("/tim-diem?kind=pharmacy&q=Phu+Cuong").get_data(as_text=True))
    assert "Chưa có dữ liệu “Nhà thuốc” trong khu vực này." in old_link
    assert '<h3 class="site-name">' not in old_link
