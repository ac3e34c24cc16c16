"""Vector tile routes: boundaries now, catalogue layers later; each tile one SQL statement."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, Response, request

from boundaries.queries import set_levels
from boundaries.tiles import boundary_tile, valid_tile
from portal.database import db_session
from portal.errors import BadRequest, NotFound

MVT = "application/vnd.mapbox-vector-tile"
BOUNDARY_MAX_AGE = 3600

bp = Blueprint("tiles", __name__)


def _check_tile(z: int, x: int, y: int) -> None:
    if not valid_tile(z, x, y):
        raise BadRequest(f"Ô bản đồ không hợp lệ: {z}/{x}/{y}", f"Invalid tile coordinates: {z}/{x}/{y}")


def mvt_response(data: bytes, max_age: int, immutable: bool = False) -> Response:
    """Return a tile with an ETag and cache headers, or 304 when the client has it."""
    etag = hashlib.sha1(data).hexdigest()  # noqa: S324 - a cache validator, not security
    response = Response(data, mimetype=MVT)
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    if immutable:
        response.cache_control.immutable = True
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)


@bp.route("/tiles/boundaries/<set_name>/<level>/<int:z>/<int:x>/<int:y>.mvt")
def boundary(set_name: str, level: str, z: int, x: int, y: int) -> Response:
    """Serve one level of a boundary set as a vector tile."""
    _check_tile(z, x, y)
    session = db_session()
    if level not in set_levels(session, set_name):
        raise NotFound()
    return mvt_response(boundary_tile(session, set_name, level, z, x, y), BOUNDARY_MAX_AGE)


def init_app(app: Flask) -> None:
    """Register the tile routes."""
    app.register_blueprint(bp)
