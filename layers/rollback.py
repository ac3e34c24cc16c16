"""Restore a layer to its state at an earlier publication, as a new publication (any kind of layer)."""

from __future__ import annotations

from sqlalchemy import text

from epimap.db import Bind, session_scope
from layers.catalog import Layer
from layers.stat_versions import rollback_values
from layers.store import live_at
from layers.versions import Diff, PublishInfo, diff, publication_conflicts, publish, rollback_target


def rollback(bind: Bind, layer: Layer, publication_id: int, *, author: str, note: str | None = None,
             scope_code: str | None = None) -> tuple[int, Diff]:
    """Publish the layer's features (or figures) as they were at ``publication_id``; return (new id, diff)."""
    if not layer.kind.has_features:
        return rollback_values(bind, layer, publication_id, author=author, note=note, scope_code=scope_code)
    with publication_conflicts(), session_scope(bind) as session:
        target, scope = rollback_target(session, layer, publication_id, scope_code)
        session.execute(text("DROP TABLE IF EXISTS ingest_staging"))
        session.execute(text(
            "CREATE TEMP TABLE ingest_staging ON COMMIT DROP AS SELECT row_number() OVER () AS seq,"  # noqa: S608
            " f.source_id, f.geom, f.props, f.approximate, f.units, f.unit_code, f.content_hash,"
            " f.source_row AS row_no FROM feature f WHERE f.layer_id = :l AND "  # noqa: S608
            + live_at(publication_id) + " AND f.units ->> :scope_level = :scope"),
            {"l": layer.id, "as_of": publication_id, "scope_level": scope.level, "scope": scope.code})
        change = diff(session, layer, scope)
        info = PublishInfo(author=author, action="rollback", note=note,
                           source_name=target.source_name, source_sha256=target.source_sha256,
                           restores_publication=publication_id)
        new_id = publish(session, layer, scope, info, change)
        session.execute(text("DROP TABLE IF EXISTS ingest_staging"))
    return new_id, change
