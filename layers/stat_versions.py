"""Versioning of statistics, the write side: stage values, diff them, publish them, roll them back.

``unit_stat`` holds each (unit, metric, day)'s current value, which every reader reads; each
publication of the statistics layer records in ``unit_stat_change`` the values it wrote, with the
value before (migration 0010).  The value a key had at publication P is the ``old_value`` of its
first change after P, else its current value, so a rollback to P stages those values and publishes
them like a feed.  Values are therefore written only through :func:`publish_values`.

A feed (see :mod:`ingest.stats`) stages the values it holds inside its scope in the temporary table
``stat_staging``; publishing adds and changes those and removes nothing: a value the feed leaves
out keeps its figure (CDC feeds often carry only the latest days).  Only a rollback removes values,
those added after the publication it restores (staged with a NULL value).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.queries import descendants_of
from layers.catalog import Layer
from layers.store import Publication
from layers.versions import (
    Diff,
    PublishInfo,
    Scope,
    record_publication,
    rollback_target,
)

Key = tuple[str, str, date]  # unit code, metric, day
# Statistics publications take the layer's publishing lock (layers.versions.lock_layer) before
# reading the values they replace, so two of them never record the same old value.

# Each staged value beside the current one (NULL where there is none).
_COMPARED = """
SELECT s.unit_code, s.metric, s.day, s.row_no, s.value AS new, c.value AS old,
       s.estimated AS new_estimated, c.estimated AS old_estimated FROM stat_staging s
LEFT JOIN unit_stat c ON c.boundary_set = :s AND c.unit_code = s.unit_code AND c.metric = s.metric
    AND c.day = s.day
"""
_KINDS = {"added": "old IS NULL AND new IS NOT NULL", "changed": "old <> new",
          "removed": "new IS NULL AND old IS NOT NULL"}


@dataclass(frozen=True)
class ValueChange:
    """One staged value that differs from the current one, with its unit's name and outline."""

    unit_code: str
    unit_name: str
    metric: str
    day: date
    old: float | None
    new: float | None
    row: int | None
    geometry: dict[str, Any] | None


def drop_staging(session: Session) -> None:
    """Drop the staged values (they would survive a savepoint inside a test's transaction)."""
    session.execute(text("DROP TABLE IF EXISTS stat_staging"))


def stage_values(session: Session, values: Mapping[Key, float], rows: Mapping[Key, int],
                 estimated: Collection[Key] = ()) -> None:
    """Stage a feed's values (key -> value), the data row each came from and which are estimates."""
    drop_staging(session)
    keys = list(values)
    session.execute(text(
        "CREATE TEMP TABLE stat_staging ON COMMIT DROP AS SELECT * FROM unnest(CAST(:u AS text[]),"
        " CAST(:m AS text[]), CAST(:d AS date[]), CAST(:v AS float8[]), CAST(:r AS int[]),"
        " CAST(:e AS boolean[])) AS k(unit_code, metric, day, value, row_no, estimated)"),
        {"u": [k[0] for k in keys], "m": [k[1] for k in keys], "d": [k[2] for k in keys],
         "v": [values[k] for k in keys], "r": [rows.get(k) for k in keys],
         "e": [k in estimated for k in keys]})
    _index_staging(session)


def _index_staging(session: Session) -> None:
    session.execute(text("ALTER TABLE stat_staging ADD PRIMARY KEY (unit_code, metric, day)"))
    session.execute(text("ANALYZE stat_staging"))


def diff_values(session: Session, set_name: str) -> Diff:
    """Count the staged values that add, change, remove or repeat a current value."""
    row = session.execute(text(
        "SELECT count(*) FILTER (WHERE " + _KINDS["added"] + ") AS added,"  # noqa: S608 - constants
        " count(*) FILTER (WHERE " + _KINDS["changed"] + ") AS changed,"
        " count(*) FILTER (WHERE " + _KINDS["removed"] + ") AS removed,"
        " count(*) FILTER (WHERE old = new) AS unchanged FROM (" + _COMPARED + ") q"),
        {"s": set_name}).mappings().one()
    return Diff(**row)


