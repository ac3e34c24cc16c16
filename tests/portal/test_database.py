"""The portal's connections: a read on a connection the server dropped is retried once; an outage is a 503."""

from __future__ import annotations

import orjson
import psycopg
from sqlalchemy import Engine, make_url, text

from portal import create_app
from portal.database import IDLE
from portal.jsonprovider import dumps_bytes

APP_NAME = "epimap_dropped_connection_test"
NEARBY = "/api/nearby?lat=10.98&lon=106.65&layer=testing_sites&limit=1"


def _terminate_app_connections(engine: Engine) -> int:
    with engine.connect() as admin:
        return len(admin.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": APP_NAME}).all())


def test_a_read_on_a_dropped_connection_is_retried_once_on_a_fresh_one(database_url, engine):
    url = make_url(database_url).update_query_dict({"application_name": APP_NAME})
    app = create_app({"database_url": url.render_as_string(hide_password=False), "basemap_url": "",
                      "api_rate_limit": ""})
    client = app.test_client()
    try:
        assert [client.get(NEARBY).status_code for _ in range(3)] == [200] * 3
        assert len(app.extensions[IDLE]) == 1  # one connection, kept and reused
        assert _terminate_app_connections(engine) == 1
        retried = client.get(NEARBY)  # the kept read-only connection (the hot paths')
        assert retried.status_code == 200 and retried.json["features"]
        assert client.get("/tim-diem?q=Hiep+Thanh").status_code == 200
        assert _terminate_app_connections(engine) >= 1
        page = client.get("/tim-diem?q=Hiep+Thanh")  # the request's session (pages)
        assert page.status_code == 200 and "Hiệp Thành" in page.get_data(as_text=True)
    finally:
        app.extensions["epimap.bind"].dispose()


def test_a_database_that_stays_away_answers_503_in_both_languages(database_url, engine, monkeypatch):
    url = make_url(database_url).update_query_dict({"application_name": APP_NAME})
    app = create_app({"database_url": url.render_as_string(hide_password=False), "basemap_url": "",
                      "api_rate_limit": ""})
    client = app.test_client()
    try:
        assert client.get(NEARBY).status_code == 200
        assert _terminate_app_connections(engine) == 1
        # The retry's fresh connection is refused as well: the outage lasts.
        bind = app.extensions["epimap.bind"]
        monkeypatch.setattr(bind.pool, "_creator", _refuse)
        dropped = client.get(NEARBY, headers={"Accept-Language": "en"})
        assert dropped.status_code == 503
        assert dropped.headers["Retry-After"] == "1"
        assert dropped.json["error_vi"].startswith("Mất kết nối tới cơ sở dữ liệu")
        assert "database connection was lost" in dropped.json["error_en"]
        assert "Traceback" not in dropped.get_data(as_text=True)
    finally:
        app.extensions["epimap.bind"].dispose()


def _refuse(*_args):
    raise psycopg.OperationalError("connection refused (test)")


def test_json_answers_keep_vietnamese_and_serialise_dates():
    from datetime import UTC, date, datetime
    from decimal import Decimal

    body = dumps_bytes({"name": "Phường Hiệp Thành", "day": date(2021, 8, 20), "n": Decimal("2.5"),
                        "at": datetime(2021, 8, 20, 7, 30, tzinfo=UTC), "codes": {"74"}})
    assert "Phường Hiệp Thành".encode() in body
    assert orjson.loads(body) == {"name": "Phường Hiệp Thành", "day": "2021-08-20", "n": 2.5,
                                  "at": "2021-08-20T07:30:00+00:00", "codes": ["74"]}
