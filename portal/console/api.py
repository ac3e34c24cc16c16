"""The feed API: ``POST /api/layers/<layer>/feeds`` with ``Authorization: Bearer <token>``.

A multipart upload (field ``file``) is previewed in the token's unit and answered with the ingest
report as JSON (``report.as_dict()`` plus the ``upload`` id), for any catalogue layer: features, or
the statistics (``unit_stats``, whose feeds add and change values and remove none).
``?publish=1`` publishes it when no row was rejected and nothing was refused (optional form fields
``legal_ref`` and ``note`` are kept with the publication); otherwise the answer is 422 with the
report.  401 for a missing, unknown or revoked token; 403 for a token whose role cannot do it; 404
for an unknown layer.
Only bearer tokens are read: a browser's session cookie never authorises this API (so no CSRF).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from epimap.db import session_scope
from officials import publishing
from officials.accounts import Invalid, Unauthenticated, require_role, token_principal
from portal.catalog import current_catalog
from portal.console.auth import where
from portal.database import get_bind
from portal.errors import NotFound

bp = Blueprint("feed_api", __name__)
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
def post_feed(layer_id: str) -> tuple[Response, int]:
    """Preview (and with ``?publish=1`` publish) a feed for a layer."""
    principal = _bearer()
    publish_now = (request.args.get("publish") or "").strip().lower() in _TRUE
    require_role(principal, "publisher" if publish_now else "editor")
    if current_catalog().layer(layer_id) is None:
        raise NotFound(f"Không có lớp “{layer_id[:50]}”.", f"No layer '{layer_id[:50]}'.")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid("Thiếu tệp (trường file trong multipart/form-data).",
                      "Missing file (field 'file' of multipart/form-data).")
    settings = current_app.config["SETTINGS"]
    try:
        found, published = publishing.api_feed(get_bind(), settings, principal, layer_id, upload.stream,
                                               upload.filename, where(), publish_now=publish_now,
                                               note=request.form.get("note"),
                                               legal_ref=request.form.get("legal_ref"),
                                               catalog=current_catalog())
    except publishing.Unprocessable as exc:
        body: dict[str, Any] = {"error": exc.message("vi" if request.args.get("lang") == "vi" else "en"),
                                "error_vi": exc.message("vi"), "error_en": exc.message("en"), "status": 422}
        if getattr(exc, "code", None):
            body["code"] = exc.code  # type: ignore[attr-defined]
        rejected_upload = getattr(exc, "upload", None)
        if rejected_upload is not None:
            body["upload"] = rejected_upload.id
            body["report"] = rejected_upload.report
        refused = getattr(exc, "report", None)
        if refused is not None:
            body["report"] = refused.as_dict()
        return jsonify(body), 422
    report = published.as_dict() if published is not None else dict(found.report or {})
    report["upload"] = found.id
    return jsonify(report), 200


@bp.after_request
def _challenge(response: Response) -> Response:
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="epimap"'
    return response
