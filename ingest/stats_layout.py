"""Recognise a statistics table's layout: which columns hold units, days, metrics and values.

Headers are compared folded with the catalogue's ``statistics`` aliases; :func:`table_layout`
reads the headers, :func:`settle_level` picks the finest unit column some row fills.  The shapes
themselves (WIDE and LONG) are described in :mod:`ingest.stats`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from boundaries.names import fold
from ingest.errors import FeedError, ValueProblem
from ingest.mapping import alias_matches, header_forms
from ingest.parents import DISTRICT_LEVEL, PROVINCE_LEVEL
from ingest.readers import Row, Table
from ingest.values import parse_date
from layers.catalog import Catalog

UNIT_ROLES = ("commune", "district", "province")

_TRAILING_DATE = re.compile(r"(?:^|\s)(\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{1,2}-\d{1,2})$")


@dataclass(frozen=True)
class ValueColumn:
    """A column holding numbers: its metric and day, or None when another column gives them."""

    header: str
    metric: str | None
    day: date | None


@dataclass(frozen=True)
class Layout:
    """How a table's columns map to units, days, metrics and values."""

    unit: str
    level: str
    date: str | None
    metric: str | None
    values: tuple[ValueColumn, ...]
    ignored: tuple[str, ...] = ()
    parents: tuple[tuple[str, str], ...] = ()  # (level, header) of the coarser unit columns
    # A district column in a set without districts (2025): a hint for the old units a row may name.
    old_district: str | None = None

    def parent(self, level: str) -> str | None:
        """Return the header of the parent column of a level, or None."""
        return next((header for at, header in self.parents if at == level), None)




def _alias_match(key: str, aliases: Iterable[str]) -> bool:
    """Tell whether a folded header form equals an alias, or starts with an alias ending in "*"."""
    return any(alias_matches(a, key, prefix=True) for a in aliases)


def metric_named(key: str, catalog: Catalog) -> str | None:
    """Return the metric whose id or alias is the folded text, or None."""
    for metric in catalog.metrics.values():
        if key == fold(metric.id) or _alias_match(key, metric.aliases):
            return metric.id
    return None


def _metrics_in(label: str, catalog: Catalog) -> set[str]:
    """Return the metrics one of whose aliases appears as whole words in a label."""
    padded = f" {fold(label)} "
    found = set()
    for metric in catalog.metrics.values():
        for alias in metric.aliases:
            word = f" {alias[:-1]}" if alias.endswith("*") else f" {alias} "
            if word in padded:
                found.add(metric.id)
    return found


def _role(header: str, catalog: Catalog) -> tuple[str, str | None] | None:
    """Return a header's role (commune, district, province, date, metric_value, value, metric) and metric."""
    roles = catalog.stat_columns
    for key in header_forms(header):
        for role in (*UNIT_ROLES, "date"):
            if _alias_match(key, roles[role]):
                return role, None
        if metric := metric_named(key, catalog):
            return "metric_value", metric
        for role in ("value", "metric"):
            if _alias_match(key, roles[role]):
                return role, None
    return None


def _day_of(header: str) -> date | None:
    """Return the day a header names (alone or at its end), or None.

    >>> _day_of("10/08/2021"), _day_of("Ca mới 11/08/2021"), _day_of("2021-08-12"), _day_of("Xã")
    (datetime.date(2021, 8, 10), datetime.date(2021, 8, 11), datetime.date(2021, 8, 12), None)
    """
    try:
        return parse_date(header)
    except ValueProblem:
        pass
    match = _TRAILING_DATE.search(header)
    try:
        return parse_date(match[1]) if match else None
    except ValueProblem:
        return None


def _claim(taken: dict, key: object, header: str) -> None:
    """Record the column of a role, refusing a second column for the same role."""
    if key in taken:
        raise FeedError(
            "duplicate_column",
            f"Hai cột “{taken[key]}” và “{header}” cùng chứa một loại dữ liệu; hãy bỏ bớt một cột.",
            f"Columns “{taken[key]}” and “{header}” hold the same data; remove one of them.",
        )
    taken[key] = header


# --------------------------------------------------------------------------- layout


def unknown_metric(catalog: Catalog, what: str | None = None) -> FeedError:
    """Return the error for a table whose metric cannot be told, listing the metric ids."""
    listing = ", ".join(f"{m.id} ({m.label_vi})" for m in catalog.metrics.values())
    listing_en = ", ".join(f"{m.id} ({m.label_en})" for m in catalog.metrics.values())
    vi = f"Không có loại số liệu “{what}”." if what else "Không xác định được loại số liệu của bảng."
    en = f"There is no metric “{what}”." if what else "Cannot tell which metric the table holds."
    return FeedError("unknown_metric", f"{vi} Hãy chọn một trong: {listing}.",
                     f"{en} Choose one of: {listing_en}.")


def _layout_error(code: str, sheet: str | None, vi: str, en: str) -> FeedError:
    """Return a layout error naming the sheet."""
    where_vi = f" (trang tính “{sheet}”)" if sheet is not None else ""
    where_en = f" (sheet “{sheet}”)" if sheet is not None else ""
    return FeedError(code, vi + where_vi + ".", en + where_en + ".")


