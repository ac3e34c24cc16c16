"""Resolve a feed row's unit from its names: its own and its parents' (province, district).

Parent columns constrain, they never hint.  A row whose province is not the scope's is
``out_of_scope`` (an :class:`~ingest.errors.OtherProvince`, counted per province in the report);
a row whose district is not the district of the unit its name finds is ``out_of_scope`` too, never
put on a same-named unit elsewhere; a parent name matching no unit at all is ``unknown_unit``
naming that parent.  Names go through the one matcher of :mod:`boundaries.names`, so
"TP. Thủ Dầu Một" is "Thủ Dầu Một" (a code or initials name a parent as well).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from boundaries.names import UnitName, named_units, split_kind
from boundaries.queries import COUNTRY_LEVEL, Unit, find_units, get_unit, units_at_levels
from ingest.errors import (
    Problem,
    ambiguous_parent,
    district_mismatch,
    other_province,
    outside_scope,
    unknown_parent,
)
from ingest.values import quote_value
from layers.versions import Scope

__all__ = ["DISTRICT_LEVEL", "PROVINCE_LEVEL", "RowNames", "UnitResolver", "Unresolved"]

PROVINCE_LEVEL = "province"
DISTRICT_LEVEL = "district"


@dataclass(frozen=True)
class RowNames:
    """The names a row gives: its unit's (at ``level``) and its parents' (None when not given)."""

    name: str
    level: str
    province: str | None = None
    district: str | None = None


@dataclass(frozen=True)
class Unresolved:
    """Why a row's names find no unit in scope, and which of them is at fault."""

    problem: Problem
    role: str  # "unit", "province" or "district"


