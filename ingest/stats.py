"""Ingest statistics feeds per administrative unit and day (read back by ``layers.statistics``).

A feed table has one of two shapes, recognised by its headers (aliases from the catalogue's
``statistics`` section, compared folded):

* WIDE: unit columns, then one column per day (headers that :func:`ingest.values.parse_date`
  reads, e.g. ``10/08/2021``).  The metric is the ``metric`` argument, else the one metric
  whose alias the sheet name or the headers contain (sheet "F0 theo xã" -> ``new_cases``).
* LONG: a date column, unit columns and either a value column (its metric from a metric
  column, the ``metric`` argument or the sheet name/headers) or one column per metric named
  by a metric alias ("Ca mới", "Mũi 1").

Units come from the finest unit column some row fills (commune, district or province): the
coarser ones are the unit's parents and constrain it (:mod:`ingest.parents`), so a national
table's "tinh" column keeps other provinces' rows off same-named units of the scope, and a
table whose commune and district columns stay blank holds province-level statistics.  Blank
cells are no value.

Rows are resolved inside the feed's scope (a unit and everything below it); a unit found only
elsewhere is rejected as ``out_of_scope`` (rows of other provinces are counted per province by
the report).  Rows repeating a unit, metric and day are settled by :mod:`ingest.repeats`.  The
values are published through :mod:`layers.stat_versions` as a publication of the statistics
layer: the feed adds and changes the values it holds inside its scope and removes none (a value
it leaves out keeps its figure).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from boundaries.names import fold
from boundaries.queries import get_unit, set_levels
from epimap.db import Bind, session_scope
from ingest.carry import Crosswalk, OldUnit, carried_figures, carried_note
from ingest.carry_stats import carried_key, is_carried, settle_with_carried
from ingest.errors import FeedError, Problem, ValueProblem
from ingest.mapping import alias_matches, header_forms
from ingest.parents import DISTRICT_LEVEL, PROVINCE_LEVEL, RowNames, UnitResolver, Unresolved
from ingest.pipeline import sha256_of
from ingest.readers import Row, Table, read_tables
from ingest.repeats import Entry, Key
from ingest.report import Report, RowResult
from ingest.values import clean_text, parse_date, parse_number, quote_value
from layers.catalog import STATISTICS_LAYER, Catalog, Layer
from layers.stat_versions import diff_values, drop_staging, publish_values, stage_values
from layers.store import sync_catalog
from layers.versions import NO_PREVIEW, PublishInfo, Scope, lock_layer, publication_conflicts, resolve_scope

__all__ = ["LAYER", "StatsOptions", "ingest_stats", "ingest_stats_feed"]

LAYER = STATISTICS_LAYER
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


class _Rejection(Exception):
    """A data row is rejected for a problem found in one of its columns."""

    def __init__(self, problem: Problem, column: str | None) -> None:
        super().__init__(problem.message_en)
        self.problem = problem
        self.column = column


# --------------------------------------------------------------------------- headers


def _alias_match(key: str, aliases: Iterable[str]) -> bool:
    """Tell whether a folded header form equals an alias, or starts with an alias ending in "*"."""
    return any(alias_matches(a, key, prefix=True) for a in aliases)


def _metric_named(key: str, catalog: Catalog) -> str | None:
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
        if metric := _metric_named(key, catalog):
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


# --------------------------------------------------------------------------- rows


def _cell_text(row: Row, header: str | None) -> str | None:
    """Return a cell as clean text, rejecting the row when it is too long."""
    if header is None:
        return None
    try:
        return clean_text(row.cells.get(header))
    except ValueProblem as problem:
        raise _Rejection(problem, header) from None


def _numbers(layout: Layout, row: Row) -> list[tuple[ValueColumn, float]]:
    """Return the non-blank numbers of a row, rejecting it for a bad or negative one."""
    found = []
    for column in layout.values:
        cell = row.cells.get(column.header)
        try:
            value = parse_number(cell)
        except ValueProblem as problem:
            raise _Rejection(_in_column(problem, column.header), column.header) from None
        if value is not None and value < 0:
            shown = quote_value(cell)
            raise _Rejection(Problem("invalid_number",
                                     f"Cột “{column.header}”: số liệu “{shown}” không được âm.",
                                     f"Column “{column.header}”: value “{shown}” cannot be negative."),
                             column.header)
        if value is not None:
            found.append((column, value))
    return found


def _in_column(problem: Problem, header: str) -> Problem:
    """Return a copy of a problem whose messages name the column."""
    return Problem(problem.code, f"Cột “{header}”: {problem.message_vi}",
                   f"Column “{header}”: {problem.message_en}")


def _row_day(layout: Layout, row: Row) -> date | None:
    """Return the day of a long row (None for wide tables), rejecting a blank or bad date."""
    if layout.date is None:
        return None
    try:
        day = parse_date(row.cells.get(layout.date))
    except ValueProblem as problem:
        raise _Rejection(problem, layout.date) from None
    if day is None:
        raise _Rejection(Problem("missing_date", "Dòng thiếu ngày.", "The row has no date."), layout.date)
    return day


def _row_metric(layout: Layout, row: Row, catalog: Catalog) -> str | None:
    """Return the metric named in a row's metric column (None without one), rejecting unknown ones."""
    if layout.metric is None:
        return None
    name = _cell_text(row, layout.metric)
    metric = _metric_named(fold(name), catalog) if name else None
    if metric is None:
        problem = unknown_metric(catalog, quote_value(name)) if name else Problem(
            "missing_metric", "Dòng thiếu loại số liệu.", "The row does not say which metric it holds.")
        raise _Rejection(problem, layout.metric)
    return metric


