"""Statistics per administrative unit and day (cases, tests, doses): figures, not features."""

from __future__ import annotations

from layers.kinds.base import LayerKind


class UnitStatKind(LayerKind):
    """Figures per unit and day, placed by the unit's name; drawn as the maps' choropleth."""

    name = "unit_stat"
    geometry = "none"
    has_features = False
    located_by = (frozenset({"commune"}),)
