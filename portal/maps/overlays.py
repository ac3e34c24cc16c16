"""The public layers drawn over a unit's map: tile URLs, styles and popup fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from layers.catalog import Catalog, Layer
from layers.meta import layer_state
from portal.tiles import tile_url_template

SHOWN_AT_START = ("testing_sites", "lockdown_zones")


@dataclass(frozen=True)
class Overlay:
    """One layer on the map, at its current publication."""

    layer: Layer
    publication: int
    url: str
    shown: bool
    meta: dict[str, Any]


def _meta(layer: Layer, publication: int, updated: float | None, count: int, lang: str) -> dict[str, Any]:
    return {
        "id": layer.id, "title": layer.title(lang), "color": layer.color, "icon": layer.icon,
        "geometry": layer.geometry, "publication": publication, "updated": updated, "count": count,
        "fields": [[a.name, a.label_vi if lang == "vi" else a.label_en]
                   for a in layer.attributes if a.public],
    }


def public_overlays(session: Session, catalog: Catalog, lang: str) -> list[Overlay]:
    """Return every public layer that has a publication, polygons first so points stay on top."""
    overlays = []
    for layer in sorted(catalog.layers.values(), key=lambda item: item.geometry != "polygon"):
        if not layer.public:
            continue
        state = layer_state(session, layer)
        if state.publication is None:
            continue
        updated = state.updated_at.timestamp() if state.updated_at else None
        overlays.append(Overlay(layer, state.publication, tile_url_template(layer.id, state.publication),
                                layer.id in SHOWN_AT_START,
                                _meta(layer, state.publication, updated, state.count, lang)))
    return overlays
