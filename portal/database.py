"""The portal's database bind and one session per request, closed on teardown."""

from __future__ import annotations

from flask import Flask, current_app, g
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


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
