"""Place a request in its commune and route it to the team of the level its kind names."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from boundaries.queries import COUNTRY_LEVEL, Unit, ancestors, find_units, get_unit, set_levels, unit_at
from epimap.errors import BadRequest
from epimap.settings import Settings
from layers.catalog import Service


class Unplaced(BadRequest):
    """The request's place is outside the portal's area, unknown, or names several communes."""

    code = "request_unplaced"


@dataclass(frozen=True)
class Area:
    """The area a portal serves: a boundary set and its top unit (the province)."""

    boundary_set: str
    code: str

    @classmethod
    def of(cls, settings: Settings) -> Area:
        """Return the area a portal's settings name (its default set and unit)."""
        return cls(settings.default_set, settings.default_unit)


def lowest_level(session: Session, area: Area) -> str:
    """Return the level requests are placed in (the set's smallest: communes, wards)."""
    levels = set_levels(session, area.boundary_set)
    if not levels:
        raise Unplaced(f"Bộ ranh giới {area.boundary_set} chưa được nạp.",
                       f"The boundary set {area.boundary_set} is not loaded.")
    return levels[-1]


def inside(session: Session, area: Area, unit: Unit) -> bool:
    """Tell whether a unit is the area's top unit or lies inside it."""
    return unit.code == area.code or any(a.code == area.code for a in ancestors(session, unit))


def place_at(session: Session, area: Area, lon: float, lat: float) -> Unit:
    """Return the commune of the area that contains a point."""
    unit = unit_at(session, area.boundary_set, lowest_level(session, area), lon, lat)
    if unit is None or not inside(session, area, unit):
        raise Unplaced("Vị trí này nằm ngoài địa bàn của cổng thông tin.",
                       "This place lies outside the area this portal serves.")
    return unit


def place_named(session: Session, area: Area, query: str) -> Unit:
    """Return the one commune of the area a name (however written) designates."""
    level = lowest_level(session, area)
    found = [u for u in find_units(session, area.boundary_set, query, within=area.code) if u.level == level]
    if len(found) == 1:
        return found[0]
    if not found:
        raise Unplaced(f"Không tìm thấy xã/phường “{query[:80]}” trong địa bàn.",
                       f"No commune or ward named “{query[:80]}” in this area.")
    names = "; ".join(f"{u.name} ({_parent_name(session, u)})" for u in found[:5])
    raise Unplaced(f"Có nhiều xã/phường tên “{query[:80]}”: {names}. Ghi thêm tên huyện.",
                   f"Several communes are named “{query[:80]}”: {names}. Add the district's name.")


def _parent_name(session: Session, unit: Unit) -> str:
    parent = get_unit(session, unit.boundary_set, unit.parent_code) if unit.parent_code else None
    return parent.name if parent else unit.code


def chain(session: Session, area: Area, commune: Unit) -> list[Unit]:
    """Return the units that may handle a commune's requests, the commune first, up to the area's top."""
    units = [commune, *reversed(ancestors(session, commune))]
    top = next((i for i, u in enumerate(units) if u.code == area.code), len(units) - 1)
    return [u for u in units[: top + 1] if u.level != COUNTRY_LEVEL]


def team_for(session: Session, area: Area, commune: Unit, service: Service) -> Unit:
    """Return the unit whose team handles a kind of request from a commune.

    A level the boundary set lacks (districts, since the 2025 reform) goes to the next level up.
    """
    units = chain(session, area, commune)
    wanted = set_levels(session, area.boundary_set)
    order = list(wanted)
    rank = order.index(service.level) if service.level in order else _rank_of_missing(service.level, order)
    for unit in units:
        if unit.level in order and order.index(unit.level) <= rank:
            return unit
    return units[-1]


def _rank_of_missing(level: str, order: list[str]) -> int:
    """Return where a level the set lacks sits: districts lie between provinces and communes."""
    return order.index("province") if level == "district" and "province" in order else len(order) - 1


def level_above(session: Session, area: Area, commune: Unit, team_code: str) -> Unit | None:
    """Return the unit above a team in the commune's chain, or None at the area's top."""
    units = chain(session, area, commune)
    codes = [u.code for u in units]
    if team_code not in codes or codes.index(team_code) == len(codes) - 1:
        return None
    return units[codes.index(team_code) + 1]


def level_below(session: Session, area: Area, commune: Unit, team_code: str) -> Unit | None:
    """Return the unit below a team in the commune's chain, or None at the commune."""
    codes = [u.code for u in chain(session, area, commune)]
    if team_code not in codes or codes.index(team_code) == 0:
        return None
    return chain(session, area, commune)[codes.index(team_code) - 1]


def team_name(unit: Unit, lang: str) -> str:
    """Return how a unit's response team is named (Open311's ``agency_responsible``)."""
    return f"Rapid-response team, {unit.name}" if lang == "en" else f"Tổ phản ứng nhanh {unit.name}"
