"""The preview of a statistics feed: the values it adds and changes, unit by unit, for officials to check.

A preview of features lists features; a statistics feed's changes are values of units × days, so
they are listed per unit (its name, its outline for the preview map, the first data row giving
it) with each value as ``[metric, day, old, new]``.  At most ``limit`` values of each kind are
listed; ``values_listed`` says how many were, so the page can tell when the list is cut short.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from layers.stat_versions import ValueChange, staged_changes
from layers.versions import Scope

KINDS = ("added", "changed", "removed")


def _per_unit(changes: list[ValueChange]) -> list[dict[str, Any]]:
    """Group listed values by unit, in the order their units first appear."""
    items: dict[str, dict[str, Any]] = {}
    for change in changes:
        item = items.setdefault(change.unit_code, {
            "source_id": change.unit_code, "name": change.unit_name, "row": change.row,
            "geometry": change.geometry, "values": []})
        if change.row is not None and (item["row"] is None or change.row < item["row"]):
            item["row"] = change.row
        item["values"].append([change.metric, change.day.isoformat(), change.old, change.new])
    return list(items.values())


def list_value_changes(session: Session, scope: Scope, limit: int) -> dict[str, Any]:
    """List what the staged statistics (``stat_staging``) add, change and remove, per unit."""
    listed = {kind: staged_changes(session, scope.boundary_set, kind, limit) for kind in KINDS}
    return {**{kind: _per_unit(values) for kind, values in listed.items()},
            "values_listed": {kind: len(values) for kind, values in listed.items()}}
