"""The public layers drawn over a unit's map: tile URLs, styles and popup fields."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from boundaries.queries import Unit
from layers.catalog import Catalog, Layer
from layers.hours import VIETNAM
from layers.meta import layer_state, publication_state
from portal.tiles import tile_url_template


@dataclass(frozen=True)
class Overlay:
    """One layer on the map, at its current publication or a pinned one."""

    layer: Layer
    publication: int
    url: str
    shown: bool
    meta: dict[str, Any]


def _meta(layer: Layer, publication: int, updated: float | None, count: int, lang: str) -> dict[str, Any]:
    return {
        "id": layer.id, "title": layer.title(lang), "color": layer.color, "icon": layer.icon,
        "geometry": layer.geometry, "publication": publication, "updated": updated, "count": count,
        # name, label, type and, for a choice, its keys' labels: popups show people's words
        "fields": [[a.name, a.label(lang), a.type, {k: a.choice_label(k, lang) for k in a.choices}]
                   for a in layer.attributes if a.public],
    }


def today() -> date:
    """Return today's date in Vietnam."""
    return datetime.now(VIETNAM).date()


def public_overlays(session: Session, catalog: Catalog, lang: str, *, only: Collection[str] | None = None,
                    pinned: Mapping[str, int] | None = None, day: date | None = None,
                    unit: Unit | None = None) -> list[Overlay]:
    """Return the public layers that have a publication, polygons first so points stay on top.

    ``only`` keeps just the named layers, all of them shown; ``pinned`` draws the given layers at the
    given publications instead of their current ones (the caller checks each belongs to its layer).
    Layers with a period (lockdown zones) draw and count only the features in force on ``day``
    (default today): a zone that ended is never drawn as current. ``unit`` counts what lies in it.
    """
    pinned = pinned or {}
    now = today()
    day = day or now
    overlays = []
    for layer in sorted(catalog.feature_layers(), key=lambda item: not item.kind.areas):
        if not layer.public or (only is not None and layer.id not in only):
            continue
        if layer.id in pinned:
            state = publication_state(session, layer, pinned[layer.id], unit, day=day)
        else:
            state = layer_state(session, layer, unit, day=day)
        if state is None or state.publication is None:
            continue
        updated = state.updated_at.timestamp() if state.updated_at else None
        shown = layer.id in only if only is not None else layer.shown
        meta = _meta(layer, state.publication, updated, state.count, lang)
        if layer.has_period:  # the browser hides the features not in force on the day, marks the ended ones
            meta["period"] = {"day": day.isoformat(), "today": now.isoformat()}
        overlays.append(Overlay(layer, state.publication, tile_url_template(layer.id, state.publication),
                                shown, meta))
    return overlays
