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
the report, a 2021 province gone in 2025 under its old name).  Rows repeating a unit, metric
and day are settled by :mod:`ingest.repeats`.  The values are published through
:mod:`layers.stat_versions` as a publication of the statistics layer: the feed adds and changes
the values it holds inside its scope and removes none (a value it leaves out keeps its figure).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from boundaries.names import fold
from boundaries.queries import get_unit, set_levels
from epimap.db import Bind, session_scope
from ingest.carry import Crosswalk, OldUnit, carried_figures, carried_note
from ingest.carry_stats import carried_key, is_carried, settle_with_carried
from ingest.errors import FeedError, Problem, ValueProblem, other_province
from ingest.parents import DISTRICT_LEVEL, PROVINCE_LEVEL, RowNames, UnitResolver, Unresolved
from ingest.pipeline import sha256_of
from ingest.readers import Row, Table, read_tables
from ingest.repeats import Entry, Key
from ingest.report import Report, RowResult
from ingest.stats_layout import Layout, ValueColumn, metric_named, settle_level, table_layout, unknown_metric
from ingest.values import clean_text, parse_date, parse_number, quote_value
from layers.catalog import STATISTICS_LAYER, Catalog, Layer
from layers.stat_versions import diff_values, drop_staging, publish_values, stage_values
from layers.store import sync_catalog
from layers.versions import NO_PREVIEW, PublishInfo, Scope, lock_layer, publication_conflicts, resolve_scope

__all__ = ["LAYER", "StatsOptions", "ingest_stats", "ingest_stats_feed"]

LAYER = STATISTICS_LAYER


class _Rejection(Exception):
    """A data row is rejected for a problem found in one of its columns."""

    def __init__(self, problem: Problem, column: str | None) -> None:
        super().__init__(problem.message_en)
        self.problem = problem
        self.column = column


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
    metric = metric_named(fold(name), catalog) if name else None
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
    elif isinstance(code, Unresolved) and (other := _other_old_province(units, code, names.province)):
        raise _Rejection(other, province)
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


def _other_old_province(units: FeedUnits, code: Unresolved, province: str | None) -> Problem | None:
    """Return the row's problem when its province, found nowhere in the set, is another old province."""
    if province is None or code.role != "province" or code.problem.code != "unknown_unit":
        return None
    found = units.crosswalk.old_province_named(province)
    if found is None:
        return None
    return other_province(found, units.names.scope.name)


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
