"""The base of layer kinds: what a layer's features are, and what that means to every part of epimap."""

from __future__ import annotations

from typing import Any, ClassVar


class LayerKind:
    """A kind of layer, chosen by the catalogue's ``kind:``; code asks its kind, never its geometry.

    Subclasses set the class attributes and override what differs.  ``layers/kinds/__init__.py``
    keeps the registry; a new kind is one module there.
    """

    name: ClassVar[str]
    geometry: ClassVar[str]  # what the ``layer`` table records as its geometry type
    has_features: ClassVar[bool] = True  # rows in ``feature`` (drawn, exported, served by OGC)
    areas: ClassVar[bool] = False  # features are areas: located by their shape, drawn under points
    clusters: ClassVar[bool] = False  # drawn as clusters below the layer's ``cluster_below_zoom``
    may_be_searched: ClassVar[bool] = False  # may be ``searchable`` by distance (/api/nearby, KNN)
    may_block_access: ClassVar[bool] = False  # may be ``blocks_access`` (a finder flags sites inside)
    # Sets of location columns (catalogue ``location_columns`` roles), any one of which places a
    # row; a commune column places a row of any kind.
    located_by: ClassVar[tuple[frozenset[str], ...]] = ()

    def clustered(self, z: int, cluster_below_zoom: int) -> bool:
        """Tell whether the layer's tile at zoom ``z`` shows clusters rather than features."""
        return self.clusters and z < cluster_below_zoom

    def export_columns(self) -> list[tuple[str, str]]:
        """Return the (key, bilingual header) columns that place a feature in CSV and XLSX files."""
        return []

    def export_place(self, geometry: dict[str, Any]) -> list[Any]:
        """Return a feature's place (a GeoJSON geometry) as the cells of :meth:`export_columns`."""
        return []

    def __repr__(self) -> str:
        return f"<layer kind {self.name}>"
