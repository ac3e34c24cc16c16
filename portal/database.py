"""The portal's database bind; one session, or one read-only connection, per request."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from epimap.db import Bind, make_engine
from epimap.settings import Settings

EXTENSION = "epimap.bind"


def init_app(app: Flask, settings: Settings, bind: Bind | None = None) -> None:
    """Attach the engine (or a test connection) to the app and close sessions on teardown."""
    app.extensions[EXTENSION] = bind if bind is not None else make_engine(settings)
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
    """Return this request's read-only connection for hot paths: no ORM session, and on an
    engine in autocommit, which saves the BEGIN and ROLLBACK round trips of every request."""
    if "db_connection" not in g:
        bind = get_bind()
        g.db_connection = (bind.connect().execution_options(isolation_level="AUTOCOMMIT")
                           if isinstance(bind, Engine) else bind)
    return g.db_connection


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
    bind.dispose()
    return True


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
    connection = g.pop("db_connection", None)
    if connection is not None and connection is not get_bind():
        connection.close()
