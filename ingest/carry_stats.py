"""Carried statistics: values a feed gives for old units, summed and shared onto new units.

A row naming an old unit (see :mod:`ingest.carry`) keeps its values under the old unit's key
("vn2021/16675") while repeats are settled, so the same old commune given twice is a repeat but two
old communes of one ward on a day are two parts of its figure.  Each old value then goes to its new
units in their shares, summed per new unit, metric and day; a value made with a share by area is
estimated.  A new unit's figure given by a row of its own is never added to: the old units' rows
giving it are rejected instead.
"""

from __future__ import annotations

from collections import defaultdict

from ingest.carry import Crosswalk, OldUnit
from ingest.errors import carried_conflict
from ingest.repeats import Entry, Key, settle_repeats
from ingest.report import Report, RowResult

__all__ = ["carried_key", "settle_with_carried"]

SEPARATOR = "/"  # no unit code holds it: an old unit's key is "set/code"


def carried_key(old: OldUnit) -> str:
    """Return the code under which an old unit's values wait to be carried."""
    return f"{old.set_name}{SEPARATOR}{old.code}"


def _is_carried(entry: Entry) -> bool:
    return any(SEPARATOR in key[0] for key in entry[1])


def settle_with_carried(report: Report, entries: list[Entry], crosswalk: Crosswalk
                        ) -> tuple[dict[Key, float], dict[Key, int], set[Key]]:
    """Settle repeats, then carry the old units' values; return values, each one's row, the estimated."""
    direct = [e for e in entries if not _is_carried(e)]
    values, rows = settle_repeats(report, direct)
    carried = [e for e in entries if _is_carried(e)]
    if not carried:
        return values, rows, set()
    old_values, _ = settle_repeats(report, carried)
    kept = [e for e in carried if report.rows[e[0]].status == "accepted"]
    first = {key: index for index, found, _ in reversed(kept) for key in found}
    units = {carried_key(u): u for u in crosswalk.units().values()}
    _reject_conflicts(report, kept, units, rows)
    estimated: set[Key] = set()
    sums: dict[Key, float] = defaultdict(float)
    for key, value in old_values.items():
        row = report.rows[first[key]]
        if row.status != "accepted":
            continue
        old = units[key[0]]
        for successor in old.inside:
            new_key = (successor.code, key[1], key[2])
            sums[new_key] += value * (successor.fraction or 0.0)
            rows[new_key] = min(rows.get(new_key, row.row), row.row)
            if not old.whole:
                estimated.add(new_key)
    return {**values, **sums}, rows, estimated


def _reject_conflicts(report: Report, kept: list[Entry], units: dict[str, OldUnit],
                      rows: dict[Key, int]) -> None:
    """Reject each old unit's row giving a new unit's value that a row of the new unit gives too."""
    for index, found, column in kept:
        for key in found:
            old = units[key[0]]
            clash = next((s for s in old.inside if (s.code, key[1], key[2]) in rows), None)
            if clash is not None:
                row = report.rows[index]
                day = key[2].strftime("%d/%m/%Y")
                problem = carried_conflict(f"{clash.name} [{clash.code}]", key[1], day,
                                           rows[(clash.code, key[1], key[2])])
                report.rows[index] = RowResult.rejected(row.sheet, row.row, problem, column)
                break
