"""A unit's place in the 2025 reform: what formed it, where it went, the old figures carried onto it."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy.orm import Session

from boundaries.lineage import Link, predecessors, successors
from boundaries.queries import Unit
from layers.carried import CarriedFigure, carried_week


class Lineage(NamedTuple):
    """What a unit page shows of the crosswalk."""

    formed_from: list[Link]
    now_part_of: list[Link]
    carried: CarriedFigure | None  # new cases of the old units' last week with figures


def unit_lineage(session: Session, unit: Unit, day: date | None) -> Lineage:
    """Return a unit's predecessors, successors and the old units' figures carried onto it."""
    formed_from = predecessors(session, unit.boundary_set, unit.code)
    carried = carried_week(session, unit.boundary_set, unit.code, day) if formed_from else None
    return Lineage(formed_from, successors(session, unit.boundary_set, unit.code),
                   carried if carried and carried.value is not None else None)