@dataclass
class UnitResolver:
    """Resolves rows' names inside a scope, caching each distinct set of names."""

    session: Session
    scope: Scope
    cache: dict[RowNames, str | Unresolved] = field(default_factory=dict)
    parents: dict[str, list[UnitName]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        levels = (COUNTRY_LEVEL, PROVINCE_LEVEL, DISTRICT_LEVEL)
        self.parents = units_at_levels(self.session, self.scope.boundary_set, levels)

    @property
    def national(self) -> bool:
        """Tell whether the scope is the country: every province is inside it."""
        return self.scope.level == COUNTRY_LEVEL

    def resolve(self, names: RowNames) -> str | Unresolved:
        """Return the code of the one unit the row's names designate in scope, or why there is none."""
        if names not in self.cache:
            self.cache[names] = self._resolve(names)
        return self.cache[names]

    def _resolve(self, names: RowNames) -> str | Unresolved:
        if names.level == PROVINCE_LEVEL:
            return self._province_unit(names.name)
        within = self.scope.code
        if names.province is not None:
            province = self._province(names.province, "province")
            if isinstance(province, Unresolved):
                return province
            within = province if self.national else within
        districts = None
        if names.district is not None and names.level != DISTRICT_LEVEL and self.parents[DISTRICT_LEVEL]:
            province_code = within if names.province is not None and self.national else None
            districts = self._districts(names, province_code)
            if isinstance(districts, Unresolved):
                return districts
        return self._unit(names, within, districts)

    # ------------------------------------------------------------------ provinces

    def _province(self, name: str, role: str) -> str | Unresolved:
        """Return the code of the province a name gives, if inside the scope's province."""
        matches = named_units(name, self.parents[PROVINCE_LEVEL])
        if not matches:
            return Unresolved(unknown_parent(PROVINCE_LEVEL, quote_value(name), self._country_name()), role)
        if len(matches) > 1:
            listing = ", ".join(f"{m.name} [{m.code}]" for m in matches)
            return Unresolved(ambiguous_parent(PROVINCE_LEVEL, quote_value(name), listing), role)
        if self.national or matches[0].code == self.scope.province:
            return matches[0].code
        return Unresolved(other_province(matches[0].name, self.scope.name), role)

    def _province_unit(self, name: str) -> str | Unresolved:
        """Return the province a province-level row names, when the scope holds it."""
        code = self._province(name, "unit")
        if isinstance(code, str) and not self.national and code != self.scope.code:
            return Unresolved(outside_scope(quote_value(name), self.scope.name), "unit")
        return code

    def _country_name(self) -> str:
        countries = self.parents[COUNTRY_LEVEL]
        return countries[0].name if countries else self.scope.boundary_set

    # ------------------------------------------------------------------ districts

    def _districts(self, names: RowNames, province: str | None) -> set[str] | Unresolved:
        """Return the codes of the districts a row's district name gives in its province."""
        name = names.district or ""
        pool = self.parents[DISTRICT_LEVEL]
        home = province or (None if self.national else self.scope.province)
        matches = named_units(name, [d for d in pool if home is None or d.parent_code == home])
        if matches:
            return {m.code for m in matches}
        elsewhere = [] if names.province is not None else named_units(name, pool)
        provinces = {d.parent_code for d in elsewhere}
        if len(provinces) == 1:
            province_name = self._province_name(provinces.pop())
            return Unresolved(other_province(province_name, self.scope.name), "district")
        if elsewhere:
            return Unresolved(outside_scope(quote_value(name), self.scope.name), "district")
        where = self._province_name(home) if home else self._country_name()
        return Unresolved(unknown_parent(DISTRICT_LEVEL, quote_value(name), where), "district")

    def _province_name(self, code: str | None) -> str:
        found = [p.name for p in self.parents[PROVINCE_LEVEL] if p.code == code]
        return found[0] if found else str(code)

    # ------------------------------------------------------------------ the unit itself

    def _find(self, names: RowNames, within: str, districts: set[str] | None
              ) -> tuple[list[Unit], list[Unit]]:
        """Return the units of the row's level its name finds within a unit, and those in its districts."""
        units = [u for u in find_units(self.session, self.scope.boundary_set, names.name, within=within,
                                       parent_hint=names.district) if u.level == names.level]
        if districts is None:
            return units, units
        placed = [u for u in units if u.parent_code in districts]
        if units and not placed:  # "Xã Tân Bình" may be a Thị trấn today: the district decides
            bare = [u for u in find_units(self.session, self.scope.boundary_set, _bare(names.name),
                                          within=within, parent_hint=names.district)
                    if u.level == names.level and u.parent_code in districts]
            placed = bare
        return units, placed

    def _unit(self, names: RowNames, within: str, districts: set[str] | None) -> str | Unresolved:
        units, placed = self._find(names, within, districts)
        if len(placed) == 1:
            return placed[0].code
        if placed:
            return Unresolved(self._ambiguous(names, placed), "unit")
        if units:
            found = "; ".join(f"{u.name} ({self._parent_name(u.parent_code)})" for u in units)
            return Unresolved(district_mismatch(quote_value(names.name), found, quote_value(names.district)),
                              "district")
        return self._outside(names, districts)

    def _outside(self, names: RowNames, districts: set[str] | None) -> str | Unresolved:
        """Return the scope's own code when the names give the scope, else the out-of-scope/unknown reason."""
        shown = _shown(names)
        if not self.national and self.scope.code != self.scope.province:
            units, placed = self._find(names, self.scope.province, districts)
            if [u.code for u in placed] == [self.scope.code]:
                return self.scope.code  # a district's own figures, sent by that district
            if placed:
                return Unresolved(outside_scope(shown, self.scope.name), "unit")
        return Unresolved(Problem(
            "unknown_unit", f"Không tìm thấy đơn vị hành chính “{shown}” trong phạm vi {self.scope.code}.",
            f"No administrative unit “{shown}” found within {self.scope.code}."), "unit")

    def _ambiguous(self, names: RowNames, units: list[Unit]) -> Problem:
        """Return the problem of a name that several units of the scope bear."""
        shown = _shown(names)
        listing = ", ".join(f"{u.name} [{u.code}] – {self._parent_name(u.parent_code)}" for u in units)
        return Problem("ambiguous_unit",
                       f"Tên “{shown}” khớp nhiều đơn vị: {listing}; hãy ghi rõ huyện.",
                       f"Name “{shown}” matches several units: {listing}; give the district.")

    def _parent_name(self, code: str | None) -> str:
        """Return the name of a parent unit (its code when unknown)."""
        parent = get_unit(self.session, self.scope.boundary_set, code) if code else None
        return parent.name if parent else str(code)


def _shown(names: RowNames) -> str:
    """Return the row's unit name, with its district when given, quoted for a message."""
    return quote_value(names.name) + (f" ({quote_value(names.district)})" if names.district else "")


def _bare(name: str) -> str:
    """Return a name without its kind word ("Xã Tân Bình" -> "Tân Bình")."""
    return split_kind(name)[1]
