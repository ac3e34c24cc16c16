"""Place a point feed's rows without coordinates by their commune's name, today's or a 2021 one.

A commune name finding no unit or several keeps its reason (``no_location``, ``ambiguous_commune``);
a district that is not the commune's, or names nothing, gives the parents' problem
(:mod:`ingest.parents`), kept in ``problems`` for the report.  A name found nowhere may be an old
commune's (:mod:`ingest.carry`): one that went into one unit places the row there (noted in
``carried``), one split among several gives its problem (in ``named``).  A feed written with old
names (some found only among the old communes, none only among today's units) has all its names
read again as old ones (:meth:`NameResolver.old_names`): "Xã Đông Thành" of 2021 is not the 2025
ward of that name.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ingest.carry import Crosswalk, OldUnit, carried_note, carried_place, one_old_unit, placeable
from ingest.errors import Problem
from ingest.parents import RowNames, UnitResolver
from layers.versions import Scope

__all__ = ["NameResolver"]

Pair = tuple[str, str | None]  # a row's commune and district names
Found = tuple[str | None, str | None]  # the unit's code, or None and the reason


class NameResolver:
    """Find the lowest-level unit a row without coordinates names; its district column constrains."""

    def __init__(self, session: Session, scope: Scope) -> None:
        self.scope, self.units = scope, UnitResolver(session, scope)
        self.crosswalk = Crosswalk(session, scope)
        self.problems: dict[Pair, Problem] = {}
        self.named: dict[Pair, Problem] = {}
        self.carried: dict[Pair, Problem] = {}
        self.direct: dict[Pair, str] = {}  # pairs found among today's units

    def __call__(self, commune: str, district: str | None) -> Found:
        found = self.units.resolve(RowNames(commune, self.scope.lowest, district=district))
        if isinstance(found, str):
            self.direct[(commune, district)] = found
            return found, None
        if found.role != "unit":
            self.problems[(commune, district)] = found.problem
            return None, found.problem.code
        unknown = found.problem.code == "unknown_unit"
        old = carried_place(self.crosswalk, commune, district) if unknown else None
        if old is not None:
            return self._carried((commune, district), old)
        return None, "ambiguous_commune" if found.problem.code == "ambiguous_unit" else "no_location"

    def _carried(self, pair: Pair, old: OldUnit | Problem) -> Found:
        if isinstance(old, OldUnit):
            self.carried[pair] = carried_note(self.crosswalk, old)
            return old.inside[0].code, None
        self.named[pair] = old
        return None, old.code

    def old_names(self) -> dict[Pair, Found]:
        """Return each directly found pair read as an old commune's, if the feed is written with old names."""
        if not self.carried or not self.direct:
            return {}
        olds = {pair: self.crosswalk.find(*pair) for pair in self.direct}
        if not all(olds.values()):
            return {}  # a name only today's units bear: the feed is written with today's names
        found = {}
        for pair, code in self.direct.items():
            same = [u for u in olds[pair] if [s.code for s in u.successors] == [code]]
            found[pair] = self._carried(pair, placeable(self.crosswalk, one_old_unit(
                self.crosswalk, pair[0], same or olds[pair])))
        return found
