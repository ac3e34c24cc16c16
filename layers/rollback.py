"""Restore a layer to its state at an earlier publication, as a new publication (any kind of layer).

:func:`preview_rollback` stages the same snapshot and shows it to ``inspect`` (to list the changes)
without publishing; :func:`rollback` publishes it, checking under the layer's lock that nothing was
published since the preview (``preview_base``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from epimap.db import Bind, session_scope
from layers.catalog import Layer
from layers.stat_versions import drop_staging, publish_values, stage_past_values
from layers.store import Publication, live_at
from layers.versions import (
    NO_PREVIEW,
    Diff,
    PublishInfo,
    Scope,
    diff,
    lock_layer,
    publication_conflicts,
    publish,
    rollback_target,
)


def stage_rollback(session: Session, layer: Layer, publication_id: int, scope_code: str | None = None
                   ) -> tuple[Publication, Scope, Diff]:
    """Stage the layer's features (or figures) as they were at a publication; return target, scope, diff."""
    if not layer.kind.has_features:
        return stage_past_values(session, layer, publication_id, scope_code)
    target, scope = rollback_target(session, layer, publication_id, scope_code)
    session.execute(text("DROP TABLE IF EXISTS ingest_staging"))
    session.execute(text(
        "CREATE TEMP TABLE ingest_staging ON COMMIT DROP AS SELECT row_number() OVER () AS seq,"  # noqa: S608
        " f.source_id, f.geom, f.props, f.approximate, f.units, f.unit_code, f.content_hash,"
        " f.source_row AS row_no FROM feature f WHERE f.layer_id = :l AND "  # noqa: S608
        + live_at(publication_id) + " AND f.units ->> :scope_level = :scope"),
        {"l": layer.id, "as_of": publication_id, "scope_level": scope.level, "scope": scope.code})
    return target, scope, diff(session, layer, scope)


def _unstage(session: Session, layer: Layer) -> None:
    if layer.kind.has_features:
        session.execute(text("DROP TABLE IF EXISTS ingest_staging"))
    else:
        drop_staging(session)


def preview_rollback(bind: Bind, layer: Layer, publication_id: int,
                     inspect: Callable[[Session, Layer, Scope], None], scope_code: str | None = None
                     ) -> tuple[Publication, Scope, Diff]:
    """Show a rollback's staged snapshot to ``inspect``, publishing nothing; return target, scope, diff."""
    with session_scope(bind) as session:
        target, scope, change = stage_rollback(session, layer, publication_id, scope_code)
        inspect(session, layer, scope)
        _unstage(session, layer)
    return target, scope, change


def rollback(bind: Bind, layer: Layer, publication_id: int, *, author: str, note: str | None = None,
             scope_code: str | None = None, legal_ref: str | None = None,
             preview_base: int | None = NO_PREVIEW) -> tuple[int, Diff]:
    """Publish the layer's features (or figures) as they were at ``publication_id``; return (new id, diff)."""
    with publication_conflicts(), session_scope(bind) as session:
        lock_layer(session, layer, preview_base)
        target, scope, change = stage_rollback(session, layer, publication_id, scope_code)
        info = PublishInfo(author=author, action="rollback", note=note, legal_ref=legal_ref,
                           source_name=target.source_name, source_sha256=target.source_sha256,
                           restores_publication=publication_id)
        if layer.kind.has_features:
            new_id = publish(session, layer, scope, info, change)
        else:
            new_id = publish_values(session, layer, scope, info, change)
        _unstage(session, layer)
    return new_id, change
