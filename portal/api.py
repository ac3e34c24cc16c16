"""JSON API: unit search and the health check."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from boundaries.queries import find_units
from epimap.db import ping
from portal.database import db_session, get_bind
from portal.errors import BadRequest
from portal.http_policy import cache_for

MAX_QUERY = 100
UNITS_MAX_AGE = 300  # units change only when a boundary set is loaded

bp = Blueprint("api", __name__)


@bp.route("/api/units")
def units() -> Response:
    """Find units by name: ``?q=`` (required; a blank one finds nothing), ``within=`` code, ``set=``."""
    query = request.args.get("q", "").strip()
    if "q" not in request.args or len(query) > MAX_QUERY:
        raise BadRequest("Tham số q (tên đơn vị, tối đa 100 ký tự) là bắt buộc.",
                         "Parameter q (a unit name, at most 100 characters) is required.")
    set_name = request.args.get("set") or current_app.config["SETTINGS"].default_set
    found = find_units(db_session(), set_name, query, within=request.args.get("within") or None,
                       parent_hint=request.args.get("parent") or None)
    cache_for(UNITS_MAX_AGE)
    return jsonify({"query": query, "set": set_name, "count": len(found),
                    "units": [u.as_dict() for u in found]})


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether the database answers."""
    try:
        ok = ping(get_bind())
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        ok = False
    return jsonify({"database": "ok" if ok else "unavailable"}), 200 if ok else 503


def init_app(app: Flask) -> None:
    """Register the API routes."""
    app.register_blueprint(bp)
