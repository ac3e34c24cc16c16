"""Test fixtures: a throwaway PostGIS database, per-test rolled-back transactions, the app."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from werkzeug.serving import make_server

from epimap import localdb
from epimap.cli import main
from epimap.context import AppContext
from epimap.db import migrate
from epimap.demo import BINH_DUONG_2021, NGHE_AN_2025, load_demo_boundaries, load_demo_feeds
from epimap.settings import load_settings
from portal import create_app

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
TEST_DB = f"epimap_test_{os.getpid()}"  # one per session: parallel runs never collide


def _test_database_url() -> str:
    """Return a fresh, migrated test database; fail (never skip) when PostGIS is missing."""
    explicit = os.environ.get("EPIMAP_TEST_DATABASE_URL")
    if explicit:
        url = make_url(explicit)
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    else:
        settings = load_settings()
        localdb.up(localdb.cluster_for(settings))
        url = make_url(replace(settings, database_url="").resolved_database_url())
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        url = url.set(database=TEST_DB)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    rendered = url.render_as_string(hide_password=False)
    migrate(rendered)
    return rendered


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = _test_database_url()
    yield url
    _drop_database(url)


def _drop_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, pool_size=5)
    load_demo_boundaries(engine, DATA, BINH_DUONG_2021)
    load_demo_boundaries(engine, DATA, NGHE_AN_2025)
    load_demo_feeds(engine, DATA)  # committed: every test starts from the published demo
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def settings(database_url: str):
    return load_settings({"database_url": database_url, "basemap_url": ""})


def testing(app):
    """Put an app in testing mode: a missing UI string raises instead of being logged."""
    app.testing = True
    return app


@pytest.fixture
def app(connection: Connection, database_url: str):
    return testing(create_app({"bind": connection, "database_url": database_url, "basemap_url": ""}))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def run_cli(connection: Connection, settings):
    """Run an ``epimap`` command inside the test transaction."""

    def run(*args: str) -> Result:
        context = AppContext(settings, _bind=connection)
        return CliRunner().invoke(main, list(args), obj=context, catch_exceptions=False)

    return run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _job_worker(database_url: str) -> None:
    """Run ``epimap worker``'s loop in this thread (a daemon: it ends with the session)."""
    import asyncio

    from dispatch.jobs import register
    from layers.catalog import default_catalog
    from officials.jobs import work

    settings = load_settings({"database_url": database_url, "basemap_url": ""})
    asyncio.run(work(settings, default_catalog(), heartbeat=2, stalled_after=10, stalled_check=5,
                     install_signal_handlers=False, extensions=(register,)))


@pytest.fixture(scope="session")
def live_server(engine: Engine, database_url: str) -> Iterator[str]:
    """Serve the portal on a real port over the committed test data, with a job worker beside it."""
    threading.Thread(target=_job_worker, args=(database_url,), daemon=True).start()
    app = testing(create_app({"database_url": database_url, "basemap_url": ""}))
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    from tests.browser import chromium

    with chromium() as instance:
        yield instance
