"""Versioning, the write side: diff a staged snapshot against a layer, publish it in one transaction.

A feed (or a rollback) fills the temporary table ``ingest_staging`` with the layer's new snapshot
of one scope (see :mod:`ingest.stage`); :func:`diff` compares it with the current features there
and :func:`publish` records the publication, closes replaced and removed rows and inserts new
ones.  The read side (``as_of``, tiles, exports) lives in :mod:`layers.store` and its neighbours.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from boundaries.queries import COUNTRY_LEVEL, ancestors, get_unit, set_levels
from epimap.errors import Problem
from layers.catalog import Layer
from layers.overview import build_overview
from layers.store import Publication, get_publication


@dataclass
class Diff:
    """How a publication changes the layer within its scope."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class Scope:
    """The unit a feed covers: a province, district or commune of a boundary set."""

    boundary_set: str
    code: str
    level: str
    depth: int
    name: str
    levels: tuple[str, ...]
    province: str  # code of the top-level unit holding the scope (itself for a province)

    @property
    def lowest(self) -> str:
        return self.levels[-1]


@dataclass(frozen=True)
class PublishInfo:
    """Who publishes what, from which file, under which legal reference."""

    author: str
    action: str = "ingest"
    source_name: str | None = None
    source_sha256: str | None = None
    note: str | None = None
    legal_ref: str | None = None
    rejected: int = 0
    restores_publication: int | None = None


def resolve_scope(session: Session, set_name: str, code: str) -> Scope:
    """Return the scope of a unit code, or raise a clear error."""
    unit = get_unit(session, set_name, code)
    if unit is None:
        raise Problem("unknown_scope", f"Không có đơn vị hành chính mã {code} ({set_name}).",
                        f"No administrative unit with code {code} in {set_name}.")
    chain = [u for u in (*ancestors(session, unit), unit) if u.level != COUNTRY_LEVEL]
    top = (chain or [unit])[0]  # the province: a set's country root holds no VN-2000 zone
    return Scope(set_name, unit.code, unit.level, unit.depth, unit.name,
                 tuple(set_levels(session, set_name)), top.code)


_IN_SCOPE = "f.layer_id = :l AND f.valid_to_pub IS NULL AND f.units ->> :scope_level = :scope"


def diff(session: Session, layer: Layer, scope: Scope) -> Diff:
    """Compare the staged snapshot with the layer's current features in the scope."""
    # One FULL JOIN, which PostgreSQL can only hash or merge: NOT EXISTS against the CTE became a
    # nested loop re-reading it per staged row whenever the current features were underestimated.
    row = session.execute(text(
        f"""
        WITH cur AS (SELECT f.source_id, f.content_hash FROM feature f WHERE {_IN_SCOPE})
        SELECT
          count(*) FILTER (WHERE cur.source_id IS NULL) AS added,
          count(*) FILTER (WHERE cur.content_hash <> s.content_hash) AS changed,
          count(*) FILTER (WHERE cur.content_hash = s.content_hash) AS unchanged,
          count(*) FILTER (WHERE s.seq IS NULL) AS removed
        FROM ingest_staging s FULL JOIN cur ON cur.source_id = s.source_id
        """),  # noqa: S608 - constant SQL fragments only
        _scope_params(layer, scope)).mappings().one()
    return Diff(added=row["added"], changed=row["changed"], removed=row["removed"],
                unchanged=row["unchanged"])


def current_count(session: Session, layer: Layer, scope: Scope) -> int:
    """Count the layer's current features in the scope."""
    return session.execute(text(f"SELECT count(*) FROM feature f WHERE {_IN_SCOPE}"),  # noqa: S608
                           _scope_params(layer, scope)).scalar_one()


def has_current(session: Session, layer: Layer) -> bool:
    """Tell whether the layer has current features anywhere (a staged id may match one)."""
    return session.execute(text(
        "SELECT EXISTS (SELECT FROM feature WHERE layer_id = :l AND valid_to_pub IS NULL)"),
        {"l": layer.id}).scalar_one()


def _scope_params(layer: Layer, scope: Scope) -> dict:
    return {"l": layer.id, "scope_level": scope.level, "scope": scope.code}


