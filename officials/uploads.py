"""Uploads previewed and published by background jobs: the request stores and queues, the job ingests.

A web request never runs an ingest.  :func:`queue_preview` stores the file, inserts the upload as
``queued`` and queues its preview job in one transaction; :func:`queue_publish` checks what can be
checked at once (role, unit, state, the stored file, the layer's base), claims the upload
(``publishing``) and queues its publish job, again in one transaction.  The jobs
(:func:`preview_job`, :func:`publish_job`, run by ``epimap worker``) do what the requests used to:
the dry run and its report, or the publication (re-validated on the stored file, one transaction),
and the audit events; a failure is written to the upload as a bilingual ``job_error``.

A worker killed mid-job leaves its ingest's transaction rolled back by PostgreSQL (nothing
half-published) and its job ``doing``; :func:`worker_lost` is what the surviving workers do with it
once the dead worker's heartbeat is old (:mod:`officials.jobs`).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import IO, Any

from sqlalchemy import text

from epimap.db import Bind, session_scope
from epimap.errors import EpimapError, Problem
from epimap.settings import Settings
from ingest.pipeline import sha256_of
from layers.catalog import Catalog
from layers.meta import layer_state
from officials import queue
from officials.accounts import Conflict, Principal, require_role
from officials.audit import Where, record
from officials.publishing import (
    Changes,
    PublishFailed,
    Unprocessable,
    Upload,
    decided,
    feed_layer,
    feed_problem,
    get_upload,
    ingest_upload,
    safe_file_name,
    short_text,
    store_upload,
    upload_dir,
    visible_upload,
)

PREVIEW_FAILED = ("Không xem trước được tệp; hãy thử lại.", "The preview failed; try again.")
WORKER_LOST_PREVIEW = ("Máy xử lý dừng giữa chừng nhiều lần; không xem trước được tệp. Hãy tải lên lại.",
                       "The job worker stopped midway several times; the feed was not previewed."
                       " Upload it again.")
WORKER_LOST_PUBLISH = ("Máy xử lý dừng giữa chừng; không có gì được xuất bản. Hãy xuất bản lại.",
                       "The job worker stopped midway; nothing was published. Publish again.")
REFUSED = ("Tệp không được phép xuất bản.", "The feed was refused; nothing was published.")
REJECTED = ("Tệp có dòng bị từ chối hoặc không được phép xuất bản; không xuất bản.",
            "The feed has rejected rows or was refused; nothing was published.")


def problem_details(problem: Problem) -> dict[str, Any]:
    """Return what a problem tells beyond its code and messages (e.g. the layer a file fits better)."""
    return {k: v for k, v in problem.as_dict().items() if k not in ("code", "message_vi", "message_en")}


def _args(principal: Principal, where: Where, **more: Any) -> dict[str, Any]:
    return {"principal": asdict(principal), "where": asdict(where), **more}


def _who(args: dict[str, Any]) -> tuple[Principal, Where]:
    return Principal(**args["principal"]), Where(**args["where"])


def queue_preview(bind: Bind, settings: Settings, principal: Principal, layer_id: str, stream: IO[bytes],
                  file_name: str | None, where: Where, *, catalog: Catalog | None = None,
                  publish: dict[str, Any] | None = None) -> Upload:
    """Store an uploaded feed and queue its preview (and, with ``publish``, its publication)."""
    require_role(principal, "publisher" if publish is not None else "editor")
    layer = feed_layer(layer_id, catalog)
    name = safe_file_name(file_name)
    _path, sha, size = store_upload(stream, upload_dir(settings), settings.max_upload_mb * 2**20)
    with session_scope(bind) as session:
        upload_id = session.execute(text(
            "INSERT INTO feed_upload (layer_id, file_name, sha256, size_bytes, author, account_id, token_id,"
            " boundary_set, scope_code, status) VALUES (:l, :f, :sha, :size, :author, :a, :t, :s, :c,"
            " 'queued') RETURNING id"),
            {"l": layer.id, "f": name, "sha": sha, "size": size, "author": principal.actor,
             "a": principal.account_id, "t": principal.token_id, "s": principal.boundary_set,
             "c": principal.scope_code}).scalar_one()
        queue.enqueue(session, upload_id, "preview", queue.PREVIEW_TASK,
                      _args(principal, where, upload_id=upload_id, publish=publish))
        return get_upload(session, upload_id)  # type: ignore[return-value]


def queue_publish(bind: Bind, settings: Settings, principal: Principal, upload_id: int, where: Where, *,
                  note: str | None = None, legal_ref: str | None = None, force: bool = False,
                  catalog: Catalog | None = None) -> Upload:
    """Check a previewed upload can be published, claim it and queue its publication."""
    require_role(principal, "publisher")
    with session_scope(bind) as session:
        upload = visible_upload(session, principal, upload_id)
        current = layer_state(session, feed_layer(upload.layer_id, catalog)).publication
    if upload.status != "previewed":
        raise decided()
    path = upload_dir(settings) / upload.sha256
    if not path.is_file() or sha256_of(path) != upload.sha256:
        raise Conflict("Tệp đã tải lên không còn khớp với bản xem trước; hãy tải lên lại.",
                       "The stored file no longer matches the preview; upload it again.")
    if current != upload.base_publication:
        raise Conflict("Lớp đã được cập nhật sau khi xem trước; hãy tải lên và xem trước lại.",
                       "The layer was published after this preview; upload and preview again.")
    with session_scope(bind) as session:
        if not _claim(session, upload.id):
            raise Conflict("Tệp này đang được xuất bản.", "This upload is being published.")
        queue.enqueue(session, upload.id, "publish", queue.PUBLISH_TASK,
                      _args(principal, where, upload_id=upload.id, note=short_text(note),
                            legal_ref=short_text(legal_ref), force=force))
        return get_upload(session, upload.id)  # type: ignore[return-value]


def queue_as_layer(bind: Bind, settings: Settings, principal: Principal, upload_id: int, layer_id: str,
                   where: Where, *, catalog: Catalog | None = None) -> Upload:
    """Queue a preview of an upload's stored file as another layer (a new upload of the same file)."""
    with session_scope(bind) as session:
        upload = visible_upload(session, principal, upload_id)
    path = upload_dir(settings) / upload.sha256
    if not path.is_file():
        raise Conflict("Tệp đã tải lên không còn; hãy tải lên lại.",
                       "The uploaded file is gone; upload it again.")
    with path.open("rb") as stream:
        return queue_preview(bind, settings, principal, layer_id, stream, upload.file_name, where,
                             catalog=catalog)


