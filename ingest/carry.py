"""Carry feed rows written with old units (2021 communes) onto new ones (2025 wards) via the crosswalk.

A row whose unit name or code matches no unit of the scope's set, in a set the crosswalk's new side
names, may name an old unit instead: one the crosswalk sends to a unit of the scope's province.  An
old unit that went whole into one new unit stands for it; one split among several (or merged only
in part) goes to each in the share of its area lying there, which needs its old boundary (without
it the share cannot be told).  The crosswalk rows of the province are read in one query, and only
once a row's name has found nothing (a feed written with today's names never reads them).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.crosswalk import commune_code
from boundaries.names import UnitName, find_names, named_units, split_kind
from ingest.errors import (
    Problem,
    ambiguous_old_unit,
    carried_row,
    outside_scope,
    split_commune,
    unknown_share,
)
from ingest.values import quote_value
from layers.versions import Scope

__all__ = ["Crosswalk", "OldUnit", "Successor", "carried_figures", "carried_note", "carried_place",
           "carried_unit", "one_old_unit", "placeable", "set_year", "with_shares"]

MIN_CODE_DIGITS = 4  # "4" in a name column is no commune code; "4963" may be one that lost its zero

# The crosswalk rows into the lowest units of the scope's province, each with the share of the old
# unit's area lying in the new unit: 1 for an old unit whose one row is a whole merge, by area for
# the others (NULL without the old boundary).  ``inside`` tells whether the new unit is in the scope.
_ROWS = text(
    """
    WITH RECURSIVE tree AS (
        SELECT code, code = :scope AS inside FROM admin_unit WHERE boundary_set = :s AND code = :province
        UNION ALL
        SELECT u.code, t.inside OR u.code = :scope FROM admin_unit u
        JOIN tree t ON u.boundary_set = :s AND u.parent_code = t.code
    ), rows AS (
        SELECT c.*, count(*) OVER (PARTITION BY c.old_set, c.old_code) AS successors FROM crosswalk c
        WHERE c.new_set = :s AND (c.old_set, c.old_code) IN (
            SELECT x.old_set, x.old_code FROM crosswalk x
            JOIN tree t ON x.new_set = :s AND x.new_code = t.code)
    )
    SELECT r.old_set, r.old_code, r.old_name, r.old_parent_name, r.new_code, n.name AS new_name,
           r.whole AND r.successors = 1 AS whole, coalesce(t.inside, false) AS inside,
           CASE WHEN r.whole AND r.successors = 1 THEN 1.0
                WHEN o.geom IS NOT NULL AND n.geom IS NOT NULL THEN
                    ST_Area(ST_Intersection(o.geom, n.geom)::geography)
                    / NULLIF(ST_Area(o.geom::geography), 0)
           END AS fraction
    FROM rows r
    JOIN admin_unit n ON n.boundary_set = :s AND n.code = r.new_code AND n.level = :lowest
    LEFT JOIN tree t ON t.code = r.new_code
    LEFT JOIN admin_unit o ON NOT (r.whole AND r.successors = 1)
        AND o.boundary_set = r.old_set AND o.code = r.old_code
    ORDER BY r.old_set, r.old_code, n.name, r.new_code
    """
)


@dataclass(frozen=True)
class Successor:
    """A new unit an old unit went into, and the share of the old unit's figures it takes."""

    code: str
    name: str
    fraction: float | None  # 1 for a whole merge; by area for a part; None: no old boundary to tell
    inside: bool  # the new unit is inside the feed's scope


@dataclass(frozen=True)
class OldUnit:
    """An old unit a row names, with the new units it went into."""

    set_name: str
    code: str
    name: str
    district: str | None
    province: str | None
    whole: bool  # went whole into its one new unit
    successors: tuple[Successor, ...] = field(default_factory=tuple)

    @property
    def year(self) -> str:
        """Return the year its set stands for ("2021" for vn2021)."""
        return set_year(self.set_name)

    @property
    def inside(self) -> list[Successor]:
        """Return the new units it went into that lie inside the feed's scope."""
        return [s for s in self.successors if s.inside]

    @property
    def shown(self) -> str:
        """Return the unit as messages name it: "Phường Hưng Dũng (2021)"."""
        return f"{self.name} ({self.year})"


def set_year(set_name: str) -> str:
    """Return the year a boundary set's name holds, else the name.

    >>> set_year("vn2021"), set_year("x2025"), set_year("demo")
    ('2021', '2025', 'demo')
    """
    found = re.search(r"(19|20)\d\d", set_name)
    return found[0] if found else set_name


