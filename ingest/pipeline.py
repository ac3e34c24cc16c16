"""Ingest one feed into one layer: read, parse, locate, validate, diff and publish atomically."""

from __future__ import annotations

import gc
import hashlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session
from tqdm import tqdm

from boundaries.names import named_units
from epimap.db import Bind, session_scope
from ingest.errors import FeedError, Problem, point_in_other_district
from ingest.locate import (
    index_points,
    locate,
    located_districts,
    rename_units,
    resolve_named_units,
    staged_locations,
    unit_chains,
)
from ingest.mapping import check_columns, check_layer, header_scorer, map_headers
from ingest.parents import DISTRICT_LEVEL
from ingest.parse_pool import parsed_rows
from ingest.place_names import NameResolver
from ingest.readers import Table, read_tables
from ingest.report import Report, RowResult
from ingest.rows import RowContext
from ingest.stage import stage
from layers.catalog import Catalog, Layer
from layers.store import sync_catalog
from layers.versions import (
    NO_PREVIEW,
    PublishInfo,
    Scope,
    current_count,
    diff,
    has_current,
    lock_layer,
    publication_conflicts,
    publish,
    resolve_scope,
)

MAX_REMOVED_SHARE = 0.5
PROGRESS_FROM_ROWS = 10_000
FREEZE_EVERY = 20_000
T = TypeVar("T")


@dataclass(frozen=True)
class IngestOptions:
    """How to ingest: where, by whom, and how carefully."""

    set_name: str
    scope_code: str
    author: str = "cli"
    sheet: str | None = None
    dry_run: bool = False
    force: bool = False
    note: str | None = None
    legal_ref: str | None = None
    max_bytes: int | None = None
    progress: bool = False
    source_name: str | None = None  # the name the file was given (default: the path's name)
    # The layer's latest publication when this feed was previewed (None: it had none), checked
    # under the layer's publishing lock before anything is staged; NO_PREVIEW: nothing to check.
    preview_base: int | None = NO_PREVIEW
    # Sees the staged snapshot before it is published or thrown away (e.g. to list the diff).
    inspect: Callable[[Session, Layer, Scope], None] | None = None
    # Told the phase (reading, locating, comparing, publishing) and the rows read so far: every
    # 1,000 rows while reading and once per later phase (a background job records it).
    on_progress: Callable[[str, int], None] | None = None


