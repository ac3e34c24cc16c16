"""One way to the database: pages, API, tiles and OGC share one engine per URL and one kept
read-only connection; the KNN bound is written once for Python and SQL."""

from __future__ import annotations

from sqlalchemy import Engine, make_url, text

from epimap.knn import floor_sql
from epimap.settings import load_settings
from portal import create_app
from portal.database import EXTENSION, IDLE, engine_for

APP_NAME = "epimap_one_database_test"
PATHS = ("/api/nearby?lat=10.98&lon=106.65&layer=testing_sites&limit=3",
         "/ogc/collections/testing_sites/items?bbox=106.6,10.9,106.7,11.0&limit=5",
         "/tiles/testing_sites.json")


def _app(database_url: str, name: str = APP_NAME):
    url = make_url(database_url).update_query_dict({"application_name": name})
    return create_app({"database_url": url.render_as_string(hide_password=False), "basemap_url": "",
                       "api_rate_limit": ""})


def _terminate(engine: Engine, name: str) -> int:
    with engine.connect() as admin:
        return len(admin.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": name}).all())


def test_apps_of_one_url_share_one_engine(database_url, engine):
    first, second = _app(database_url), _app(database_url)
    try:
        assert first.extensions[EXTENSION] is second.extensions[EXTENSION]
        other = load_settings({"database_url": database_url})
        assert engine_for(other) is not first.extensions[EXTENSION]  # another URL, another engine
    finally:
        first.extensions[EXTENSION].dispose()


def test_nearby_ogc_and_tiles_read_through_one_kept_connection(database_url, engine):
    app = _app(database_url)
    client = app.test_client()
    try:
        for path in PATHS * 2:
            assert client.get(path).status_code == 200, path
        assert len(app.extensions[IDLE]) == 1
        kept = app.extensions[IDLE][0]
        settings = kept.execute(text("SELECT current_setting('max_parallel_workers_per_gather'),"
                                     " current_setting('jit')")).one()
        assert tuple(settings) == ("0", "off")  # a short request never waits for a worker or JIT
    finally:
        app.extensions[EXTENSION].dispose()


def test_ogc_retries_once_on_a_dropped_connection(database_url, engine):
    name = f"{APP_NAME}_retry"  # no other test's kept connection answers to it
    app = _app(database_url, name)
    client = app.test_client()
    try:
        assert client.get(PATHS[1]).status_code == 200
        assert _terminate(engine, name) == 1
        again = client.get(PATHS[1])
        assert again.status_code == 200 and again.json["numberReturned"] == 5
        assert len(app.extensions[IDLE]) == 1  # the lost connection was replaced, not kept
    finally:
        app.extensions[EXTENSION].dispose()


def test_the_walk_in_sql_proves_with_the_bound_python_uses(connection):
    definition = connection.execute(text("SELECT pg_get_functiondef(CAST(:f AS regprocedure))"), {
        "f": "nearest_candidates(text, float8, float8, integer, integer)"}).scalar_one()
    assert f"proven_by := metres / ({floor_sql('lat', 'metres')});" in definition
