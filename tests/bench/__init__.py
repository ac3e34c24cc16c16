"""Benchmark smoke runs, each in a database of its own that must be gone afterwards."""

from __future__ import annotations

from sqlalchemy import create_engine, make_url, text

from epimap.settings import load_settings


def database_exists(name: str) -> bool:
    """Tell whether a database of that name exists on the configured server."""
    engine = create_engine(make_url(load_settings().resolved_database_url()).set(database="postgres"))
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = :d)"),
                                     {"d": name}).scalar())
    finally:
        engine.dispose()
