"""Carried statistics: values a feed gives for old units, summed and shared onto new units.

A row naming an old unit (see :mod:`ingest.carry`) keeps its values under the old unit's key
("vn2021/16675") while repeats are settled, so the same old commune given twice is a repeat but two
old communes of one ward on a day are two parts of its figure.  Each old value then goes to its new
units in their shares, summed per new unit, metric and day; a value made with a share by area is
estimated.  A feed written with old names reads them all as old names, also those a new unit bears
too.  In a feed mixing old and new names, a new unit's figure given by a row of its own is never
added to: the old units' rows giving it are rejected instead.
"""

from __future__ import annotations

from collections import defaultdict

from ingest.carry import Crosswalk, OldUnit, carried_note, one_old_unit, with_shares
from ingest.errors import carried_conflict
from ingest.repeats import Entry, Key, settle_repeats
from ingest.report import Report, RowResult

__all__ = ["carried_key", "is_carried", "settle_with_carried"]

SEPARATOR = "/"  # no unit code holds it: an old unit's key is "set/code"


def carried_key(old: OldUnit) -> str:
    """Return the code under which an old unit's values wait to be carried."""
    return f"{old.set_name}{SEPARATOR}{old.code}"


def is_carried(found: dict[Key, float]) -> bool:
    """Tell whether a row's values wait under an old unit's key."""
    return any(SEPARATOR in key[0] for key in found)


RowNames = dict[int, tuple[str, str | None]]  # a directly found row's name and district, by report index


def settle_with_carried(report: Report, entries: list[Entry], crosswalk: Crosswalk, names: RowNames
                        ) -> tuple[dict[Key, float], dict[Key, int], set[Key]]:
    """Settle repeats, then carry the old units' values; return values, each one's row, the estimated.

    ``names`` gives the names of the rows found directly, read as old units' names when the feed is
    written with old names (:func:`_reread_old_names`).
    """
    carried = [e for e in entries if is_carried(e[1])]
    direct = [e for e in entries if not is_carried(e[1])]
    if carried:
        direct, carried = _reread_old_names(report, direct, carried, crosswalk, names)
    values, rows = settle_repeats(report, direct)
    if not carried:
        return values, rows, set()
    old_values, _ = settle_repeats(report, carried)
    kept = [e for e in carried if report.rows[e[0]].status == "accepted"]
    units = _by_key(crosswalk)
    _reject_conflicts(report, kept, units, rows)
    first = {key: report.rows[index] for index, found, _ in reversed(kept) for key in found}
    given = {key: (value, first[key].row) for key, value in old_values.items()
             if first[key].status == "accepted"}
    sums, estimated = _onto_new_units(given, units, rows)
    return {**values, **sums}, rows, estimated


def _onto_new_units(given: dict[Key, tuple[float, int]], units: dict[str, OldUnit], rows: dict[Key, int]
                    ) -> tuple[dict[Key, float], set[Key]]:
    """Sum the old units' (value, row) onto their new units in their shares; record each sum's first row."""
    sums: dict[Key, float] = defaultdict(float)
    estimated: set[Key] = set()
    for (code, metric, day), (value, row) in given.items():
        old = units[code]
        for successor in old.inside:
            new_key = (successor.code, metric, day)
            sums[new_key] += value * (successor.fraction or 0.0)
            rows[new_key] = min(rows.get(new_key, row), row)
            if not old.whole:
                estimated.add(new_key)
    return dict(sums), estimated


def _by_key(crosswalk: Crosswalk) -> dict[str, OldUnit]:
    return {carried_key(u): u for u in crosswalk.units().values()}


def _reread_old_names(report: Report, direct: list[Entry], carried: list[Entry], crosswalk: Crosswalk,
                      names: RowNames) -> tuple[list[Entry], list[Entry]]:
    """Read the rows found directly as old units' rows, when every one of their names is an old unit's.

    Some names found only among the old units, and none only among the new ones: the feed is written
    with old names, so a name that is also a new unit's is the old unit's ("Phú Lợi", merged into the
    ward Phú Lợi; "Đông Thành", a 2021 commune of today's Yên Thành, not the 2025 ward Đông Thành).
    """
    olds = {index: crosswalk.find(*names[index]) for index, _, _ in direct if index in names}
    if len(olds) < len(direct) or not all(olds.values()):
        return direct, carried  # a name only the new set has: the feed is written with new names
    for index, found, column in direct:
        codes = {code for code, _, _ in found}
        same = [u for u in olds[index] if {s.code for s in u.inside} == codes]  # "Châu Tiến", two in 2021
        old = with_shares(crosswalk, one_old_unit(crosswalk, names[index][0], same or olds[index]))
        row = report.rows[index]
        if not isinstance(old, OldUnit):
            report.rows[index] = RowResult.rejected(row.sheet, row.row, old, column, names[index][0])
            continue
        row.unit_codes = {level: ",".join(s.code for s in old.inside) for level in row.unit_codes}
        row.warn(carried_note(crosswalk, old), column)
        carried.append((index, {(carried_key(old), metric, day): v for (_, metric, day), v in found.items()},
                        column))
    return [], carried


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