@dataclass(frozen=True)
class FeedUnits:
    """Where a feed's rows find their units: the scope's set, else the crosswalk's old units."""

    names: UnitResolver
    crosswalk: Crosswalk
    row_names: dict[int, tuple[str, str | None]] = field(default_factory=dict)  # direct rows' names


def _row_unit(units: FeedUnits, layout: Layout, row: Row, name: str) -> str | OldUnit:
    """Return the code of a row's unit (or the old unit it names), constrained by its parent columns.

    A name finding no unit in scope may name an old unit (2021) whose figures go to new units; a
    province no longer found (Bình Dương, 2025) is then that old unit's, if the crosswalk says so.
    """
    province, district = layout.parent(PROVINCE_LEVEL), layout.parent(DISTRICT_LEVEL)
    names = RowNames(name, layout.level, province=_cell_text(row, province),
                     district=_cell_text(row, district))
    code = units.names.resolve(names)
    old_province = None
    if isinstance(code, Unresolved) and _old_province(units, code, names.province):
        old_province, names = names.province, RowNames(name, layout.level, district=names.district)
        code = units.names.resolve(names)
    if isinstance(code, Unresolved):
        old = None
        if code.role == "unit" and code.problem.code == "unknown_unit":
            old = carried_figures(units.crosswalk, name, _cell_text(row, layout.old_district), old_province)
        if isinstance(old, OldUnit):
            return old
        column = {"province": province, "district": district}.get(code.role) or layout.unit
        raise _Rejection(old or code.problem, column if old is None else layout.unit)
    return code


def _old_province(units: FeedUnits, code: Unresolved, province: str | None) -> bool:
    """Tell whether a row's province, found nowhere in the set, is an old unit's of the crosswalk."""
    return (province is not None and code.role == "province" and code.problem.code == "unknown_unit"
            and units.crosswalk.is_old_province(province))


def _read_row(units: FeedUnits, catalog: Catalog, layout: Layout, row: Row
              ) -> tuple[RowResult | None, dict]:
    """Return a row's result and its values by (unit, metric, day); None for a heading row."""
    try:
        name = _cell_text(row, layout.unit)
        if name is None:
            if not _numbers(layout, row):
                return None, {}
            raise _Rejection(_missing_unit(layout.unit), layout.unit)
        code = _row_unit(units, layout, row, name)  # first: another province's row is only counted
        numbers = _numbers(layout, row)
        day, metric = _row_day(layout, row), _row_metric(layout, row, catalog)
    except _Rejection as rejection:
        value = row.cells.get(rejection.column) if rejection.column else None
        return RowResult.rejected(row.sheet, row.number, rejection.problem, rejection.column, value), {}
    if isinstance(code, OldUnit):
        result = RowResult(row.sheet, row.number, "accepted",
                           unit_codes={layout.level: ",".join(s.code for s in code.inside)})
        result.warn(carried_note(units.crosswalk, code), layout.unit)
        code = carried_key(code)
    else:
        result = RowResult(row.sheet, row.number, "accepted", unit_codes={layout.level: code})
    return result, {(code, column.metric or metric, column.day or day): value for column, value in numbers}


def _missing_unit(header: str) -> Problem:
    """Return the problem for a row with values but no unit name."""
    return Problem("missing_unit", f"Dòng có số liệu nhưng thiếu tên đơn vị ở cột “{header}”.",
                   f"The row has values but no unit name in column “{header}”.")


# --------------------------------------------------------------------------- checks and reading


def _levels(session: Session, catalog: Catalog, set_name: str, metric: str | None) -> list[str]:
    """Return the set's levels, refusing an unknown metric."""
    if metric is not None and metric not in catalog.metrics:
        raise unknown_metric(catalog, metric)
    return set_levels(session, set_name)


