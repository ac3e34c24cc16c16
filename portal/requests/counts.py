"""The public face of citizens' requests: counts per commune and kind, placed at communes' label points.

Never a request's own point, text or caller: only :func:`dispatch.aggregate.per_commune`'s counts,
each commune drawn at its label point (the one the map writes its name at).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from sqlalchemy.orm import Session

from boundaries.queries import Unit, descendants_of, get_unit
from dispatch.aggregate import CommuneCount, per_commune
from layers.catalog import Catalog, Layer, Service
from portal.i18n import translate

LAYER_ID = "citizen_requests"
LABEL_DECIMALS = 5


@dataclass
class CommuneTotals:
    """One commune's requests: its label point, totals and the counts of each kind."""

    code: str
    name: str
    lon: float
    lat: float
    open: int = 0
    resolved: int = 0
    kinds: list[CommuneCount] = field(default_factory=list)

    def feature(self, services: dict[str, Service]) -> dict[str, Any]:
        """Return the commune as a GeoJSON point feature with its counts."""
        kinds = {c.kind: {"title_vi": _title(services, c.kind, "vi"),
                          "title_en": _title(services, c.kind, "en"), "open": c.open, "resolved": c.resolved,
                          "median_hours_to_resolve": c.median_hours_to_resolve} for c in self.kinds}
        return {"type": "Feature", "id": self.code,
                "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
                "properties": {"commune_code": self.code, "commune_name": self.name, "open": self.open,
                               "resolved": self.resolved, "kinds": kinds}}


def _title(services: dict[str, Service], kind: str, lang: str) -> str:
    service = services.get(kind)
    return service.title(lang) if service else kind


def area_codes(session: Session, unit: Unit) -> list[str]:
    """Return the codes of a unit and of every unit inside it."""
    return [unit.code, *(u.code for u in descendants_of(session, unit.boundary_set, unit.code))]


def commune_counts(session: Session, unit: Unit) -> list[CommuneCount]:
    """Return the counts per commune and kind of the requests placed inside a unit."""
    return per_commune(session, unit.boundary_set, area_codes(session, unit))


def commune_totals(session: Session, unit: Unit) -> list[CommuneTotals]:
    """Return the communes of a unit that have requests, each with its label point and counts."""
    totals: dict[str, CommuneTotals] = {}
    for count in commune_counts(session, unit):
        entry = totals.get(count.commune_code)
        if entry is None:
            commune = get_unit(session, unit.boundary_set, count.commune_code)
            if commune is None:
                continue
            entry = totals[count.commune_code] = CommuneTotals(
                commune.code, commune.name, round(commune.lon, LABEL_DECIMALS),
                round(commune.lat, LABEL_DECIMALS))
        entry.open += count.open
        entry.resolved += count.resolved
        entry.kinds.append(count)
    return list(totals.values())


def requests_layer(catalog: Catalog) -> Layer | None:
    """Return the catalogue's public requests layer, or None when the portal takes no requests."""
    layer = catalog.requests_layer
    return layer if layer is not None and layer.public else None


def counts_overlay(session: Session, catalog: Catalog, unit: Unit, lang: str,
                   shown: bool) -> dict[str, Any] | None:
    """Return what the map's script needs to draw a unit's request counts (fetched when switched on)."""
    layer = requests_layer(catalog)
    if layer is None:
        return None
    total = sum(c.open + c.resolved for c in commune_counts(session, unit))
    params = {"unit": unit.code, "set": unit.boundary_set, "lang": lang}
    return {"id": layer.id, "title": translate("citizen_counts_title", lang), "color": layer.color,
            "geometry": "point", "count": total, "updated": None, "shown": shown,
            "url": url_for("request_counts.download", fmt="geojson", **params),
            "texts": {"open": translate("citizen_counts_open", lang),
                      "resolved": translate("citizen_counts_resolved", lang),
                      "median": translate("citizen_counts_median", lang),
                      "hours": translate("citizen_counts_hours", lang)}}