def _table_metric(table: Table, catalog: Catalog, metric: str | None) -> str:
    """Return the metric of a table whose columns don't name it: argument, sheet name or headers."""
    if metric is not None:
        return metric
    for label in (table.sheet or "", " | ".join(table.headers)):
        found = _metrics_in(label, catalog)
        if len(found) == 1:
            return found.pop()
    raise unknown_metric(catalog)


def _unit_columns(table: Table, roles: dict[str, str], levels: list[str]) -> tuple[tuple[str, str], ...]:
    """Return the (level, header) of each unit column the set's levels hold, finest first."""
    at = dict(zip(UNIT_ROLES, (levels[-1], DISTRICT_LEVEL, PROVINCE_LEVEL), strict=True))
    found = [(at[role], roles[role]) for role in UNIT_ROLES if role in roles and at[role] in levels]
    if found:
        return tuple(found)
    if "district" in roles:
        raise _layout_error("no_district_level", table.sheet,
                            "Bộ ranh giới này không có cấp huyện; hãy ghi số liệu theo xã/phường",
                            "This boundary set has no district level; give statistics per commune")
    raise _layout_error("no_unit_column", table.sheet, "Không tìm thấy cột tên xã/phường, huyện hay tỉnh",
                        "No commune, district or province name column found")


def _value_columns(table: Table, roles: dict[str, str], days: dict[date, str], by_metric: dict[str, str],
                   catalog: Catalog, metric: str | None) -> tuple[ValueColumn, ...]:
    """Return the value columns of a long table (date column) or a wide one (day columns)."""
    if "date" not in roles:
        if not days:
            raise _layout_error("unknown_layout", table.sheet,
                                "Bảng không có cột ngày hay các cột theo từng ngày",
                                "The table has neither a date column nor one column per day")
        chosen = _table_metric(table, catalog, metric)
        return tuple(ValueColumn(header, chosen, day) for day, header in days.items())
    if by_metric:
        return tuple(ValueColumn(header, m, None) for m, header in by_metric.items())
    if "value" not in roles:
        raise _layout_error("unknown_layout", table.sheet, "Bảng có cột ngày nhưng không có cột số liệu",
                            "The table has a date column but no value column")
    chosen = None if "metric" in roles else _table_metric(table, catalog, metric)
    return (ValueColumn(roles["value"], chosen, None),)


def table_layout(table: Table, catalog: Catalog, levels: list[str], metric: str | None = None) -> Layout:
    """Recognise a statistics table's shape from its headers."""
    roles: dict[str, str] = {}
    days: dict[date, str] = {}
    by_metric: dict[str, str] = {}
    for header in table.headers:
        found = _role(header, catalog)
        if found and found[0] == "metric_value":
            _claim(by_metric, found[1], header)
        elif found:
            _claim(roles, found[0], header)
        elif (day := _day_of(header)) is not None:
            _claim(days, day, header)
    units = _unit_columns(table, roles, levels)
    values = _value_columns(table, roles, days, by_metric, catalog, metric)
    metric_column = roles.get("metric") if any(v.metric is None for v in values) else None
    old_district = roles.get("district") if DISTRICT_LEVEL not in levels else None
    used = {*(header for _, header in units), roles.get("date"), metric_column, *(v.header for v in values),
            old_district}
    return Layout(unit=units[0][1], level=units[0][0], date=roles.get("date"), metric=metric_column,
                  values=values, ignored=tuple(h for h in table.headers if h not in used), parents=units[1:],
                  old_district=old_district)


def _at_level(layout: Layout, units: tuple[tuple[str, str], ...], chosen: int) -> Layout:
    """Return the layout with the unit column of index ``chosen``; finer columns are ignored."""
    level, unit = units[chosen]
    finer = tuple(header for _, header in units[:chosen])
    return Layout(unit=unit, level=level, date=layout.date, metric=layout.metric, values=layout.values,
                  ignored=(*layout.ignored, *finer), parents=units[chosen + 1:],
                  old_district=layout.old_district)


def settle_level(layout: Layout, rows: Iterator[Row]) -> tuple[Layout, Iterator[Row]]:
    """Keep as the unit column the finest one some row fills; return the layout and all the rows.

    Rows are read ahead only until one fills the finest column (the first row, in a commune
    table); a national table of provinces leaves its "huyen" and "xa" columns blank throughout.
    """
    units = ((layout.level, layout.unit), *layout.parents)
    if len(units) == 1:
        return layout, rows
    ahead: list[Row] = []
    best = len(units)
    for row in rows:
        ahead.append(row)
        best = min([best, *(i for i, (_, header) in enumerate(units) if _filled(row, header))])
        if best == 0:
            break
    chosen = 0 if best == len(units) else best
    return (layout if chosen == 0 else _at_level(layout, units, chosen)), itertools.chain(ahead, rows)


def _filled(row: Row, header: str) -> bool:
    """Tell whether a row's cell holds anything."""
    value = row.cells.get(header)
    return value is not None and str(value).strip() != ""