def _read_table(report: Report, units: FeedUnits, catalog: Catalog, table: Table, layout: Layout,
                entries: list[Entry]) -> None:
    """Add a table's rows to the report and the accepted rows' values to ``entries``."""
    layout, rows = settle_level(layout, table.rows)
    report.ignored_columns += [h for h in layout.ignored if h not in report.ignored_columns]
    for row in rows:
        result, found = _read_row(units, catalog, layout, row)
        if result is None:
            report.skipped_rows.append((table.sheet, row.number, "no_unit"))
            continue
        if found:
            entries.append((len(report.rows), found, layout.unit))
            if units.crosswalk.may_carry and not is_carried(found):  # an old name may be a new one's
                units.row_names[len(report.rows)] = (_cell_text(row, layout.unit),
                                                     _cell_text(row, layout.old_district))
        report.rows.append(result)
    report.skipped_rows += [(table.sheet, number, why) for number, why in table.skipped]


@dataclass(frozen=True)
class StatsOptions:
    """How to ingest a statistics feed: where, by whom, with which metric, and whether to publish."""

    set_name: str
    scope_code: str
    metric: str | None = None
    sheet: str | None = None
    dry_run: bool = False
    source_name: str | None = None
    max_bytes: int | None = None  # the largest file read (default: the reader's limit)
    author: str = "cli"
    note: str | None = None
    legal_ref: str | None = None
    # Sees the staged values before they are published or thrown away (e.g. to list the diff).
    inspect: Callable[[Session, Layer, Scope], None] | None = None
    preview_base: int | None = NO_PREVIEW  # as IngestOptions.preview_base


def _read_feed(session: Session, path: Path, catalog: Catalog, options: StatsOptions, scope: Scope,
               report: Report) -> tuple[dict[Key, float], dict[Key, int], set[Key]]:
    """Read every table of a feed into the report; return its values, the row of each, the estimated."""
    levels = _levels(session, catalog, scope.boundary_set, options.metric)
    units = FeedUnits(UnitResolver(session, scope), Crosswalk(session, scope))
    entries: list[Entry] = []
    for table in read_tables(path, sheet=options.sheet, max_bytes=options.max_bytes,
                             name=options.source_name):
        layout = table_layout(table, catalog, levels, options.metric)
        _read_table(report, units, catalog, table, layout, entries)
    return settle_with_carried(report, entries, units.crosswalk, units.row_names)


def _publish(session: Session, layer: Layer, scope: Scope, options: StatsOptions, report: Report) -> int:
    """Publish the staged values as a publication of the statistics layer."""
    info = PublishInfo(author=options.author, source_name=report.file, source_sha256=report.sha256,
                       note=options.note, legal_ref=options.legal_ref, rejected=len(report.rejected))
    return publish_values(session, layer, scope, info, report.diff)


def ingest_stats(bind: Bind, path: Path, *, catalog: Catalog, set_name: str, scope_code: str,
                 metric: str | None = None, sheet: str | None = None, dry_run: bool = False,
                 source_name: str | None = None, author: str = "cli") -> Report:
    """Read a statistics feed, validate every row and (unless a dry run) publish its values."""
    options = StatsOptions(set_name=set_name, scope_code=scope_code, metric=metric, sheet=sheet,
                           dry_run=dry_run, source_name=source_name, author=author)
    return ingest_stats_feed(bind, Path(path), catalog, options)


def ingest_stats_feed(bind: Bind, path: Path, catalog: Catalog, options: StatsOptions) -> Report:
    """Read a statistics feed, validate every row and (unless a dry run) publish its values."""
    layer = catalog.layer(STATISTICS_LAYER)
    assert layer is not None  # noqa: S101 - every catalogue has its statistics section
    report = Report(file=options.source_name or path.name, layer=layer.id, sha256=sha256_of(path),
                    dry_run=options.dry_run)
    with publication_conflicts(), session_scope(bind) as session:
        scope = _scope(session, options)
        values, rows, estimated = _read_feed(session, path, catalog, options, scope, report)
        if not report.accepted:
            report.refused = Problem("no_accepted_rows", "Không có dòng số liệu nào hợp lệ; không ghi gì.",
                                     "No data row was accepted; nothing was written.")
            return report
        if not options.dry_run:
            sync_catalog(session, catalog)
            lock_layer(session, layer, options.preview_base)
        stage_values(session, values, rows, estimated)
        report.diff = diff_values(session, scope.boundary_set)
        if options.inspect is not None:
            options.inspect(session, layer, scope)
        if not options.dry_run:
            report.publication = _publish(session, layer, scope, options, report)
        drop_staging(session)
    return report


def _scope(session: Session, options: StatsOptions) -> Scope:
    """Return the feed's scope, refusing a unit the boundary set does not have."""
    if get_unit(session, options.set_name, options.scope_code) is None:
        raise FeedError("unknown_scope",
                        f"Không có đơn vị {options.scope_code} trong bộ ranh giới “{options.set_name}”.",
                        f"There is no unit {options.scope_code} in boundary set “{options.set_name}”.")
    return resolve_scope(session, options.set_name, options.scope_code)
