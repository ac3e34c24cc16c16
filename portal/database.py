"""The portal's one way to the database: a session per request and a fast read-only connection,
both from one engine per database URL, for pages, API, tiles and OGC alike.

``db_session()`` is the request's ORM/Core session (pages, the console; writes commit
explicitly).  ``db_connection()`` is the request's read-only autocommit connection for the hot
public paths (tiles, ``/api/nearby``, OGC API): the app keeps such connections between requests,
checked out of the pool once and handed back to its idle list after each request, so a request
pays neither a pool checkout and reset nor the BEGIN and ROLLBACK round trips; those cost as much
as the rest of such a request.  The idle list never holds more connections than requests once
ran at the same time.  Every connection runs with ``epimap.db.SERVING_OPTIONS``: no parallel
query, no JIT, both of which cost a short request more than they save.

Under tests ``create_app({"bind": connection})`` injects a connection inside a transaction:
sessions join it with savepoints and ``db_connection()`` is that connection itself.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from epimap.db import Bind, make_engine
from epimap.settings import Settings

EXTENSION = "epimap.bind"
IDLE = "epimap.idle_connections"
_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def init_app(app: Flask, settings: Settings, bind: Bind | None = None) -> None:
    """Attach the engine of the settings' URL (or a test connection) and release on teardown."""
    app.extensions[EXTENSION] = bind if bind is not None else engine_for(settings)
    app.extensions[IDLE] = []  # list.append and list.pop are atomic: safe across threads
    app.teardown_appcontext(_release)


def engine_for(settings: Settings) -> Engine:
    """Return the process's serving engine for the settings' database URL, made once (apps of
    one URL share it and its pool, made with the first one's settings)."""
    url = settings.resolved_database_url()
    with _ENGINES_LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _ENGINES[url] = make_engine(settings, serving=True)
    return engine


def get_bind() -> Bind:
    """Return the app's engine or connection."""
    return current_app.extensions[EXTENSION]


def db_session() -> Session:
    """Return this request's session (read-mostly; writes commit explicitly)."""
    if "db_session" not in g:
        g.db_session = Session(bind=get_bind(), join_transaction_mode="create_savepoint")
    return g.db_session


def db_connection() -> Connection:
    """Return this request's read-only autocommit connection (a test's connection as it is)."""
    bind = get_bind()
    if not isinstance(bind, Engine):
        return bind
    connection = g.get("db_connection")
    if connection is None or connection.invalidated:
        connection = g.db_connection = _idle_connection() or bind.connect().execution_options(
            isolation_level="AUTOCOMMIT")
    return connection


def _idle_connection() -> Connection | None:
    idle = current_app.extensions[IDLE]
    while True:
        try:
            connection = idle.pop()
        except IndexError:
            return None
        if not (connection.invalidated or connection.closed):
            return connection


def discard_lost_connection() -> bool:
    """Tell whether the server dropped this request's read-only connection; if it did, drop it
    and every pooled or kept connection (they share its fate after a restart) so the next use
    reconnects.  Needed because the kept connections are never checked in to the pool, and hot
    paths run statements on the driver, beneath SQLAlchemy's own disconnect handling."""
    connection, bind = g.get("db_connection"), get_bind()
    if connection is None or connection is bind:
        return False
    if not (connection.invalidated or connection.connection.driver_connection.broken):
        return False
    g.pop("db_connection")
    if not connection.invalidated:
        connection.invalidate()
    while (kept := _idle_connection()) is not None:
        kept.invalidate()
    bind.dispose()
    return True


def drop_session() -> None:
    """Close this request's session, if any; the next ``db_session()`` opens a fresh one."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def _release(_exc: BaseException | None) -> None:
    drop_session()
    connection = g.pop("db_connection", None)
    if connection is None or connection is get_bind():
        return
    if connection.in_transaction():
        connection.rollback()  # in autocommit only SQLAlchemy's own marker: no round trip
    if not (connection.invalidated or connection.closed):
        current_app.extensions[IDLE].append(connection)
