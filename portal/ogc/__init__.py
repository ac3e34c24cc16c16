"""OGC API – Features Part 1 (core, GeoJSON, HTML, OpenAPI 3.0) under ``/ogc/``: public layers only.

Collections are the catalogue's public layers, items their current features (or, with
``datetime``, the features as they were), identified by their source id; properties are the public
attributes.  PostGIS builds the GeoJSON; the page envelope is added around its text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, render_template, request, url_for

from epimap.errors import EpimapError
from layers import ogc
from layers.catalog import Layer
from portal.catalog import current_catalog
from portal.database import db_connection
from portal.errors import NotFound, render, with_retry_after
from portal.i18n import current_language, register_messages, translate
from portal.ogc import openapi
from portal.ogc.messages import MESSAGES
from portal.ogc.params import COMMON, check_known, item_query, output_format

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CONFORMANCE = tuple(f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{c}"
                    for c in ("core", "geojson", "html", "oas30"))
_ERROR_CODES = {400: "InvalidParameterValue", 404: "NotFound"}

bp = Blueprint("ogc", __name__, url_prefix="/ogc", template_folder="templates")


def public_layers() -> list[Layer]:
    """Return the catalogue's public layers: the collections."""
    return [layer for layer in current_catalog().feature_layers() if layer.public]