def _claim(session: Any, upload_id: int) -> bool:
    """Move an upload from previewed to publishing; False when someone else already did."""
    claimed = session.execute(text("UPDATE feed_upload SET status = 'publishing' WHERE id = :i"
                                   " AND status = 'previewed' RETURNING id"), {"i": upload_id}).first()
    return claimed is not None


def _release(bind: Bind, upload_id: int, error: EpimapError, code: str | None = None) -> None:
    with session_scope(bind) as session:
        session.execute(text("UPDATE feed_upload SET status = 'previewed' WHERE id = :i"
                             " AND status = 'publishing'"), {"i": upload_id})
        queue.finish(session, upload_id, error, code=code)


# ------------------------------------------------------------------------------------- the jobs


def preview_job(bind: Bind, settings: Settings, catalog: Catalog, args: dict[str, Any]) -> None:
    """Run a queued upload's dry run and keep its report; publish it after when asked and clean."""
    principal, where = _who(args)
    with session_scope(bind) as session:
        upload = get_upload(session, args["upload_id"])
    if upload is not None and upload.status == "publishing" and args.get("publish") is not None:
        worker_lost(bind, upload.id, "publish")  # a retry of a job whose publication was cut short
        return
    if upload is None or upload.status != "queued":
        return  # already previewed (a retried job that had finished its work)
    layer = feed_layer(upload.layer_id, catalog)
    path = upload_dir(settings) / upload.sha256
    with session_scope(bind) as session:
        base = layer_state(session, layer).publication
    changes = Changes().as_dict()
    progress = queue.Progress(bind, upload.id, queue.estimate_rows(path))
    try:
        report = ingest_upload(bind, path, layer, upload.boundary_set, upload.scope_code,
                               author=upload.author, file_name=upload.file_name, dry_run=True,
                               max_bytes=settings.max_upload_mb * 2**20, changes=changes, catalog=catalog,
                               on_progress=progress)
    except Problem as exc:
        with session_scope(bind) as session:
            session.execute(text("UPDATE feed_upload SET status = 'failed' WHERE id = :i"), {"i": upload.id})
            queue.finish(session, upload.id, feed_problem(exc), code=exc.code, details=problem_details(exc))
            record(session, principal.actor, "upload_failed", where, target=f"layer:{layer.id}",
                   details=principal.audit_details(file=upload.file_name, sha256=upload.sha256,
                                                   size=upload.size_bytes, code=exc.code))
        return
    except Exception:
        with session_scope(bind) as session:
            session.execute(text("UPDATE feed_upload SET status = 'failed' WHERE id = :i"), {"i": upload.id})
            queue.finish(session, upload.id, Unprocessable(*PREVIEW_FAILED), code="preview_failed")
        raise
    counts = report.as_dict()["counts"]
    publish = args.get("publish")
    with session_scope(bind) as session:
        session.execute(text(
            "UPDATE feed_upload SET status = 'previewed', base_publication = :base,"
            " report = CAST(:report AS jsonb), changes = CAST(:changes AS jsonb) WHERE id = :i"),
            {"i": upload.id, "base": base, "report": _json(report.as_dict()), "changes": _json(changes)})
        record(session, principal.actor, "upload", where, target=f"upload:{upload.id}",
               details=principal.audit_details(layer=layer.id, file=upload.file_name, sha256=upload.sha256,
                                               size=upload.size_bytes, accepted=counts["accepted"],
                                               rejected=counts["rejected"]))
        if publish is None:
            queue.finish(session, upload.id)
            return
        if counts["rejected"] or report.refused is not None:
            queue.finish(session, upload.id, Unprocessable(*REJECTED), code="rejected_rows")
            return
        _claim(session, upload.id)
        session.execute(text("UPDATE feed_upload SET job_kind = 'publish' WHERE id = :i"), {"i": upload.id})
    publish_job(bind, settings, catalog, {**args, **publish, "force": False})