# PostgreSQL aborts one of two transactions that wait on each other (two large publications
# swapping partitions), or that it cannot serialize: the other one went through.
_CONFLICT_STATES = frozenset({"40P01", "40001", "55P03"})  # deadlock, serialization, lock not available


@contextmanager
def publication_conflicts() -> Iterator[None]:
    """Turn a publication PostgreSQL aborted for a concurrent one into a clear feed error."""
    try:
        yield
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) not in _CONFLICT_STATES:
            raise
        raise Problem(
            "publish_conflict",
            "Một lần xuất bản khác chạy cùng lúc nên lần này bị hủy; chưa có gì được xuất bản."
            " Hãy chạy lại.",
            "Another publication ran at the same moment, so this one was cancelled; nothing was"
            " published. Run it again.") from exc


# A publication inserting at least this many rows, and at least half as many as its layer's partition
# already holds (every version), rebuilds the partition in bulk rather than inserting row by row.
BULK_MIN_ROWS = 10_000
_COLUMNS = ("layer_id, source_id, geom, props, units, unit_code, approximate, content_hash, source_row,"
            " valid_from_pub")
_STAGED = ("SELECT :l, s.source_id, s.geom, s.props, s.units, s.unit_code, s.approximate,"
           " s.content_hash, s.row_no, :pub FROM ingest_staging s")


def _rebuilds_partition(session: Session, layer: Layer, inserted: int) -> bool:
    """Tell whether inserting ``inserted`` rows is cheaper as a rebuild of the layer's partition.

    Row by row, each feature costs about 40 µs (two GiST indexes, three B-trees, foreign keys);
    copying a row and building the indexes over it once costs about 12 µs.
    """
    if inserted < BULK_MIN_ROWS:
        return False
    held = session.execute(text(
        "SELECT count(*) FROM (SELECT FROM feature WHERE layer_id = :l LIMIT :cap) f"),
        {"l": layer.id, "cap": 2 * inserted + 1}).scalar_one()
    return held <= 2 * inserted


def _partition(session: Session, layer: Layer) -> str:
    """Return the quoted name of the layer's partition of ``feature``."""
    name = session.execute(text("SELECT feature_partition(:l)"), {"l": layer.id}).scalar_one()
    return session.get_bind().dialect.identifier_preparer.quote(name)


