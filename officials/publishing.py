"""Officials publish: upload a feed and preview it, publish or discard, roll back, edit one feature.

Every function takes the acting :class:`~officials.accounts.Principal` and checks its role and unit
itself, so the console and the feed API share one set of rules:

- an upload is ingested with the principal's unit as the scope: rows outside it are rejected
  (``out_of_scope``) and the snapshot replaces only the features inside it; a statistics feed
  (layer ``unit_stats``) adds and changes the values it holds inside the unit and removes none;
- publishing an upload re-runs the ingest on the stored file (never trusting the preview), and
  refuses when the file's sha256 no longer matches or the layer was published since the preview;
- a rollback is allowed only for a publication whose unit lies inside the principal's (for the
  statistics, it restores that unit's values as they were);
- an edit changes one current feature inside the principal's unit as a one-row publication.

Every layer of the catalogue takes feeds, features or statistics alike; only edits need features.

Uploaded files live under the upload directory as ``<sha256>`` (mode 600), never served back.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from epimap.db import Bind, session_scope
from epimap.errors import EpimapError, NotFound, Problem
from epimap.settings import Settings
from ingest.errors import ValueProblem
from ingest.layer_feed import ingest_layer_feed
from ingest.pipeline import IngestOptions
from ingest.report import Report, RowResult
from ingest.rows import typed_value
from layers.catalog import Catalog, Layer, default_catalog
from layers.meta import layer_state
from layers.rollback import preview_rollback, rollback
from layers.statistics import value_count
from layers.store import Publication, get_publication
from layers.versions import NO_PREVIEW, Diff, PublishInfo, Scope, diff, publish, resolve_scope
from officials.accounts import (
    Conflict,
    Denied,
    Invalid,
    Principal,
    covers,
    require_role,
    require_scope,
    scope_unit,
    units_within,
)
from officials.audit import Where, record
from officials.stat_changes import list_value_changes

CHANGES_LISTED = 500  # per kind (added / changed / removed) kept for the preview
CHUNK = 1 << 20
MAX_NAME = 200


class Unprocessable(EpimapError):
    """The feed was read but cannot be published as it is (rejected rows, refused)."""

    status = 422
    title_key = "console_unprocessable_title"
    default = ("Không xử lý được tệp", "Feed not accepted")


class PublishFailed(EpimapError):
    """Publishing failed midway; the transaction was rolled back, nothing changed."""

    status = 500
    title_key = "server_error_title"


class TooLarge(EpimapError):
    """The upload is larger than the ``max_upload_mb`` setting."""

    status = 413
    title_key = "console_too_large_title"
    default = ("Tệp quá lớn", "File too large")

    def __init__(self, max_mb: int) -> None:
        super().__init__(f"Tệp quá lớn: giới hạn là {max_mb} MB.",
                         f"The file is too large: the limit is {max_mb} MB.")


def feed_problem(problem: Problem, status: type[EpimapError] = Unprocessable) -> EpimapError:
    """Return a feed problem as a portal error (its message in both languages)."""
    error = status(problem.message_vi, problem.message_en)
    error.code = problem.code
    return error


# ------------------------------------------------------------------------------------- storage


def upload_dir(settings: Settings) -> Path:
    """Return the folder of uploaded feeds (created, private to the portal's user)."""
    folder = Path(settings.upload_dir) if settings.upload_dir else Path(settings.var_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def safe_file_name(name: str | None) -> str:
    """Return a file name fit to show and keep: the last path part, printable, at most 200 chars.

    >>> safe_file_name("C:\\\\Users\\\\cdc\\\\chốt\\x00 ngày 5.csv"), safe_file_name(None)
    ('chốt ngày 5.csv', 'feed')
    """
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable())
    return " ".join(base.split())[:MAX_NAME] or "feed"


def store_upload(stream: IO[bytes], folder: Path, max_bytes: int) -> tuple[Path, str, int]:
    """Copy an uploaded stream to ``folder/<sha256>``; return (path, sha256, size)."""
    digest, size = hashlib.sha256(), 0
    handle, temp_name = tempfile.mkstemp(dir=folder, prefix=".upload-")
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(max(1, max_bytes // 2**20))
                digest.update(chunk)
                out.write(chunk)
        sha = digest.hexdigest()
        target = folder / sha
        if target.exists():
            temp.unlink()
        else:
            os.chmod(temp, 0o600)
            os.replace(temp, target)
        return target, sha, size
    finally:
        if temp.exists():
            temp.unlink()


# ------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Upload:
    """A feed uploaded for a layer, its preview, and what became of it."""

    id: int
    layer_id: str
    file_name: str
    sha256: str
    size_bytes: int
    author: str
    account_id: int | None
    token_id: int | None
    boundary_set: str
    scope_code: str
    created_at: datetime
    status: str
    base_publication: int | None
    report: dict[str, Any] | None
    changes: dict[str, Any] | None
    publication_id: int | None
    decided_by: str | None
    decided_at: datetime | None
    job_id: int | None = None
    job_kind: str | None = None  # the latest job: preview or publish (officials.queue)
    job_phase: str | None = None
    job_rows: int = 0
    job_percent: int = 0
    job_error: dict[str, Any] | None = None
    job_updated_at: datetime | None = None

    @property
    def running(self) -> bool:
        """Tell whether the upload's job is queued or under way."""
        return self.job_phase is not None and self.job_phase not in ("done", "failed")


_UPLOAD_COLUMNS = ("id, layer_id, file_name, sha256, size_bytes, author, account_id, token_id, boundary_set,"
                   " scope_code, created_at, status, base_publication, report, changes, publication_id,"
                   " decided_by, decided_at, job_id, job_kind, job_phase, job_rows, job_percent, job_error,"
                   " job_updated_at")


def get_upload(session: Session, upload_id: int) -> Upload | None:
    """Return an upload by id."""
    row = session.execute(text(f"SELECT {_UPLOAD_COLUMNS} FROM feed_upload WHERE id = :i"),  # noqa: S608
                          {"i": upload_id}).mappings().first()
    return Upload(**row) if row else None


def visible_upload(session: Session, principal: Principal, upload_id: int) -> Upload:
    """Return an upload the principal may see (editor+, inside its unit); 404 otherwise."""
    require_role(principal, "editor")
    upload = get_upload(session, upload_id)
    if upload is None:
        raise NotFound()
    require_scope(session, principal, upload.boundary_set, upload.scope_code)
    return upload


def recent_uploads(session: Session, principal: Principal, limit: int = 20) -> list[Upload]:
    """Return the latest uploads inside the principal's unit."""
    rows = session.execute(text(
        f"SELECT {_UPLOAD_COLUMNS} FROM feed_upload WHERE boundary_set = :s AND scope_code = ANY(:codes)"  # noqa: S608
        " ORDER BY id DESC LIMIT :n"),
        {"s": principal.boundary_set, "n": limit,
         "codes": units_within(session, principal.boundary_set, principal.scope_code)}).mappings()
    return [Upload(**r) for r in rows]


def count_in_unit(session: Session, layer: Layer, unit: Any) -> int:
    """Count a layer's current features (or the statistics' values) inside a unit."""
    if not layer.kind.has_features:
        return value_count(session, unit.boundary_set, unit.code)
    return session.execute(text(
        "SELECT count(*) FROM feature WHERE layer_id = :l AND valid_to_pub IS NULL"
        " AND units ->> :level = :code"),
        {"l": layer.id, "level": unit.level, "code": unit.code}).scalar_one()


def report_from_dict(data: dict[str, Any]) -> Report:
    """Rebuild a report from :meth:`Report.as_dict` (to export a stored preview)."""
    refused = data.get("refused")
    report = Report(file=data["file"], layer=data["layer"], sha256=data["sha256"],
                    publication=data.get("publication"), dry_run=data.get("dry_run", False),
                    refused=Problem(refused["code"], refused["message_vi"], refused["message_en"])
                    if refused else None,
                    ignored_columns=list(data.get("ignored_columns") or []),
                    skipped_rows=[(s["sheet"], s["row"], s["reason"])
                                  for s in data.get("skipped_rows") or []])
    report.diff = Diff(**data.get("diff") or {})
    report.rows = [RowResult(**row) for row in data.get("rows") or []]
    return report


# ------------------------------------------------------------------------------------- changes


@dataclass
class Changes:
    """The features a snapshot adds, changes and removes (the first few hundred of each)."""

    added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "changed": self.changed, "removed": self.removed}


_CURRENT = ("SELECT f.source_id, f.content_hash, f.props, f.geom FROM feature f WHERE f.layer_id = :l"
            " AND f.valid_to_pub IS NULL AND f.units ->> :scope_level = :scope")
_GEOJSON = "ST_AsGeoJSON(ST_SimplifyPreserveTopology({g}, 0.00002), 6)"


def _listed(session: Session, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows = session.execute(text(sql), params).mappings()
    listed = []
    for row in rows:
        item = {"source_id": row["source_id"], "row": row.get("row_no"),
                "name": str((row["new"] or row["old"] or {}).get("name") or ""),
                "geometry": json.loads(row["geometry"]) if row["geometry"] else None}
        if row["old"] is not None and row["new"] is not None:
            keys = sorted(set(row["old"]) | set(row["new"]))
            item["fields"] = [[k, row["old"].get(k), row["new"].get(k)] for k in keys
                              if row["old"].get(k) != row["new"].get(k)]
            item["moved"] = bool(row.get("moved"))
        listed.append(item)
    return listed


def list_changes(session: Session, layer: Layer, scope: Scope, limit: int = CHANGES_LISTED) -> Changes:
    """List what the staged snapshot (``ingest_staging``) changes in the layer within the scope."""
    params = {"l": layer.id, "scope_level": scope.level, "scope": scope.code, "n": limit}
    geo_s, geo_c = _GEOJSON.format(g="s.geom"), _GEOJSON.format(g="cur.geom")
    return Changes(
        added=_listed(session, f"WITH cur AS ({_CURRENT}) SELECT s.source_id, s.row_no, s.props AS new,"  # noqa: S608
                      f" NULL::jsonb AS old, {geo_s} AS geometry FROM ingest_staging s WHERE NOT EXISTS"
                      " (SELECT 1 FROM cur WHERE cur.source_id = s.source_id) ORDER BY s.row_no LIMIT :n",
                      params),
        changed=_listed(session, f"WITH cur AS ({_CURRENT}) SELECT s.source_id, s.row_no, s.props AS new,"  # noqa: S608
                        f" cur.props AS old, {geo_s} AS geometry, NOT ST_Equals(s.geom, cur.geom) AS moved"
                        " FROM ingest_staging s JOIN cur USING (source_id)"
                        " WHERE cur.content_hash <> s.content_hash ORDER BY s.row_no LIMIT :n", params),
        removed=_listed(session, f"WITH cur AS ({_CURRENT}) SELECT cur.source_id, NULL::int AS row_no,"  # noqa: S608
                        f" NULL::jsonb AS new, cur.props AS old, {geo_c} AS geometry FROM cur"
                        " WHERE NOT EXISTS (SELECT 1 FROM ingest_staging s WHERE s.source_id = cur.source_id)"
                        " ORDER BY cur.source_id LIMIT :n", params))


# ------------------------------------------------------------------------------------- upload


def feed_layer(layer_id: str, catalog: Catalog | None, *, features: bool = False) -> Layer:
    """Return a layer of the catalogue (default: the bundled one), of features if asked, or a 404."""
    layer = (catalog or default_catalog()).layer(layer_id)
    if layer is None or (features and not layer.kind.has_features):
        raise NotFound(f"Không có lớp “{layer_id[:50]}”.", f"No layer '{layer_id[:50]}'.")
    return layer


def preview_changes(session: Session, layer: Layer, scope: Scope) -> dict[str, Any]:
    """List what the staged feed changes in the layer within the scope (features or values)."""
    if layer.kind.has_features:
        return list_changes(session, layer, scope).as_dict()
    return list_value_changes(session, scope, CHANGES_LISTED)


def ingest_upload(bind: Bind, path: Path, layer: Layer, principal_set: str, scope_code: str, *, author: str,
                  file_name: str, dry_run: bool, max_bytes: int, note: str | None = None,
                  legal_ref: str | None = None, force: bool = False, changes: dict[str, Any] | None = None,
                  catalog: Catalog | None = None, preview_base: int | None = NO_PREVIEW,
                  on_progress: Callable[[str, int], None] | None = None) -> Report:
    """Ingest a stored upload in a unit (a dry run listing its ``changes``, or a publication)."""
    def inspect(session: Session, staged_layer: Layer, scope: Scope) -> None:
        if changes is not None:
            changes.update(preview_changes(session, staged_layer, scope))

    options = IngestOptions(set_name=principal_set, scope_code=scope_code, author=author, dry_run=dry_run,
                            force=force, note=note, legal_ref=legal_ref, max_bytes=max_bytes,
                            source_name=file_name, inspect=inspect, preview_base=preview_base,
                            on_progress=on_progress)
    return ingest_layer_feed(bind, path, layer.id, catalog or default_catalog(), options)


def discard_upload(bind: Bind, principal: Principal, upload_id: int, where: Where) -> None:
    """Throw a previewed upload away (its author, or a publisher of its unit)."""
    require_role(principal, "editor")
    with session_scope(bind) as session:
        upload = visible_upload(session, principal, upload_id)
        if upload.account_id != principal.account_id:
            require_role(principal, "publisher")
        done = session.execute(text(
            "UPDATE feed_upload SET status = 'discarded', decided_by = :by, decided_at = now()"
            " WHERE id = :i AND status = 'previewed' RETURNING id"),
            {"by": principal.actor, "i": upload.id}).first()
        if done is None:
            raise decided()
        record(session, principal.actor, "discard", where, target=f"upload:{upload.id}",
               details=principal.audit_details(layer=upload.layer_id, file=upload.file_name))


def decided() -> Conflict:
    return Conflict("Tệp này đã được xuất bản hoặc đã hủy.",
                    "This upload was already published or discarded.")


def short_text(value: str | None, limit: int = 500) -> str | None:
    value = " ".join((value or "").split())[:limit]
    return value or None


# ------------------------------------------------------------------------------------- rollback


def can_roll_back(session: Session, principal: Principal | None, set_name: str, scope_code: str) -> bool:
    """Tell whether a principal may roll back a publication of this unit."""
    return (principal is not None and principal.at_least("publisher")
            and covers(session, principal.boundary_set, principal.scope_code, set_name, scope_code))


@dataclass(frozen=True)
class RollbackPreview:
    """What rolling a layer back to a publication would change, shown before it is confirmed."""

    target: Publication
    diff: Diff
    changes: dict[str, Any]
    base: int | None  # the layer's latest publication now: the rollback is refused if it moves


def _rollback_target(session: Session, principal: Principal, layer: Layer, publication_id: int
                     ) -> Publication:
    """Return a publication the principal may roll back to (publisher, inside its unit); 404/403 otherwise."""
    require_role(principal, "publisher")
    target = get_publication(session, layer, publication_id)
    if target is None:
        raise NotFound()
    require_scope(session, principal, target.boundary_set, target.scope_code)
    return target


def preview_rollback_publication(bind: Bind, principal: Principal, layer_id: str, publication_id: int,
                                 catalog: Catalog | None = None) -> RollbackPreview:
    """List what restoring the layer as it was at a publication would change; publish nothing."""
    layer = feed_layer(layer_id, catalog)
    with session_scope(bind) as session:
        _rollback_target(session, principal, layer, publication_id)
        base = layer_state(session, layer).publication
    changes: dict[str, Any] = {}

    def inspect(session: Session, staged_layer: Layer, scope: Scope) -> None:
        changes.update(preview_changes(session, staged_layer, scope))

    try:
        target, _scope, change = preview_rollback(bind, layer, publication_id, inspect)
    except Problem as exc:
        raise feed_problem(exc) from exc
    return RollbackPreview(target, change, changes, base)


def _confirmed_rollback(note: str | None, legal_ref: str | None, confirmed: bool, base: int | None) -> None:
    """Refuse a rollback without its preview, its reason, its legal reference or its confirmation."""
    if base == NO_PREVIEW:
        raise Invalid("Hãy xem trước việc khôi phục rồi xác nhận.", "Preview the rollback, then confirm it.")
    if not note or not legal_ref:
        raise Invalid("Hãy ghi lý do và căn cứ pháp lý (số quyết định) của việc khôi phục.",
                      "Give the rollback's reason and its legal reference (decision number).")
    if not confirmed:
        raise Invalid("Hãy đánh dấu ô xác nhận trước khi khôi phục.",
                      "Tick the confirmation before rolling back.")


def rollback_publication(bind: Bind, principal: Principal, layer_id: str, publication_id: int, where: Where,
                         note: str | None = None, catalog: Catalog | None = None, *,
                         legal_ref: str | None = None, confirmed: bool = False,
                         base: int | None = NO_PREVIEW) -> tuple[int, Diff]:
    """Restore the layer as it was at a publication (within that publication's unit), as a new one.

    Like publishing, it needs a reason (``note``), a legal reference and a confirmation, given after
    its preview; ``base`` is the layer's latest publication the preview saw (refused if it moved).
    """
    layer = feed_layer(layer_id, catalog)
    with session_scope(bind) as session:
        target = _rollback_target(session, principal, layer, publication_id)
    note, legal_ref = short_text(note), short_text(legal_ref)
    _confirmed_rollback(note, legal_ref, confirmed, base)
    try:
        new_id, change = rollback(bind, layer, publication_id, author=principal.actor, note=note,
                                  legal_ref=legal_ref, preview_base=base)
    except Problem as exc:
        raise feed_problem(exc, Conflict if exc.code == "changed_since_preview" else Unprocessable) from exc
    with session_scope(bind) as session:
        record(session, principal.actor, "rollback", where, target=f"publication:{new_id}",
               details=principal.audit_details(layer=layer.id, restores=publication_id, note=note,
                                               legal_ref=legal_ref,
                                               unit=f"{target.boundary_set}/{target.scope_code}",
                                               diff=change.__dict__))
    return new_id, change


# ------------------------------------------------------------------------------------- edit


def current_feature(session: Session, layer: Layer, source_id: str) -> dict[str, Any] | None:
    """Return a current feature's id, props and unit codes."""
    row = session.execute(text(
        "SELECT source_id, props, units, approximate, ST_AsGeoJSON(geom, 6) AS geometry FROM feature"
        " WHERE layer_id = :l AND source_id = :id AND valid_to_pub IS NULL"),
        {"l": layer.id, "id": source_id}).mappings().first()
    return dict(row) if row else None


def editable_feature(session: Session, principal: Principal, layer: Layer, source_id: str) -> dict[str, Any]:
    """Return a current feature the principal may edit (publisher+, inside its unit)."""
    require_role(principal, "publisher")
    feature = current_feature(session, layer, source_id)
    if feature is None:
        raise NotFound()
    unit = scope_unit(session, principal)
    if feature["units"].get(unit.level) != unit.code:
        raise Denied("Điểm này nằm ngoài phạm vi của bạn.", "This feature is outside your area.")
    return feature


def parse_values(layer: Layer, old: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """Return the feature's props with the form's values parsed by the layer's attribute types."""
    props = dict(old)
    for attribute in layer.attributes:
        if attribute.name not in values:
            continue
        raw = values[attribute.name]
        try:
            value = typed_value(attribute, raw)
        except ValueProblem as problem:
            raise Invalid(f"{attribute.label_vi}: {problem.message_vi}",
                          f"{attribute.label_en}: {problem.message_en}") from problem
        if value is None and attribute.required:
            raise Invalid(f"Thiếu giá trị bắt buộc: {attribute.label_vi}.",
                          f"Missing required value: {attribute.label_en}.")
        props[attribute.name] = value if value is not None else attribute.default
    start, end = props.get("valid_from"), props.get("valid_to")
    if start and end and str(end) < str(start):
        raise Invalid(f"Ngày kết thúc ({end}) trước ngày bắt đầu ({start}).",
                      f"The end date ({end}) is before the start date ({start}).")
    return props


def edit_feature(bind: Bind, principal: Principal, layer_id: str, source_id: str, values: dict[str, str],
                 where: Where, *, note: str | None = None, legal_ref: str | None = None,
                 catalog: Catalog | None = None) -> tuple[int, Diff]:
    """Change one feature's attributes as a one-row publication (action ``edit``) in the principal's unit."""
    require_role(principal, "publisher")
    layer = feed_layer(layer_id, catalog, features=True)
    note, legal_ref = short_text(note), short_text(legal_ref)
    with session_scope(bind) as session:
        feature = editable_feature(session, principal, layer, source_id)
        props = parse_values(layer, feature["props"], values)
        scope = resolve_scope(session, principal.boundary_set, principal.scope_code)
        params = {"l": layer.id, "scope_level": scope.level, "scope": scope.code}
        session.execute(text("DROP TABLE IF EXISTS ingest_staging"))
        session.execute(text(
            "CREATE TEMP TABLE ingest_staging ON COMMIT DROP AS SELECT row_number() OVER () AS seq,"
            " f.source_id, f.geom, f.props, f.approximate, f.units, f.unit_code, f.content_hash,"
            " f.source_row AS row_no FROM feature f WHERE f.layer_id = :l AND f.valid_to_pub IS NULL"
            " AND f.units ->> :scope_level = :scope"), params)
        session.execute(text(
            "UPDATE ingest_staging SET props = CAST(:props AS jsonb), content_hash ="
            " md5(CAST(:props AS jsonb)::text || ST_AsEWKB(geom)::text || approximate::text)"
            " WHERE source_id = :id"),
            {"props": json.dumps(props, ensure_ascii=False), "id": source_id})
        change = diff(session, layer, scope)
        if change.changed != 1 or change.added or change.removed:
            session.execute(text("DROP TABLE IF EXISTS ingest_staging"))
            raise Invalid("Không có thay đổi nào để lưu.", "Nothing was changed.")
        info = PublishInfo(author=principal.actor, action="edit", note=note, legal_ref=legal_ref,
                           source_name=source_id[:MAX_NAME])
        publication = publish(session, layer, scope, info, change)
        session.execute(text("DROP TABLE IF EXISTS ingest_staging"))
        old = feature["props"]
        fields = [[k, old.get(k), props.get(k)] for k in sorted(set(props) | set(old))
                  if old.get(k) != props.get(k)]
        record(session, principal.actor, "edit", where, target=f"publication:{publication}",
               details=principal.audit_details(layer=layer.id, source_id=source_id, fields=fields,
                                               note=note, legal_ref=legal_ref))
    return publication, change