def publish_job(bind: Bind, settings: Settings, catalog: Catalog, args: dict[str, Any]) -> None:
    """Publish a claimed upload: re-run the ingest on the stored file, in the upload's unit."""
    principal, where = _who(args)
    with session_scope(bind) as session:
        upload = get_upload(session, args["upload_id"])
    if upload is None or upload.status != "publishing":
        return
    layer = feed_layer(upload.layer_id, catalog)
    path = upload_dir(settings) / upload.sha256
    note, legal_ref, force = args.get("note"), args.get("legal_ref"), bool(args.get("force"))
    progress = queue.Progress(bind, upload.id, queue.estimate_rows(path))
    try:
        report = ingest_upload(bind, path, layer, upload.boundary_set, upload.scope_code,
                               author=principal.actor, file_name=upload.file_name, dry_run=False,
                               max_bytes=settings.max_upload_mb * 2**20, note=note, legal_ref=legal_ref,
                               force=force, catalog=catalog, preview_base=upload.base_publication,
                               on_progress=progress)
    except Problem as exc:
        _release(bind, upload.id, feed_problem(exc, Conflict if exc.code == "changed_since_preview"
                                               else Unprocessable), code=exc.code)
        return
    except Exception as exc:
        _release(bind, upload.id, PublishFailed("Xuất bản không thành công; dữ liệu hiện tại không thay đổi.",
                                                "Publishing failed; the current data is unchanged."),
                 code="publish_failed")
        with session_scope(bind) as session:
            record(session, principal.actor, "publish_failed", where, target=f"upload:{upload.id}",
                   details=principal.audit_details(layer=layer.id, error=type(exc).__name__))
        raise
    if report.publication is None:
        refused = report.refused
        error = Unprocessable(*((refused.message_vi, refused.message_en) if refused else REFUSED))
        _release(bind, upload.id, error, code=refused.code if refused else "refused")
        with session_scope(bind) as session:
            record(session, principal.actor, "publish_refused", where, target=f"upload:{upload.id}",
                   details=principal.audit_details(layer=layer.id, code=refused.code if refused else None))
        return
    with session_scope(bind) as session:
        session.execute(text(
            "UPDATE feed_upload SET status = 'published', publication_id = :p, decided_by = :by,"
            " decided_at = now(), report = CAST(:report AS jsonb) WHERE id = :i"),
            {"p": report.publication, "by": principal.actor, "i": upload.id,
             "report": _json(report.as_dict())})
        queue.finish(session, upload.id)
        record(session, principal.actor, "publish", where, target=f"publication:{report.publication}",
               details=principal.audit_details(
                   layer=layer.id, upload=upload.id, file=upload.file_name, sha256=upload.sha256,
                   legal_ref=legal_ref, note=note, diff=report.as_dict()["diff"], force=force,
                   unit=f"{upload.boundary_set}/{upload.scope_code}"))