def _province(parent_name: str | None) -> str | None:
    """Return the province of a crosswalk row's old parent: its last part.

    >>> _province("Thành phố Vinh, Tỉnh Nghệ An"), _province("Tỉnh Nghệ An"), _province(None)
    ('Tỉnh Nghệ An', 'Tỉnh Nghệ An', None)
    """
    parts = [p.strip() for p in (parent_name or "").split(",") if p.strip()]
    return parts[-1] if parts else None


def _district(parent_name: str | None) -> str | None:
    """Return the district of a crosswalk row's old parent ("Thành phố Vinh, Tỉnh Nghệ An").

    >>> _district("Thành phố Vinh, Tỉnh Nghệ An"), _district("Tỉnh Nghệ An"), _district(None)
    ('Thành phố Vinh', None, None)
    """
    parts = [p.strip() for p in (parent_name or "").split(",") if p.strip()]
    return parts[0] if len(parts) > 1 else None


@dataclass
class Crosswalk:
    """The old units whose figures a feed may carry into its scope, read when first needed."""

    session: Session
    scope: Scope
    _units: dict[tuple[str, str], OldUnit] | None = None
    _names: list[UnitName] = field(default_factory=list)
    _found: dict[tuple[str, str | None], list[OldUnit]] = field(default_factory=dict)
    _may_carry: bool | None = None
    _old_provinces: dict[str, bool] = field(default_factory=dict)
    _all_old_provinces: list[UnitName] | None = None

    @property
    def may_carry(self) -> bool:
        """Tell whether the crosswalk leads into the scope's set at all (one cheap query, once)."""
        if self._may_carry is None:
            self._may_carry = bool(self._units) or self.session.execute(text(
                "SELECT EXISTS (SELECT 1 FROM crosswalk WHERE new_set = :s)"),
                {"s": self.scope.boundary_set}).scalar_one()
        return self._may_carry

    @property
    def year(self) -> str:
        """Return the year of the scope's set ("2025")."""
        return set_year(self.scope.boundary_set)

    def units(self) -> dict[tuple[str, str], OldUnit]:
        """Return the old units by (set, code), reading the crosswalk once."""
        if self._units is None:
            self._units = self._read()
            self._names = [UnitName(f"{s}/{c}", u.name, u.district) for (s, c), u in self._units.items()]
        return self._units

    def _read(self) -> dict[tuple[str, str], OldUnit]:
        params = {"s": self.scope.boundary_set, "scope": self.scope.code, "province": self.scope.province,
                  "lowest": self.scope.lowest}
        found: dict[tuple[str, str], OldUnit] = {}
        for r in self.session.execute(_ROWS, params):
            key = (r.old_set, r.old_code)
            unit = found.get(key) or OldUnit(r.old_set, r.old_code, r.old_name, _district(r.old_parent_name),
                                              _province(r.old_parent_name), r.whole)
            fraction = None if r.fraction is None else float(r.fraction)
            found[key] = replace(unit, successors=(*unit.successors,
                                                   Successor(r.new_code, r.new_name, fraction, r.inside)))
        return found

    def find(self, name: str, district: str | None = None, province: str | None = None) -> list[OldUnit]:
        """Return the old units a row's name (or old code) designates, narrowed by its parents' names."""
        if (name, district) not in self._found:
            self._found[(name, district)] = self._find(name, district) if self.may_carry else []
        found = self._found[(name, district)]
        return [u for u in found if _in_province(u, province)] if province else found

    def is_old_province(self, name: str) -> bool:
        """Tell whether a name is the province of an old unit going into the scope's province."""
        if name not in self._old_provinces:
            provinces = {u.province for u in self.units().values() if u.province} if self.may_carry else set()
            self._old_provinces[name] = bool(named_units(name, [UnitName(p, p) for p in provinces]))
        return self._old_provinces[name]

    def old_province_named(self, name: str) -> str | None:
        """Return the old province a name gives, as shown ("Tỉnh Quảng Bình (2021)"), or None.

        Old provinces are those of the sets the crosswalk leads from, read from their loaded
        boundaries and from the crosswalk rows' parents: a 2021 national feed names "Quảng Bình",
        a province no longer found in 2025.
        """
        if self._all_old_provinces is None:
            self._all_old_provinces = self._read_old_provinces() if self.may_carry else []
        found = {u.code for u in named_units(name, self._all_old_provinces)}
        return found.pop() if len(found) == 1 else None

    def _read_old_provinces(self) -> list[UnitName]:
        params = {"s": self.scope.boundary_set}
        loaded = self.session.execute(text(
            "SELECT boundary_set, name FROM admin_unit WHERE level = 'province' AND boundary_set IN"
            " (SELECT DISTINCT old_set FROM crosswalk WHERE new_set = :s)"), params).all()
        parents = self.session.execute(text(
            "SELECT DISTINCT old_set, old_parent_name FROM crosswalk WHERE new_set = :s"), params).all()
        names = {*loaded, *((old_set, _province(parent)) for old_set, parent in parents if _province(parent))}
        return [UnitName(f"{name} ({set_year(old_set)})", name) for old_set, name in sorted(names)]

    def _find(self, name: str, district: str | None) -> list[OldUnit]:
        units = self.units()
        if not units:
            return []
        digits = name.strip()
        if digits.replace(".0", "").isdigit() and len(digits.split(".")[0]) >= MIN_CODE_DIGITS:
            code = commune_code(digits)
            return [u for (_, c), u in units.items() if c == code]
        parents = {u.district: u.district for u in units.values() if u.district}
        matches = _exact(name, find_names(name, self._names, parents, parent_hint=district))
        return [units[tuple(m.code.split("/", 1))] for m in matches]


