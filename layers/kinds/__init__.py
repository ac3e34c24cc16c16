"""Layer kinds, one module each, chosen by the catalogue's ``kind:`` through :data:`KINDS`."""

from __future__ import annotations

from layers.kinds.base import LayerKind
from layers.kinds.point import PointKind
from layers.kinds.polygon import PolygonKind
from layers.kinds.request import RequestKind
from layers.kinds.unit_stat import UnitStatKind

KINDS: dict[str, LayerKind] = {
    kind.name: kind for kind in (PointKind(), PolygonKind(), UnitStatKind(), RequestKind())
}

__all__ = ["KINDS", "LayerKind"]