def staged_changes(session: Session, set_name: str, kind: str, limit: int) -> list[ValueChange]:
    """List the first ``limit`` staged values of a kind (added, changed, removed), by row and unit."""
    rows = session.execute(text(
        "SELECT q.*, u.name AS unit_name FROM (" + _COMPARED + ") q"  # noqa: S608 - constant SQL
        " LEFT JOIN admin_unit u ON u.boundary_set = :s AND u.code = q.unit_code WHERE " + _KINDS[kind]
        + " ORDER BY q.row_no NULLS LAST, q.unit_code, q.metric, q.day LIMIT :n"),
        {"s": set_name, "n": limit}).mappings().all()
    shapes = _outlines(session, set_name, {r["unit_code"] for r in rows})
    return [ValueChange(r["unit_code"], r["unit_name"] or r["unit_code"], r["metric"], r["day"], r["old"],
                        r["new"], r["row_no"], shapes.get(r["unit_code"])) for r in rows]


def _outlines(session: Session, set_name: str, codes: set[str]) -> dict[str, dict[str, Any]]:
    """Return the low-zoom outline of each unit as GeoJSON (once per unit, not per value)."""
    rows = session.execute(text(
        "SELECT code, ST_AsGeoJSON(geom_low, 5) AS geometry FROM admin_unit"
        " WHERE boundary_set = :s AND code = ANY(:codes)"), {"s": set_name, "codes": sorted(codes)})
    return {r.code: json.loads(r.geometry) for r in rows}


def publish_values(session: Session, layer: Layer, scope: Scope, info: PublishInfo, change: Diff) -> int:
    """Record a publication of the staged values, their changes, and write them; return its id.

    Call :func:`layers.versions.lock_layer` before computing ``change``, in the same transaction.
    """
    publication = record_publication(session, layer, scope, info, change)
    params = {"s": scope.boundary_set, "pub": publication, "src": info.source_name}
    session.execute(text(
        "INSERT INTO unit_stat_change (publication_id, unit_code, metric, day, old_value, new_value,"  # noqa: S608
        " old_estimated, new_estimated)"
        " SELECT :pub, unit_code, metric, day, old, new, old_estimated, new_estimated FROM ("
        + _COMPARED + ") q"
        " WHERE old IS DISTINCT FROM new"), params)
    session.execute(text(
        "DELETE FROM unit_stat c USING stat_staging s WHERE s.value IS NULL AND c.boundary_set = :s"
        " AND c.unit_code = s.unit_code AND c.metric = s.metric AND c.day = s.day"), params)
    session.execute(text(
        "INSERT INTO unit_stat (boundary_set, unit_code, metric, day, value, estimated, source_name,"
        " updated_at) SELECT :s, unit_code, metric, day, value, estimated, :src, now() FROM stat_staging"
        " WHERE value IS NOT NULL ON CONFLICT (boundary_set, unit_code, metric, day) DO UPDATE"
        " SET value = EXCLUDED.value, estimated = EXCLUDED.estimated, source_name = EXCLUDED.source_name,"
        " updated_at = now() WHERE unit_stat.value IS DISTINCT FROM EXCLUDED.value"
        " OR unit_stat.estimated IS DISTINCT FROM EXCLUDED.estimated"), params)
    return publication


def scope_codes(session: Session, scope: Scope) -> list[str]:
    """Return the scope's unit code and the codes of every unit inside it."""
    return [scope.code, *(u.code for u in descendants_of(session, scope.boundary_set, scope.code))]


def _stage_past_values(session: Session, layer: Layer, scope: Scope, publication_id: int) -> None:
    """Stage, for each value in the scope changed after a publication, the value it had then."""
    drop_staging(session)
    session.execute(text(
        "CREATE TEMP TABLE stat_staging ON COMMIT DROP AS SELECT DISTINCT ON (c.unit_code, c.metric, c.day)"
        " c.unit_code, c.metric, c.day, c.old_value AS value, NULL::int AS row_no,"
        " coalesce(c.old_estimated, false) AS estimated"
        " FROM unit_stat_change c JOIN publication p ON p.id = c.publication_id"
        " WHERE p.layer_id = :l AND p.boundary_set = :s AND c.publication_id > :p"
        " AND c.unit_code = ANY(:codes)"
        " ORDER BY c.unit_code, c.metric, c.day, c.publication_id"),
        {"l": layer.id, "s": scope.boundary_set, "p": publication_id, "codes": scope_codes(session, scope)})
    _index_staging(session)


def stage_past_values(session: Session, layer: Layer, publication_id: int, scope_code: str | None = None
                      ) -> tuple[Publication, Scope, Diff]:
    """Stage the statistics of a publication's unit as they were at it; return target, scope and diff."""
    target, scope = rollback_target(session, layer, publication_id, scope_code)
    _stage_past_values(session, layer, scope, publication_id)
    return target, scope, diff_values(session, scope.boundary_set)