def sha256_of(path: Path) -> str:
    """Return the file's sha256, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def unknown_layer(layer_id: str, catalog: Catalog) -> FeedError:
    """Return the error for a layer id the catalogue does not have."""
    known = ", ".join(sorted(catalog.layers))
    return FeedError("unknown_layer", f"Không có lớp “{layer_id}”. Các lớp: {known}.",
                     f"No layer '{layer_id}'. Layers: {known}.")


def _tables(path: Path, layer: Layer, catalog: Catalog, options: IngestOptions) -> Iterator[Table]:
    found = False
    for table in read_tables(path, sheet=options.sheet, header_hint=header_scorer(layer, catalog),
                             max_bytes=options.max_bytes, name=options.source_name):
        found = True
        yield table
    if not found:
        raise FeedError("no_table", "Tệp không có bảng dữ liệu nào.", "The file holds no data table.")


def _staged_rows(path: Path, layer: Layer, catalog: Catalog, options: IngestOptions, report: Report,
                 scope: Scope, location_columns: dict[str, str | None]) -> Iterator[str]:
    """Yield the staging lines of the rows that parse, recording every rejection and warning."""
    seen_ids: dict[str, int] = {}
    for table in _tables(path, layer, catalog, options):
        check_layer(table.headers, layer, catalog)
        columns = map_headers(table.headers, layer, catalog)
        check_columns(columns, layer, table.headers)
        location_columns.update(commune=columns.location.get("commune"),
                                district=columns.location.get("district"),
                                location=columns.location.get("latlon") or columns.location.get("lat")
                                or columns.location.get("vn2000_x") or columns.location.get("wkt"))
        report.ignored_columns.extend(c for c in columns.ignored if c not in report.ignored_columns)
        context = RowContext(layer, columns, province_code=scope.province)
        id_column = columns.location.get("source_id")
        for row, (line, found, column_or_warnings) in parsed_rows(table.rows, table.headers, context):
            if line is None:
                column = column_or_warnings
                value = row.cells.get(column) if column else None
                report.rows.append(RowResult.rejected(row.sheet, row.number, found, column, value))
                continue
            problem = _duplicate(found, row.number, seen_ids)
            if problem is not None:
                report.rows.append(RowResult.rejected(row.sheet, row.number, problem, id_column, found))
                continue
            result = RowResult(sheet=row.sheet, row=row.number, status="accepted")
            for warning, column in column_or_warnings:
                result.warn(warning, column)
            report.rows.append(result)
            yield f"{len(report.rows) - 1}\t{line}"
        report.skipped_rows.extend((table.sheet, n, why) for n, why in table.skipped)


def with_progress(items: Iterator[T], enabled: bool, every: int = 1000) -> Iterator[T]:
    """Yield the items, showing a progress bar on stderr once there are more than 10,000."""
    bar = None
    try:
        for count, item in enumerate(items, 1):
            if enabled and count % every == 0:
                if bar is None and count >= PROGRESS_FROM_ROWS:
                    bar = tqdm(initial=count, unit=" rows", file=sys.stderr, mininterval=0.5,
                               desc="ingest")
                elif bar is not None:
                    bar.update(every)
            yield item
    finally:
        if bar is not None:
            bar.close()


def reported(items: Iterator[T], on_progress: Callable[[str, int], None] | None,
             every: int = 1000) -> Iterator[T]:
    """Yield the items, telling ``on_progress("reading", count)`` every ``every`` items."""
    if on_progress is None:
        yield from items
        return
    count = 0
    for count, item in enumerate(items, 1):
        if count % every == 0:
            on_progress("reading", count)
        yield item
    on_progress("reading", count)


def kept_from_gc(items: Iterator[T], every: int = FREEZE_EVERY) -> Iterator[T]:
    """Yield the items, putting what is alive out of the cyclic collector's reach every ``every``.

    The report keeps a row per item; every full collection re-scanned them all, a third of the
    parsing time of a million rows.  Young garbage is collected before each freeze, and everything
    frozen is handed back at the end.
    """
    try:
        for count, item in enumerate(items, 1):
            if count % every == 0:
                gc.collect(1)
                gc.freeze()
            yield item
    finally:
        gc.unfreeze()


def _duplicate(source_id: str | None, row: int, seen: dict[str, int]) -> Problem | None:
    """Return the problem of an id an earlier row already gave, else None."""
    if source_id is None:
        return None
    first = seen.setdefault(source_id, row)
    if first == row:
        return None
    return Problem("duplicate_id", f"Mã “{source_id[:50]}” trùng với dòng {first}.",
                   f"Id '{source_id[:50]}' repeats row {first}.")


def _location_problem(reason: str, name: str | None) -> Problem:
    name = (name or "")[:50]
    messages = {
        "outside_province": ("Vị trí nằm ngoài phạm vi tỉnh (hoặc trên biển).",
                             "The location is outside the province (or at sea)."),
        "out_of_scope": ("Vị trí nằm ngoài đơn vị được phép cập nhật.",
                         "The location is outside the unit this feed may update."),
        "no_location": (f"Không có tọa độ và không tìm thấy xã/phường “{name}”.",
                        f"No coordinates, and no commune named '{name}' was found."),
        "ambiguous_commune": (f"Tên “{name}” ứng với nhiều xã/phường; hãy ghi rõ quận/huyện.",
                              f"The name '{name}' matches several communes; give the district."),
    }
    return Problem(reason, *messages[reason])


Rejected = list[tuple[int, str, str | None, str | None, str | None]]  # seq, reason, commune, district, place


def _apply_locations(report: Report, session: Session, rejected: Rejected, columns: dict[str, str | None],
                     polygons: bool, resolver: NameResolver) -> None:
    for seq, reason, name, district, place in rejected:
        row = report.rows[seq]
        column = columns.get("commune") if name else columns.get("location")
        value = name or place
        problem = resolver.problems.get((name, district)) if name else None
        if problem is not None:
            column, value = columns.get("district"), district
        named = resolver.named.get((name, district)) if name else None
        problem = problem or (named if named and named.code == reason else _location_problem(reason, name))
        report.rows[seq] = RowResult.rejected(row.sheet, row.row, problem, column, value)
    chains = unit_chains(session)  # rows of one unit share its dict: treat it as read-only
    rows = report.rows
    for seq, source_id, unit_code, approximate, lon, lat in staged_locations(session, polygons):
        row = rows[seq]
        row.source_id, row.unit_codes, row.approximate = source_id, chains[unit_code], approximate
        row.lon, row.lat = round(lon, 7), round(lat, 7)
    if columns.get("district"):
        _flag_other_districts(report, session, resolver, columns["district"])


def _carried_rows(session: Session, resolver: NameResolver) -> dict[int, Problem]:
    """Return the note of each row placed by an old commune's name, by its staging number."""
    if not resolver.carried:
        return {}
    rows = session.execute(text(
        "SELECT seq, commune_name, district_name FROM ingest_staging WHERE geom IS NULL"
        " AND named_unit IS NOT NULL AND commune_name = ANY(:names)"),
        {"names": sorted({commune for commune, _ in resolver.carried})})
    return {r.seq: resolver.carried[(r.commune_name, r.district_name)] for r in rows
            if (r.commune_name, r.district_name) in resolver.carried}