def _fill_fresh_partition(session: Session, fresh: str, params: dict) -> None:
    """Copy the layer's rows and the staged new ones into ``fresh``, a table with no index yet."""
    session.execute(text(f"CREATE TABLE {fresh} (LIKE feature INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    session.execute(text(f"INSERT INTO {fresh} SELECT * FROM feature WHERE layer_id = :l"), params)  # noqa: S608
    session.execute(text(
        f"INSERT INTO {fresh} ({_COLUMNS}) {_STAGED} WHERE NOT EXISTS (SELECT FROM feature f"  # noqa: S608
        " WHERE f.layer_id = :l AND f.valid_to_pub IS NULL AND f.source_id = s.source_id)"), params)


def rollback_target(session: Session, layer: Layer, publication_id: int, scope_code: str | None = None
                    ) -> tuple[Publication, Scope]:
    """Return the publication a rollback restores and the scope it restores (its own, or ``scope_code``)."""
    target = get_publication(session, layer, publication_id)
    if target is None:
        raise Problem("unknown_publication",
                      f"Lớp “{layer.title_vi}” không có lần xuất bản số {publication_id}.",
                      f"Layer '{layer.title_en}' has no publication {publication_id}.")
    return target, resolve_scope(session, target.boundary_set, scope_code or target.scope_code)


NO_PREVIEW = 0  # publication ids start at 1: "no preview whose base to check"


def lock_layer(session: Session, layer: Layer, preview_base: int | None = NO_PREVIEW) -> None:
    """Hold the layer's publishing lock until the transaction ends; check the preview's base under it.

    Publications of one layer queue here (readers never wait).  ``preview_base`` is the layer's
    latest publication when the feed was previewed (None: it had none): if another publication
    landed since, the preview showed a change that is no longer the one that would be applied.
    """
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                    {"key": f"epimap.publish:{layer.id}"})
    if preview_base == NO_PREVIEW:
        return
    latest = session.execute(text("SELECT max(id) FROM publication WHERE layer_id = :l"),
                             {"l": layer.id}).scalar()
    if latest != preview_base:
        raise Problem("changed_since_preview",
                      "Lớp đã được xuất bản lại sau khi bạn xem trước; hãy tải lên và xem trước lại.",
                      "The layer was published again after your preview; upload and preview again.")


def record_publication(session: Session, layer: Layer, scope: Scope, info: PublishInfo, change: Diff) -> int:
    """Insert a layer's publication row (who, what, where, the counts); return its id."""
    return session.execute(text(
        "INSERT INTO publication (layer_id, author, action, source_name, source_sha256, boundary_set,"
        " scope_code, scope_level, added, changed, removed, unchanged, rejected, note, legal_ref,"
        " restores_publication) VALUES (:l, :author, :action, :source_name, :sha, :s, :scope,"
        " :scope_level, :added, :changed, :removed, :unchanged, :rejected, :note, :legal_ref,"
        " :restores) RETURNING id"),
        {**_scope_params(layer, scope), "author": info.author, "action": info.action,
         "source_name": info.source_name, "sha": info.source_sha256, "s": scope.boundary_set,
         "added": change.added, "changed": change.changed, "removed": change.removed,
         "unchanged": change.unchanged, "rejected": info.rejected, "note": info.note,
         "legal_ref": info.legal_ref, "restores": info.restores_publication}).scalar_one()


def publish(session: Session, layer: Layer, scope: Scope, info: PublishInfo, change: Diff) -> int:
    """Record a publication, close replaced and removed rows, insert new ones; return its id.

    It holds the layer's publishing lock (:func:`lock_layer`).  A point layer's cluster overview
    of the new publication is written in the same transaction.  A large publication writes its
    layer's partition anew (``BULK_MIN_ROWS``) and swaps it in last, as the swap locks
    ``feature`` against readers until the transaction ends.
    """
    lock_layer(session, layer)
    params = _scope_params(layer, scope)
    bulk = _rebuilds_partition(session, layer, change.added + change.changed)
    if bulk:  # no other publisher may change the partition being copied
        session.execute(text(f"LOCK TABLE {_partition(session, layer)} IN EXCLUSIVE MODE"))
    publication = record_publication(session, layer, scope, info, change)
    params["pub"] = publication
    # Close replaced rows (staged again with other content; in scope, also a staged row without a
    # hash), then removed ones (in scope, not staged).  Two statements the planner can hash-join:
    # one OR of correlated EXISTS re-scanned the staging table per current feature (20,000
    # unchanged rows re-published ran for minutes).
    session.execute(text(
        "UPDATE feature f SET valid_to_pub = :pub FROM ingest_staging s"
        " WHERE f.layer_id = :l AND f.valid_to_pub IS NULL AND s.source_id = f.source_id"
        " AND (s.content_hash <> f.content_hash"
        "      OR ((s.content_hash = f.content_hash) IS NULL AND f.units ->> :scope_level = :scope))"),
        params)
    session.execute(text(
        f"UPDATE feature f SET valid_to_pub = :pub WHERE {_IN_SCOPE} AND NOT EXISTS"  # noqa: S608
        " (SELECT 1 FROM ingest_staging s WHERE s.source_id = f.source_id)"), params)
    if bulk:
        fresh = f"feature_fresh_{publication}"
        _fill_fresh_partition(session, fresh, params)
        build_overview(session, layer, publication, source=fresh)
        session.execute(text("SELECT swap_feature_partition(:l, :fresh)"), {"l": layer.id, "fresh": fresh})
        return publication
    # Unchanged rows are still current: the unique index on current keys skips them.  (A NOT EXISTS
    # on feature here let the planner, seeing an empty or tiny feature table, re-scan the table this
    # very statement fills once per staged row: quadratic, 327 s for 100,000 rows.)
    session.execute(text(
        f"INSERT INTO feature ({_COLUMNS}) {_STAGED}"
        " ON CONFLICT (layer_id, source_id) WHERE valid_to_pub IS NULL DO NOTHING"), params)
    build_overview(session, layer, publication)
    return publication