def _exact(name: str, matches: list[UnitName]) -> list[UnitName]:
    """Keep the matches spelt as the name is, tone marks included, if some are and others are not.

    Folded, "Đông Thành" is also "Đồng Thành" (two communes of Yên Thành in 2021).

    >>> c = [UnitName("1", "Xã Đồng Thành"), UnitName("2", "Xã Đông Thành")]
    >>> [u.code for u in _exact("Đông Thành", c)], [u.code for u in _exact("Dong Thanh", c)]
    (['2'], ['1', '2'])
    """
    if len(matches) < 2:
        return matches
    spelt = unicodedata.normalize("NFC", split_kind(name)[1]).casefold()
    same = [m for m in matches if unicodedata.normalize("NFC", split_kind(m.name)[1]).casefold() == spelt]
    return same or matches


def _in_province(unit: OldUnit, province: str) -> bool:
    return unit.province is not None and bool(named_units(province, [UnitName("", unit.province)]))


def _listing(successors: list[Successor], year: str) -> str:
    return ", ".join(f"{s.name} [{s.code}] ({year})" for s in successors)


def carried_unit(crosswalk: Crosswalk, name: str, district: str | None, province: str | None = None
                 ) -> OldUnit | Problem | None:
    """Return the one old unit a row's name designates, reaching into the scope; its problem; or None."""
    return one_old_unit(crosswalk, name, crosswalk.find(name, district, province))


def one_old_unit(crosswalk: Crosswalk, name: str, found: list[OldUnit]) -> OldUnit | Problem | None:
    """Return the one old unit of those a name found, if it reaches into the scope; its problem; or None."""
    if not found:
        return None
    if len(found) > 1:
        listing = "; ".join(f"{u.name} [{u.code}] – {u.district or '?'}" for u in found)
        return ambiguous_old_unit(quote_value(name), listing)
    old = found[0]
    if not old.inside:
        shown = f"{old.shown} → {_listing(list(old.successors), crosswalk.year)}"
        return outside_scope(shown, crosswalk.scope.name)
    return old


def carried_figures(crosswalk: Crosswalk, name: str, district: str | None, province: str | None = None
                    ) -> OldUnit | Problem | None:
    """Return the old unit whose figures a statistics row gives, when they can be carried; else as above."""
    return with_shares(crosswalk, carried_unit(crosswalk, name, district, province))


def with_shares(crosswalk: Crosswalk, old: OldUnit | Problem | None) -> OldUnit | Problem | None:
    """Return an old unit whose figures can be shared onto its new units, else the problem (or None)."""
    if isinstance(old, OldUnit) and any(s.fraction is None for s in old.inside):
        return unknown_share(old.shown, _listing(old.inside, crosswalk.year))
    return old


def carried_place(crosswalk: Crosswalk, name: str, district: str | None, province: str | None = None
                  ) -> OldUnit | Problem | None:
    """Return the old unit that places a row without coordinates (it went into one unit); else as above."""
    return placeable(crosswalk, carried_unit(crosswalk, name, district, province))


def placeable(crosswalk: Crosswalk, old: OldUnit | Problem | None) -> OldUnit | Problem | None:
    """Return an old unit that places a row (it went into one unit), else the problem (or None)."""
    if isinstance(old, OldUnit) and len(old.successors) > 1:
        return split_commune(old.shown, _listing(list(old.successors), crosswalk.year))
    return old


def carried_note(crosswalk: Crosswalk, old: OldUnit) -> Problem:
    """Return the note a carried row keeps: the old unit, and the new units taking its figures."""
    return carried_row(old.shown, crosswalk.year, [(s.name, s.fraction or 0.0) for s in old.inside],
                       estimated=not old.whole)
