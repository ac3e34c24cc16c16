"""Privacy of the public doors: a citizen's phone, name, address, text and exact point never leave.

A request is sent through the form with distinctive values; then every public answer that speaks
of requests (the code and follow pages, the map pages with the counts, the embed, the downloads,
the tiles under the point) is searched, byte for byte, for any of them.  Purging the personal data
keeps the counts.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import text

from dispatch import retention, workflow
from epimap.db import session_scope
from tests.portal.console.helpers import make_account
from tests.portal.requests.helpers import form_token, jpeg_with_exif, sent_ref, stored, valid_form
from tests.portal.test_tiles import tile_of

PHONE_FORMS = ("0987654321", "0987 654 321", "0987.654.321", "0987-654-321", "+84987654321", "84987654321",
               "+84 987 654 321", "987654321", "987 654 321")
NAME = "Phạm Thị Riêngtư"
ADDRESS = "Số 77 hẻm Bíẩn khu phố Kín"
DESCRIPTION = "Mô tả bí mật: mẹ tôi 82 tuổi sốt cao XQZ"


@pytest.fixture
def secret(client, connection):
    """Send a request with distinctive personal values at an exact point in Phường Hiệp Thành."""
    lon, lat = connection.execute(text(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_LineInterpolatePoint(ST_ExteriorRing(ST_GeometryN("
        "ST_Buffer(geom, -0.002), 1)), 0.3) AS p FROM admin_unit"
        " WHERE boundary_set = 'vn2021' AND code = '25741') q")).one()  # inside, away from its centre
    lon, lat = round(lon, 6) + 0.000123, round(lat, 6) + 0.000456
    data = {"csrf_token": form_token(client),
            **valid_form(phone="0987 654 321", name=NAME, address=ADDRESS, description=DESCRIPTION,
                         commune="", lon=f"{lon:.6f}", lat=f"{lat:.6f}"),
            "photo": (io.BytesIO(jpeg_with_exif(400, 300)), "nha.jpg", "image/jpeg")}
    ref = sent_ref(client.post("/gui-yeu-cau", data=data, content_type="multipart/form-data"))
    request = stored(connection, ref)
    assert (request.commune_code, request.phone, request.name) == ("25741", "0987654321", NAME)
    return {"ref": ref, "id": request.id, "lon": request.lon, "lat": request.lat}


def _secrets(secret: dict) -> list[bytes]:
    values = [*PHONE_FORMS, NAME, ADDRESS, DESCRIPTION, "Riêngtư", "Bíẩn", "XQZ",
              f"{secret['lon']:.6f}", f"{secret['lat']:.6f}"]  # the point as sent
    forms = []
    for value in values:
        forms += [value.encode("utf-8"), json.dumps(value).strip('"').encode("ascii")]  # also \\u-escaped
    return forms


def _point_patterns(secret: dict) -> list[re.Pattern[bytes]]:
    """Return patterns of the exact point to 4 decimals or more, as a pair in either order.

    A lone 4-decimal value would match some vertex of the commune's outline on its map page.
    """
    # Rounded or cut to 4 decimals.
    lon, lat = (b"(?:" + re.escape(f"{secret[key]:.4f}".encode()) + b"|"
                + re.escape(f"{secret[key]:.9f}"[:-5].encode()) + b")" for key in ("lon", "lat"))
    gap = rb"[0-9]*[\s,;:/\[\]\"'()]{1,8}"
    return [re.compile(lon + gap + lat), re.compile(lat + gap + lon)]


def _public_answers(client, secret: dict) -> dict[str, bytes]:
    ref = secret["ref"]
    x, y = tile_of(secret["lon"], secret["lat"], 14)
    paths = [f"/yeu-cau/{ref}", f"/yeu-cau/{ref}?lang=en", f"/yeu-cau/{ref}/da-gui", f"/request/{ref}",
             "/", "/map/74", "/map/718", "/map/25741", "/map/vn2021/25741/van-ban",
             "/embed/74", "/embed/718?layers=citizen_requests",
             "/embed/25741?layers=citizen_requests&lang=en",
             "/download/citizen_requests.csv", "/download/citizen_requests.geojson",
             "/download/citizen_requests.csv?unit=25741", "/download/citizen_requests.geojson?unit=718",
             f"/tiles/boundaries/vn2021/commune/14/{x}/{y}.mvt", "/api/units?q=Hiệp Thành"]
    answers = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        answers[path] = response.data
    return answers


def test_no_public_answer_holds_the_citizens_personal_data(client, secret):
    answers = _public_answers(client, secret)
    # The answers do speak of the request: its code, status and commune's counts are there.
    assert secret["ref"].encode() in answers[f"/yeu-cau/{secret['ref']}"]
    assert "mới tiếp nhận".encode() in answers[f"/yeu-cau/{secret['ref']}"]
    counts = json.loads(answers["/download/citizen_requests.geojson?unit=718"])
    opened = {f["properties"]["commune_code"]: f["properties"]["open"] for f in counts["features"]}
    assert opened["25741"] == 1
    assert b"addRequestCounts" in answers["/map/718"] and b"addRequestCounts" in answers["/embed/74"]
    leaks = [(path, value.decode("utf-8", "replace")) for path, body in answers.items()
             for value in _secrets(secret) if value in body]
    leaks += [(path, pattern.pattern.decode()) for path, body in answers.items()
              for pattern in _point_patterns(secret) if pattern.search(body)]
    assert leaks == []


def test_the_point_patterns_find_a_point_written_as_a_map_would():
    secret = {"lon": 106.6661234, "lat": 10.9977985}
    written = [b"[10.9977985, 106.6661234]", b'"coordinates": [106.66612, 10.99780]', b"106.6661,10.9978",
               b"lat=10.99779&lon=106.66612"]
    for text_ in written[:3]:
        assert any(p.search(text_) for p in _point_patterns(secret)), text_
    assert not any(p.search(b"106.6661 is far from 10.9978 here") for p in _point_patterns(secret))


def _counts(csv: bytes) -> list[tuple]:
    table = pd.read_csv(io.BytesIO(csv), comment="#", encoding="utf-8-sig", dtype={0: str})
    return [tuple(row) for row in table.iloc[:, [0, 2, 4, 5, 6]].itertuples(index=False)]


def test_purging_erases_the_personal_data_and_keeps_the_counts(client, connection, secret):
    operator = make_account(connection, "op-purge@binhduong.vn", "operator", "74")
    closed_at = datetime.now(UTC) - timedelta(days=100)
    connection.execute(text("UPDATE service_request SET created_at = :t WHERE id = :i"),
                       {"t": closed_at - timedelta(hours=6), "i": secret["id"]})  # sent 100 days ago
    with session_scope(connection) as session:
        workflow.move(session, operator, secret["id"], "resolved", closed_at - timedelta(hours=3))
        workflow.move(session, operator, secret["id"], "closed", closed_at)
    before = client.get("/download/citizen_requests.csv?unit=25741").data
    with session_scope(connection) as session:
        assert retention.purge(session, datetime.now(UTC), 90) >= 1
    row = connection.execute(text(
        "SELECT phone, name, address, geom, photo, description, purged_at FROM service_request"
        " WHERE id = :i"),
        {"i": secret["id"]}).one()
    assert (row.phone, row.name, row.address, row.geom, row.photo, row.description) == (None,) * 5 + ("",)
    assert row.purged_at is not None
    after = client.get("/download/citizen_requests.csv?unit=25741").data
    assert _counts(after) == _counts(before) == [("25741", "food", 0, 1, 3.0)]
    page = client.get(f"/yeu-cau/{secret['ref']}").get_data(as_text=True)
    assert "đã đóng" in page