def worker_lost(bind: Bind, upload_id: int, kind: str) -> None:
    """Settle an upload whose job's worker died and will not be retried: failed, nothing half-done.

    A publication commits in one transaction with its features; the upload is marked in the next.
    When the worker died between the two, the publication is found by the file's sha256 and the
    upload is marked published; otherwise the upload goes back to previewed, to be published again.
    """
    with session_scope(bind) as session:
        upload = get_upload(session, upload_id)
        if upload is None:
            return
        if kind == "preview" and upload.status == "queued":
            session.execute(text("UPDATE feed_upload SET status = 'failed' WHERE id = :i"), {"i": upload_id})
            queue.finish(session, upload_id, Unprocessable(*WORKER_LOST_PREVIEW), code="worker_lost")
        elif upload.status == "publishing":
            made = session.execute(text(
                "SELECT id FROM publication WHERE layer_id = :l AND source_sha256 = :sha AND id > :base"
                " AND scope_code = :c ORDER BY id DESC LIMIT 1"),
                {"l": upload.layer_id, "sha": upload.sha256, "base": upload.base_publication or 0,
                 "c": upload.scope_code}).scalar()
            if made is not None:
                session.execute(text("UPDATE feed_upload SET status = 'published', publication_id = :p,"
                                     " decided_at = now() WHERE id = :i"), {"p": made, "i": upload_id})
                queue.finish(session, upload_id)
            else:
                session.execute(text("UPDATE feed_upload SET status = 'previewed' WHERE id = :i"),
                                {"i": upload_id})
                queue.finish(session, upload_id, PublishFailed(*WORKER_LOST_PUBLISH), code="worker_lost")


def job_requeued(bind: Bind, upload_id: int) -> None:
    """Show a retried job as queued again (its worker died; another will run it)."""
    with session_scope(bind) as session:
        session.execute(text("UPDATE feed_upload SET job_phase = 'queued', job_rows = 0, job_percent = 0,"
                             " job_updated_at = now() WHERE id = :i"), {"i": upload_id})


def job_state(upload: Upload) -> dict[str, Any]:
    """Return where an upload's job is: status, kind, phase, rows, percent, done, and any error."""
    return {"upload": upload.id, "status": upload.status, "kind": upload.job_kind,
            "phase": upload.job_phase, "rows": upload.job_rows, "percent": upload.job_percent,
            "done": not upload.running, "error": upload.job_error,
            "publication": upload.publication_id}


def result_report(upload: Upload) -> dict[str, Any]:
    """Return the upload's report (of its publication once published) with the upload's id."""
    return {**(upload.report or {}), "upload": upload.id}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