def _note_carried(report: Report, carried: dict[int, Problem], column: str | None) -> None:
    """Note on each accepted row placed by an old commune's name where it went."""
    for seq, note in carried.items():
        if report.rows[seq].status == "accepted":
            report.rows[seq].warn(note, column)


def _flag_other_districts(report: Report, session: Session, resolver: NameResolver, column: str) -> None:
    """Warn on each row whose point lies in another district than the row's district column names."""
    districts = resolver.units.parents[DISTRICT_LEVEL]
    names = {d.code: d.name for d in districts}
    for given, code, seqs in located_districts(session):
        if code is None or code in {d.code for d in named_units(given, districts)}:
            continue
        warning = point_in_other_district(given[:50], names.get(code, code))
        for seq in seqs:
            report.rows[seq].warn(warning, column)


class TooManyRemoved(Problem):
    """A feed would remove more than half of the layer's current features in its scope."""

    def __init__(self, removed: int, current: int) -> None:
        share = removed / current if current else 0.0
        super().__init__(
            "too_many_removed",
            f"Bản cập nhật này sẽ xóa {removed} trên {current} điểm hiện có ({share:.0%});"
            " chỉ xuất bản khi được xác nhận.",
            f"This feed would remove {removed} of the {current} current features ({share:.0%});"
            " it is published only when confirmed.")
        self.removed, self.current = removed, current

    def as_dict(self) -> dict[str, Any]:
        """Return the refusal with its numbers (the console's confirmation names them)."""
        return {**super().as_dict(), "removed": self.removed, "current": self.current}


def _refusal(report: Report, current: int, force: bool) -> Problem | None:
    if not report.accepted and not force:
        return Problem("no_accepted_rows", "Không có dòng hợp lệ nào; không xuất bản.",
                       "No row was accepted; nothing is published.")
    removed = report.diff.removed
    if current and removed / current > MAX_REMOVED_SHARE and not force:
        return TooManyRemoved(removed, current)
    return None


def ingest_feed(bind: Bind, path: Path, layer_id: str, catalog: Catalog,
                options: IngestOptions) -> Report:
    """Ingest a feed as a snapshot of a layer over a scope; publish unless refused or a dry run."""
    path = Path(path)
    layer = catalog.layer(layer_id)
    if layer is None or not layer.kind.has_features:  # figures go through ingest.layer_feed
        raise unknown_layer(layer_id, catalog)
    name = options.source_name or path.name
    report = Report(file=name, layer=layer.id, sha256=sha256_of(path), dry_run=options.dry_run)
    with publication_conflicts(), session_scope(bind) as session:
        # Sorting and grouping a million staged rows spilled to disk with the server's default.
        session.execute(text("SET LOCAL work_mem = '256MB'"))
        sync_catalog(session, catalog)
        if not options.dry_run:  # the layer's current state is what this publication changes
            lock_layer(session, layer, options.preview_base)
        scope = resolve_scope(session, options.set_name, options.scope_code)
        savepoint = session.begin_nested()
        columns: dict[str, str | None] = {}
        rows = _staged_rows(path, layer, catalog, options, report, scope, columns)
        stage(session, kept_from_gc(with_progress(reported(rows, options.on_progress), options.progress)))
        tell = options.on_progress or (lambda phase, rows: None)
        tell("locating", len(report.rows))
        polygons = layer.kind.areas
        index_points(session, polygons)
        resolver = NameResolver(session, scope)
        resolve_named_units(session, resolver)
        rename_units(session, resolver.old_names())  # a feed written with 2021 names
        carried = _carried_rows(session, resolver)
        rejected = locate(session, scope, polygons, match_ids=has_current(session, layer))
        _apply_locations(report, session, rejected, columns, polygons, resolver)
        _note_carried(report, carried, columns.get("commune"))
        tell("comparing", len(report.rows))
        report.diff = diff(session, layer, scope)
        if options.inspect is not None:
            options.inspect(session, layer, scope)
        current = current_count(session, layer, scope)
        report.refused = _refusal(report, current, options.force)
        if report.refused is None and not options.dry_run:
            tell("publishing", len(report.rows))
            info = PublishInfo(author=options.author, source_name=name, source_sha256=report.sha256,
                               note=options.note, legal_ref=options.legal_ref,
                               rejected=len(report.rejected))
            report.publication = publish(session, layer, scope, info, report.diff)
            savepoint.commit()
        else:
            savepoint.rollback()
        session.execute(text("DROP TABLE IF EXISTS ingest_staging, unit_chain, unit_piece, unit_inside,"
                             " ingest_located"))
    return report
