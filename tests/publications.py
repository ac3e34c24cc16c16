"""Undo what a test published for real (committed, for a live server or a browser to see)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text


def undo_publications(conn: Connection, publications: Iterable[int]) -> None:
    """Remove committed test publications, newest first: their features, cluster overviews and
    rows, reopening the features they closed and putting back the statistics they changed (the
    product itself never deletes a publication)."""
    for publication in sorted(publications, reverse=True):
        params = {"p": publication}
        _undo_statistics(conn, publication)
        conn.execute(text("DELETE FROM feature WHERE valid_from_pub = :p"), params)
        conn.execute(text("UPDATE feature SET valid_to_pub = NULL WHERE valid_to_pub = :p"), params)
        conn.execute(text("DELETE FROM cluster_overview WHERE publication_id = :p"), params)
        conn.execute(text("DELETE FROM publication WHERE id = :p"), params)


def publications_after(conn: Connection, before: int) -> list[int]:
    """Return the publications made since publication ``before``."""
    return list(conn.execute(text("SELECT id FROM publication WHERE id > :b"), {"b": before}).scalars())


def _undo_statistics(conn: Connection, publication: int) -> None:
    """Put back the values a statistics publication changed, and forget its changes."""
    params = {"p": publication}
    changed = ("FROM unit_stat_change c JOIN publication p ON p.id = c.publication_id"
               " WHERE c.publication_id = :p")
    conn.execute(text(
        "DELETE FROM unit_stat s USING unit_stat_change c, publication p WHERE c.publication_id = :p"
        " AND p.id = c.publication_id AND s.boundary_set = p.boundary_set AND s.unit_code = c.unit_code"
        " AND s.metric = c.metric AND s.day = c.day"), params)
    conn.execute(text(
        "INSERT INTO unit_stat (boundary_set, unit_code, metric, day, value)"  # noqa: S608 - constant SQL
        " SELECT p.boundary_set, c.unit_code, c.metric, c.day, c.old_value " + changed
        + " AND c.old_value IS NOT NULL"), params)
    conn.execute(text("DELETE FROM unit_stat_change WHERE publication_id = :p"), params)
