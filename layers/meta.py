"""What maps need to know about a layer: its current publication, freshness and extent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.queries import Unit
from layers.catalog import Layer
from layers.statistics import value_count
from layers.store import in_force, within


@dataclass(frozen=True)
class LayerState:
    """A layer's latest publication and when it happened (None before the first one)."""

    publication: int | None
    updated_at: datetime | None
    count: int


def layer_state(session: Session, layer: Layer, reader: Unit | None = None, *,
                day: date | None = None) -> LayerState:
    """Return the layer's latest publication, its time and the number of current features.

    ``reader`` counts only the features inside a reader's unit (see :func:`layers.store.within`);
    ``day`` only those in force that day when the layer has a period (lockdown zones).  The
    statistics layer counts its current values (inside the reader's unit) instead.
    """
    if not layer.kind.has_features:
        return _statistics_state(session, layer, reader)
    limited, params = within(reader)
    current, day_params = in_force(layer, day)
    row = session.execute(text(
        "SELECT p.id, p.created_at, (SELECT count(*) FROM feature f WHERE f.layer_id = :l"  # noqa: S608
        " AND f.valid_to_pub IS NULL" + limited + current + ") AS n FROM publication p WHERE p.layer_id = :l"
        " ORDER BY p.id DESC LIMIT 1"), {"l": layer.id, **params, **day_params}).first()
    return LayerState(row.id, row.created_at, row.n) if row else LayerState(None, None, 0)


def _statistics_state(session: Session, layer: Layer, reader: Unit | None) -> LayerState:
    """Return the statistics layer's latest publication and its number of current values."""
    row = session.execute(text("SELECT id, created_at FROM publication WHERE layer_id = :l"
                               " ORDER BY id DESC LIMIT 1"), {"l": layer.id}).first()
    count = value_count(session, reader.boundary_set, reader.code) if reader else value_count(session)
    return LayerState(row.id if row else None, row.created_at if row else None, count)


def publication_exists(session: Session, layer: Layer, publication: int) -> bool:
    """Tell whether a publication belongs to a layer."""
    return bool(session.execute(
        text("SELECT EXISTS (SELECT 1 FROM publication WHERE id = :p AND layer_id = :l)"),
        {"p": publication, "l": layer.id}).scalar())


def extent(session: Session, layer: Layer, publication: int, reader: Unit | None = None
           ) -> tuple[float, float, float, float] | None:
    """Return the box (west, south, east, north) of a layer at a publication (in a reader's unit)."""
    limited, params = within(reader)
    row = session.execute(text(
        "SELECT ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, ST_YMax(e) AS n FROM"  # noqa: S608
        " (SELECT ST_Extent(f.geom)::geometry AS e FROM feature f WHERE f.layer_id = :l"
        " AND f.valid_from_pub <= :p AND (f.valid_to_pub IS NULL OR f.valid_to_pub > :p)" + limited + ") q"),
        {"l": layer.id, "p": publication, **params}).first()
    return (row.w, row.s, row.e, row.n) if row and row.w is not None else None


def publication_state(session: Session, layer: Layer, publication: int, reader: Unit | None = None, *,
                      day: date | None = None) -> LayerState | None:
    """Return a layer's state as of one of its publications: its time and feature count (None: not its).

    ``reader`` and ``day`` limit the count as in :func:`layer_state`.
    """
    limited, params = within(reader)
    current, day_params = in_force(layer, day)
    row = session.execute(text(
        "SELECT p.id, p.created_at, (SELECT count(*) FROM feature f WHERE f.layer_id = :l"  # noqa: S608
        " AND f.valid_from_pub <= p.id AND (f.valid_to_pub IS NULL OR f.valid_to_pub > p.id)"
        + limited + current + ") AS n FROM publication p WHERE p.layer_id = :l AND p.id = :p"),
        {"l": layer.id, "p": publication, **params, **day_params}).first()
    return LayerState(row.id, row.created_at, row.n) if row else None
