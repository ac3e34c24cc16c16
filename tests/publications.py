"""Undo what a test published for real (committed, for a live server or a browser to see)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text


def undo_publications(conn: Connection, publications: Iterable[int]) -> None:
    """Remove committed test publications, newest first: their features, cluster overviews and
    rows, reopening the features they closed (the product itself never deletes a publication)."""
    for publication in sorted(publications, reverse=True):
        params = {"p": publication}
        conn.execute(text("DELETE FROM feature WHERE valid_from_pub = :p"), params)
        conn.execute(text("UPDATE feature SET valid_to_pub = NULL WHERE valid_to_pub = :p"), params)
        conn.execute(text("DELETE FROM cluster_overview WHERE publication_id = :p"), params)
        conn.execute(text("DELETE FROM publication WHERE id = :p"), params)


def publications_after(conn: Connection, before: int) -> list[int]:
    """Return the publications made since publication ``before``."""
    return list(conn.execute(text("SELECT id FROM publication WHERE id > :b"), {"b": before}).scalars())
