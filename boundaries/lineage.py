"""Read the crosswalk: which old units formed a new one, where an old one went, and in what share."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Link:
    """The unit at the other end of a crosswalk row, as a page names it."""

    set_name: str
    code: str
    name: str
    parent_name: str | None
    whole: bool
    note: str | None
    loaded: bool  # the unit is in its boundary set, so it has a page


@dataclass(frozen=True)
class Share:
    """How much of an old unit's figures go to a new unit."""

    old_set: str
    old_code: str
    fraction: float | None  # 1 for a whole merge; by area for a part; None: no geometry to tell
    whole: bool


_PREDECESSORS = text(
    """
    SELECT c.old_set AS set_name, c.old_code AS code, c.old_name AS name,
           c.old_parent_name AS parent_name, c.whole, c.note, u.code IS NOT NULL AS loaded
    FROM crosswalk c LEFT JOIN admin_unit u ON u.boundary_set = c.old_set AND u.code = c.old_code
    WHERE c.new_set = :s AND c.new_code = :c ORDER BY c.whole DESC, c.old_name, c.old_code
    """
)

_SUCCESSORS = text(
    """
    SELECT c.new_set AS set_name, c.new_code AS code, c.new_name AS name,
           c.new_parent_name AS parent_name, c.whole, c.note, u.code IS NOT NULL AS loaded
    FROM crosswalk c LEFT JOIN admin_unit u ON u.boundary_set = c.new_set AND u.code = c.new_code
    WHERE c.old_set = :s AND c.old_code = :c ORDER BY c.whole DESC, c.new_name, c.new_code
    """
)


def predecessors(session: Session, set_name: str, code: str) -> list[Link]:
    """Return the old units a new unit was formed from, whole merges first."""
    return [Link(**r) for r in session.execute(_PREDECESSORS, {"s": set_name, "c": code}).mappings()]


def successors(session: Session, set_name: str, code: str) -> list[Link]:
    """Return the new units an old unit went into, whole first."""
    return [Link(**r) for r in session.execute(_SUCCESSORS, {"s": set_name, "c": code}).mappings()]


# A part's share is the fraction of the old unit's area lying in the new unit (geodesic areas).
_SHARES = text(
    """
    SELECT c.old_set, c.old_code, c.whole,
           CASE WHEN c.whole THEN 1.0
                WHEN o.geom IS NOT NULL AND n.geom IS NOT NULL THEN
                    ST_Area(ST_Intersection(o.geom, n.geom)::geography)
                    / NULLIF(ST_Area(o.geom::geography), 0)
           END AS fraction
    FROM crosswalk c
    LEFT JOIN admin_unit o ON o.boundary_set = c.old_set AND o.code = c.old_code
    LEFT JOIN admin_unit n ON n.boundary_set = c.new_set AND n.code = c.new_code
    WHERE c.new_set = :s AND c.new_code = :c ORDER BY c.old_code
    """
)


def shares(session: Session, set_name: str, code: str) -> list[Share]:
    """Return what share of each old unit's figures a new unit takes."""
    rows = session.execute(_SHARES, {"s": set_name, "c": code})
    return [Share(r.old_set, r.old_code, None if r.fraction is None else float(r.fraction), r.whole)
            for r in rows]

