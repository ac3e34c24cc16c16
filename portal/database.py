"""The portal's database bind: one session per request, and kept read-only connections.

Hot read-only paths (``/api/nearby``, tiles) take an autocommit connection the app keeps between
requests: checked out of the pool once and handed back to the app's idle list after each request,
so a request pays neither a pool checkout and reset nor the BEGIN and ROLLBACK round trips; those
cost as much as the rest of such a request.  The idle list never holds more connections than
requests once ran at the same time.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from epimap.db import Bind, make_engine
from epimap.settings import Settings

EXTENSION = "epimap.bind"
IDLE = "epimap.idle_connections"


def init_app(app: Flask, settings: Settings, bind: Bind | None = None) -> None:
    """Attach the engine (or a test connection) to the app and close sessions on teardown."""
    app.extensions[EXTENSION] = bind if bind is not None else make_engine(settings)
    app.extensions[IDLE] = []  # list.append and list.pop are atomic: safe across threads
    app.teardown_appcontext(_close_session)


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
    if "db_connection" not in g:
        g.db_connection = _idle_connection() or bind.connect().execution_options(
            isolation_level="AUTOCOMMIT")
    return g.db_connection


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
    and every pooled connection (they share its fate after a restart) so the next request
    reconnects.  Needed because hot paths run statements on the driver, beneath SQLAlchemy's
    own disconnect handling."""
    connection, bind = g.get("db_connection"), get_bind()
    if connection is None or connection is bind or connection.invalidated:
        return False
    if not connection.connection.driver_connection.broken:
        return False
    connection.invalidate()
    while (kept := _idle_connection()) is not None:  # kept ones share its fate after a restart
        kept.invalidate()
    bind.dispose()
    return True


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
    connection = g.pop("db_connection", None)
    if connection is None or connection is get_bind():
        return
    if connection.in_transaction():
        connection.rollback()  # in autocommit only SQLAlchemy's own marker: no round trip
    if not (connection.invalidated or connection.closed):
        current_app.extensions[IDLE].append(connection)