def public_layer(layer_id: str) -> Layer:
    """Return a public layer; anything else is a 404, signed in or not (these answers are public)."""
    layer = current_catalog().layer(layer_id)
    if layer is None or not layer.public or not layer.kind.has_features:
        raise NotFound()
    return layer


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def _link(href: str, rel: str, kind: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": kind}
    if title:
        link["title"] = title
    return link


def _self_links(endpoint: str, fmt: str, json_type: str = JSON, **values: Any) -> list[dict[str, str]]:
    """Return ``self`` and ``alternate``: the requested format is self."""
    rel = {kind: "self" if fmt == kind else "alternate" for kind in ("json", "html")}
    as_json = _link(_url(endpoint, f="json", **values), rel["json"], json_type, "JSON")
    as_html = _link(_url(endpoint, f="html", **values), rel["html"], HTML, "HTML")
    return [as_json, as_html] if fmt == "json" else [as_html, as_json]


def _respond(body: dict[str, Any], fmt: str, template: str, media: str = JSON, **context: Any) -> Response:
    if fmt == "html":
        return Response(render_template(template, doc=body, **context), mimetype=HTML)
    return Response(json.dumps(body, ensure_ascii=False), mimetype=media)


def _checked_format() -> str:
    check_known(request.args, COMMON)
    return output_format()


@bp.route("", strict_slashes=False)
def landing() -> Response:
    """The landing page: links to the API definition, the conformance classes and the collections."""
    fmt = _checked_format()
    lang = current_language()
    body = {
        "title": translate("ogc_title", lang),
        "description": translate("ogc_description", lang),
        "links": [
            *_self_links("ogc.landing", fmt),
            _link(_url("openapi.document"), "service-desc", OPENAPI, "OpenAPI 3.0"),
            _link(_url("ogc.conformance", f="json"), "conformance", JSON, "Conformance"),
            _link(_url("ogc.collections", f="json"), "data", JSON, "Collections"),
        ],
    }
    return _respond(body, fmt, "ogc/landing.html")


@bp.route("/conformance")
def conformance() -> Response:
    """The conformance classes this API implements."""
    fmt = _checked_format()
    return _respond({"conformsTo": list(CONFORMANCE)}, fmt, "ogc/conformance.html")


def _temporal(extent: ogc.Extent) -> dict[str, Any] | None:
    if extent.first_published is None:
        return None
    return {"interval": [[_rfc3339(extent.first_published), None]], "trs": GREGORIAN}


def _collection(layer: Layer, extent: ogc.Extent, fmt: str, lang: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": layer.id,
        "title": layer.title(lang),
        "description": layer.title("en" if lang == "vi" else "vi"),
        "links": [
            *_self_links("ogc.collection", fmt, layer_id=layer.id),
            _link(_url("ogc.items", layer_id=layer.id, f="json"), "items", GEOJSON, "GeoJSON"),
            _link(_url("ogc.items", layer_id=layer.id, f="html"), "items", HTML, "HTML"),
        ],
        "itemType": "feature",
        "crs": [CRS84],
    }
    spatial = {"bbox": [list(extent.bbox)], "crs": CRS84} if extent.bbox else None
    temporal = _temporal(extent)
    if spatial or temporal:
        body["extent"] = {k: v for k, v in (("spatial", spatial), ("temporal", temporal)) if v}
    return body


@bp.route("/collections")
def collections() -> Response:
    """Every public layer with its extent."""
    fmt = _checked_format()
    lang = current_language()
    layers = public_layers()
    extents = ogc.extents(db_connection(), layers)
    body = {
        "links": _self_links("ogc.collections", fmt),
        "collections": [_collection(layer, extents[layer.id], fmt, lang) for layer in layers],
    }
    return _respond(body, fmt, "ogc/collections.html")


@bp.route("/collections/<layer_id>")
def collection(layer_id: str) -> Response:
    """One public layer: its extent and links to its items."""
    layer = public_layer(layer_id)
    fmt = _checked_format()
    extent = ogc.extents(db_connection(), [layer])[layer.id]
    return _respond(_collection(layer, extent, fmt, current_language()), fmt, "ogc/collection.html",
                    layer=layer)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _page_links(layer: Layer, query: ogc.ItemQuery, page: ogc.Page, fmt: str) -> list[dict[str, str]]:
    """Return self, alternate, collection, and next/prev keeping every other parameter."""
    kept = [(k, v) for k, v in request.args.items() if k not in ("f", "offset")]
    base = request.base_url  # this very path: cheaper than building it again per link

    def at(offset: int, kind: str) -> str:
        extra = [("offset", offset)] if offset else []
        return base + "?" + urlencode([*kept, *extra, ("f", kind)], safe=",:/")

    kinds = {"json": GEOJSON, "html": HTML}
    other = "html" if fmt == "json" else "json"
    links = [_link(at(query.offset, fmt), "self", kinds[fmt]),
             _link(at(query.offset, other), "alternate", kinds[other]),
             _link(_url("ogc.collection", layer_id=layer.id, f="json"), "collection", JSON)]
    if query.offset + page.returned < page.matched:
        links.append(_link(at(query.offset + query.limit, fmt), "next", kinds[fmt]))
    if query.offset > 0:
        links.append(_link(at(max(0, query.offset - query.limit), fmt), "prev", kinds[fmt]))
    return links


@bp.route("/collections/<layer_id>/items")
def items(layer_id: str) -> Response:
    """A page of a layer's features: bbox, datetime, property filters, limit/offset paging."""
    layer = public_layer(layer_id)
    query = item_query(layer, request.args)
    fmt = output_format()
    page = ogc.items(db_connection(), query)
    envelope = {"numberMatched": page.matched, "numberReturned": page.returned,
                "timeStamp": _rfc3339(datetime.now(UTC)), "links": _page_links(layer, query, page, fmt)}
    if fmt == "html":
        doc = {"type": "FeatureCollection", "features": json.loads(page.features), **envelope}
        return _respond(doc, fmt, "ogc/items.html", layer=layer, query=query)
    text = ('{"type":"FeatureCollection","features":' + page.features + ","
            + json.dumps(envelope, ensure_ascii=False)[1:])
    return Response(text, mimetype=GEOJSON)


@bp.route("/collections/<layer_id>/items/<path:feature_id>")
def item(layer_id: str, feature_id: str) -> Response:
    """One current feature by its source id."""
    layer = public_layer(layer_id)
    fmt = _checked_format()
    found = ogc.item(db_connection(), layer, feature_id)
    if found is None:
        raise NotFound()
    links = [*_self_links("ogc.item", fmt, GEOJSON, layer_id=layer.id, feature_id=feature_id),
             _link(_url("ogc.collection", layer_id=layer.id, f="json"), "collection", JSON)]
    if fmt == "html":
        return _respond({**json.loads(found), "links": links}, fmt, "ogc/item.html", layer=layer)
    text = found[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}"
    return Response(text, mimetype=GEOJSON)


def _error(error: EpimapError) -> Response:
    """OGC exceptions: JSON (``code``, ``description`` and the portal's bilingual fields) unless HTML."""
    try:
        fmt = output_format()
    except EpimapError:
        fmt = "json"
    if fmt == "html":
        return render(error)
    lang = current_language()
    body = {"code": _ERROR_CODES.get(error.status, "ServerError"), "description": error.message("en"),
            "error": error.message(lang), "error_vi": error.message("vi"), "error_en": error.message("en"),
            "status": error.status}
    return with_retry_after(Response(json.dumps(body, ensure_ascii=False), status=error.status,
                                     mimetype=JSON), error)


bp.register_error_handler(EpimapError, _error)


def init_app(app: Flask) -> None:
    """Register ``/ogc/``, ``/openapi.json``, their UI strings and the top-bar link."""
    register_messages(app, MESSAGES)
    app.register_blueprint(bp)
    openapi.init_app(app)
    app.config.setdefault("NAV_LINKS", []).append(("ogc.landing", "ogc_nav"))
