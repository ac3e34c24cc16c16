"""Vector tile routes: boundaries now, catalogue layers later; each tile one SQL statement."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, Response, current_app, jsonify, request, url_for

from boundaries.queries import set_levels
from boundaries.tiles import MAX_ZOOM, boundary_tile, valid_tile
from layers.meta import extent, layer_state
from layers.tilecache import TileCache
from layers.tiles import layer_tile
from portal.access import readable_layer
from portal.database import db_connection, db_session
from portal.errors import BadRequest, NotFound
from portal.http_policy import IMMUTABLE, cache_for
from portal.public_url import base_url

MVT = "application/vnd.mapbox-vector-tile"
BOUNDARY_MAX_AGE = 3600
CACHE = "epimap.tile_cache"

bp = Blueprint("tiles", __name__)


def _check_tile(z: int, x: int, y: int) -> None:
    """Refuse a zoom beyond the documented maximum (400); a column or row off the pyramid is no tile (404)."""
    if z > MAX_ZOOM:
        raise BadRequest(f"Mức thu phóng tối đa là {MAX_ZOOM}: {z}/{x}/{y}",
                         f"The largest zoom is {MAX_ZOOM}: {z}/{x}/{y}")
    if not valid_tile(z, x, y):
        raise NotFound(f"Không có ô bản đồ {z}/{x}/{y}.", f"No tile {z}/{x}/{y}.")


def mvt_response(data: bytes, max_age: int, immutable: bool = False) -> Response:
    """Return a tile with an ETag, kept ``max_age`` seconds, or 304 when the client has it."""
    cache_for(max_age, immutable)
    etag = hashlib.sha1(data).hexdigest()  # noqa: S324 - a cache validator, not security
    response = Response(data, mimetype=MVT)
    response.set_etag(etag)
    return response.make_conditional(request)


@bp.route("/tiles/boundaries/<set_name>/<level>/<int:z>/<int:x>/<int:y>.mvt")
def boundary(set_name: str, level: str, z: int, x: int, y: int) -> Response:
    """Serve one level of a boundary set as a vector tile."""
    _check_tile(z, x, y)
    session = db_session()
    if level not in set_levels(session, set_name):
        raise NotFound()
    return mvt_response(boundary_tile(session, set_name, level, z, x, y), BOUNDARY_MAX_AGE)


@bp.route("/tiles/<layer_id>/<int:publication>/<int:z>/<int:x>/<int:y>.mvt")
def layer(layer_id: str, publication: int, z: int, x: int, y: int) -> Response:
    """Serve a layer's tile as of a publication; immutable, so cacheable forever."""
    _check_tile(z, x, y)
    found = readable_layer(layer_id)

    def make() -> bytes:
        data = layer_tile(db_connection(), found.layer, publication, z, x, y, found.reader)
        if data is None:
            raise NotFound()
        return data

    if found.reader is not None:  # a reader's part of a restricted layer is never kept
        return mvt_response(make(), IMMUTABLE, immutable=True)
    cache: TileCache = current_app.extensions[CACHE]
    data = cache.get_or_make((found.layer.id, publication, z, x, y), make)
    return mvt_response(data, IMMUTABLE, immutable=True)


def tile_url_template(layer_id: str, publication: int) -> str:
    """Return the tile URL template of a layer at a publication."""
    return url_for("tiles.layer", layer_id=layer_id, publication=publication, z=0, x=0, y=0).replace(
        "/0/0/0.mvt", "/{z}/{x}/{y}.mvt")


@bp.route("/tiles/<layer_id>.json")
def tilejson(layer_id: str) -> Response:
    """Describe a layer's current tiles (TileJSON 3.0); short-lived, so a publish shows at once."""
    readable = readable_layer(layer_id)
    found, session = readable.layer, db_session()
    state = layer_state(session, found, readable.reader)
    publication = state.publication or 0
    bbox = extent(session, found, publication, readable.reader) if state.publication else None
    body = {
        "tilejson": "3.0.0", "name": found.title_vi, "description": found.title_en,
        "tiles": [base_url().rstrip("/") + tile_url_template(found.id, publication)],
        "minzoom": 0, "maxzoom": MAX_ZOOM, "bounds": list(bbox) if bbox else [-180, -85, 180, 85],
        "publication": state.publication,
        "updated_at": state.updated_at.isoformat() if state.updated_at else None,
        "features": state.count,
        "vector_layers": [{"id": found.id, "fields": {a: "String" for a in found.public_attributes}}],
    }
    return jsonify(body)


def init_app(app: Flask) -> None:
    """Register the tile routes and the tile cache."""
    settings = app.config["SETTINGS"]
    app.extensions[CACHE] = TileCache(settings.tile_cache_size, settings.tile_cache_dir or None)
    app.register_blueprint(bp)
