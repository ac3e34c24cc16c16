"""Citizens' requests for help: records of people, shown to the public only as counts per unit."""

from __future__ import annotations

from layers.kinds.base import LayerKind


class RequestKind(LayerKind):
    """Requests placed in their commune; the public sees counts per commune, never a point."""

    name = "request"
    geometry = "none"
    has_features = False
    located_by = (frozenset({"commune"}), frozenset({"lat", "lon"}))
