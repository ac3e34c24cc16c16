"""One engine per process, sessions per request or job, the driver's fast path, and Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Dialect, Engine, TextClause, create_engine, make_url, text
from sqlalchemy.orm import Session

from epimap.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
Bind = Engine | Connection
# Server settings of the connections that serve many small requests (the portal's).  A parallel
# plan starts a worker process per statement: 15-20 ms, for sorts and scans that take 1-4 ms (the
# OGC items statement ran 21 ms instead of 4).  JIT compiles for 10-100 ms once a plan's cost
# passes its threshold, which large tiles and pages can, and never pays back in a short request.
# Jobs (ingest, CLI) keep the server's own settings.
SERVING_OPTIONS = {"max_parallel_workers_per_gather": "0", "jit": "off"}


def make_engine(settings: Settings, serving: bool = False) -> Engine:
    """Create an engine from the settings; ``serving`` gives its connections ``SERVING_OPTIONS``."""
    url = settings.resolved_database_url()
    connect_args = {"options": server_options(url, SERVING_OPTIONS)} if serving else {}
    return create_engine(url, pool_pre_ping=bool(settings.db_pre_ping), pool_size=10,
                         connect_args=connect_args)


def server_options(url: str, settings: Mapping[str, str]) -> str:
    """Return libpq's ``options`` for a URL's connections: its own, then ``-c name=value`` each.

    >>> server_options("postgresql+psycopg://u@/db?options=-c%20work_mem%3D64MB", {"jit": "off"})
    '-c work_mem=64MB -c jit=off'
    """
    own = make_url(url).query.get("options", "")
    own = own if isinstance(own, str) else " ".join(own)
    return " ".join([*filter(None, [own]), *(f"-c {name}={value}" for name, value in settings.items())])


@contextmanager
def session_scope(bind: Bind) -> Iterator[Session]:
    """Open a session that commits on success; inside a test transaction it uses a savepoint."""
    with Session(bind=bind, join_transaction_mode="create_savepoint") as session:
        with session.begin():
            yield session


def fetch_rows(db: Session | Connection, statement: TextClause, params: Mapping[str, Any]) -> list[tuple]:
    """Run a statement on the driver itself and return its rows as plain tuples, values binary.

    For the hottest read paths: SQLAlchemy's statement and result layers cost as much Python
    time per request as the rest of such a request.  The statement is SQLAlchemy's (named
    ``:parameters``), compiled to the driver's parameter style once.
    """
    connection = db.connection() if isinstance(db, Session) else db
    sql = _driver_sql(statement, connection.dialect)
    with connection.connection.driver_connection.cursor(binary=True) as cursor:
        return cursor.execute(sql, params).fetchall()


@lru_cache(maxsize=64)
def _driver_sql(statement: TextClause, dialect: Dialect) -> str:
    return str(statement.compile(dialect=dialect))


def alembic_config(url: str) -> Config:
    """Return an Alembic configuration pointing at our migrations and the given database."""
    from alembic.config import Config  # only migrating needs Alembic (0.4 s to import)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database schema to the given revision."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def ping(bind: Bind) -> bool:
    """Tell whether the database answers and has PostGIS."""
    with session_scope(bind) as session:
        return bool(session.execute(text("SELECT postgis_version()")).scalar())
