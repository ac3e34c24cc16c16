"""The benchmarks' throwaway databases: recreated with PostGIS, the schema and the boundaries."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, text

from epimap.db import migrate
from epimap.demo import BINH_DUONG_2021, load_demo_boundaries

DATA = Path(__file__).resolve().parent.parent / "data"


def render(url: URL) -> str:
    """Return the URL as a string, password included (the benchmark tools need it)."""
    return url.render_as_string(hide_password=False)


def admin_engine(url: URL) -> Engine:
    """Return an autocommit engine on the server's ``postgres`` database."""
    return create_engine(render(url.set(database="postgres")), isolation_level="AUTOCOMMIT")


def recreate_database(url: URL) -> None:
    """Drop and create the database, add PostGIS, migrate it and load Bình Dương's boundaries."""
    admin = admin_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    engine = create_engine(render(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    migrate(render(url))
    load_demo_boundaries(engine, DATA, BINH_DUONG_2021)
    engine.dispose()


def drop_database(url: URL) -> None:
    """Drop the benchmark database (each bench checks its name starts with epimap_bench)."""
    admin = admin_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()
