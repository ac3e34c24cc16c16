"""The feed API: ``POST /api/layers/<layer>/feeds`` with ``Authorization: Bearer <token>``.

A multipart upload (field ``file``) is stored and its preview in the token's unit queued as a
background job: the answer is ``202 Accepted`` with ``Location`` (and ``job`` in the JSON) naming
``/api/layers/<layer>/feeds/<upload>``, which answers 202 with the job's phase, rows and percent
while it runs, then 200 with the ingest report as JSON (``report.as_dict()`` plus the ``upload``
id), for any catalogue layer: features, or the statistics (``unit_stats``, whose feeds add and
change values and remove none).  ``?publish=1`` publishes it when no row was rejected and nothing
was refused (optional form fields ``legal_ref`` and ``note`` are kept with the publication);
otherwise the job's answer is 422 with the report.  401 for a missing, unknown or revoked token;
403 for a token whose role cannot do it; 404 for an unknown layer, or an upload outside the
token's unit.
Only bearer tokens are read: a browser's session cookie never authorises this API (so no CSRF).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from epimap.db import session_scope
from officials import publishing, uploads
from officials.accounts import Invalid, Unauthenticated, require_role, token_principal
from portal.catalog import current_catalog
from portal.console.auth import where
from portal.database import get_bind
from portal.errors import NotFound
from portal.http_policy import poll_later

bp = Blueprint("feed_api", __name__)
# A finished job's error code → the answer's status (a feed not accepted is 422).
ERROR_STATUS = {"changed_since_preview": 409, "publish_failed": 500, "preview_failed": 500,
                "worker_lost": 500}
_TRUE = ("1", "true", "yes")


def _bearer() -> Any:
    header = request.headers.get("Authorization") or ""
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthenticated("Thiếu khóa API (Authorization: Bearer …).",
                              "Missing API token (Authorization: Bearer …).")
    with session_scope(get_bind()) as session:
        principal = token_principal(session, raw.strip())
    if principal is None:
        raise Unauthenticated("Khóa API không hợp lệ hoặc đã bị thu hồi.", "Invalid or revoked API token.")
    return principal


@bp.route("/api/layers/<layer_id>/feeds", methods=["POST"])
def post_feed(layer_id: str) -> Response:
    """Store a feed and queue its preview (with ``?publish=1`` its publication): 202 and the job's URL."""
    principal = _bearer()
    publish_now = (request.args.get("publish") or "").strip().lower() in _TRUE
    require_role(principal, "publisher" if publish_now else "editor")
    if current_catalog().layer(layer_id) is None:
        raise NotFound(f"Không có lớp “{layer_id[:50]}”.", f"No layer '{layer_id[:50]}'.")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid("Thiếu tệp (trường file trong multipart/form-data).",
                      "Missing file (field 'file' of multipart/form-data).")
    publish = ({"note": request.form.get("note"), "legal_ref": request.form.get("legal_ref")}
               if publish_now else None)
    found = uploads.queue_preview(get_bind(), current_app.config["SETTINGS"], principal, layer_id,
                                  upload.stream, upload.filename, where(), catalog=current_catalog(),
                                  publish=publish)
    return _running(found, 202)


@bp.route("/api/layers/<layer_id>/feeds/<int:upload_id>")
def feed_job(layer_id: str, upload_id: int) -> Response:
    """Where an upload's job is: 202 while it runs; then 200 and the report, or the error (422, 409, 500)."""
    principal = _bearer()
    with session_scope(get_bind()) as session:
        found = publishing.visible_upload(session, principal, upload_id)
    if found.layer_id != layer_id:
        raise NotFound()
    if found.running:
        return _running(found, 202)
    error = found.job_error
    if error is None:
        return jsonify(uploads.result_report(found))
    lang = "vi" if request.args.get("lang") == "vi" else "en"
    status = ERROR_STATUS.get(error.get("code"), 422)
    body: dict[str, Any] = {"error": error[lang], "error_vi": error["vi"], "error_en": error["en"],
                            "status": status, "upload": found.id, "report": found.report}
    if error.get("code"):
        body["code"] = error["code"]
    response = jsonify(body)
    response.status_code = status
    return response


def _running(found: publishing.Upload, status: int) -> Response:
    url = url_for("feed_api.feed_job", layer_id=found.layer_id, upload_id=found.id)
    response = jsonify({**uploads.job_state(found), "job": url})
    response.status_code = status
    return poll_later(response, url)


@bp.after_request
def _challenge(response: Response) -> Response:
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="epimap"'
    return response
