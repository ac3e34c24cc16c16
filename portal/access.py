"""Who may read a layer, and which part: every door that serves a layer's rows asks here.

A public layer is read whole by anyone.  A restricted (non-public) layer is read only by a
signed-in official (viewer or above), and only inside the official's unit: tiles, TileJSON and
downloads pass the unit down to the queries (see :func:`layers.store.within`).  Doors that are
public by nature (embeds, images, OGC, the finder, text views) serve public layers only.

Every answer about a restricted layer depends on who asks, its refusals included: this module says
so (:func:`portal.http_policy.private`), and the HTTP policy makes it ``Cache-Control: private,
no-store`` with ``Vary: Cookie, Authorization`` and no CORS header.
"""

from __future__ import annotations

from dataclasses import dataclass

from boundaries.queries import Unit, get_unit
from layers.catalog import Layer
from portal.catalog import current_catalog
from portal.database import db_session
from portal.errors import NotFound
from portal.http_policy import private


@dataclass(frozen=True)
class Readable:
    """A layer the requester may read, and the unit the reads are limited to (None: the whole layer)."""

    layer: Layer
    reader: Unit | None


def readable_layer(layer_id: str) -> Readable:
    """Return a catalogue layer the requester may read and how far; anything else is a 404."""
    layer = current_catalog().layer(layer_id)
    if layer is None or not layer.kind.has_features:
        raise NotFound()
    if layer.public:
        return Readable(layer, None)
    private()  # said before any refusal: a 404 here also depends on who asks
    from portal.console.auth import current_principal

    principal = current_principal()
    if principal is None or not principal.at_least("viewer"):
        raise NotFound()
    unit = get_unit(db_session(), principal.boundary_set, principal.scope_code)
    if unit is None:
        raise NotFound()
    return Readable(layer, unit)


def public_layer(layer_id: str) -> Layer:
    """Return a public catalogue layer (for doors whose answers are cached by URL); else a 404."""
    layer = current_catalog().layer(layer_id)
    if layer is None or not layer.public or not layer.kind.has_features:
        raise NotFound()
    return layer

