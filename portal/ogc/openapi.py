"""The OpenAPI 3.0 document of the public API, served at ``/openapi.json``.

Each public route is described below by its Werkzeug rule; the document lists only the rules the
running app has (features register their routes themselves), and a test checks that every public
API route of the app is described, so the document stays accurate.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Flask, Response, current_app

from layers.ogc import MAX_LIMIT
from portal.catalog import current_catalog
from portal.public_url import base_url

OPENAPI_MEDIA = "application/vnd.oai.openapi+json;version=3.0"
# Rules under these prefixes are the public API: each must be described here.
API_PREFIXES = ("/ogc", "/tiles/", "/api/", "/embed/", "/oembed", "/download/", "/snapshot/", "/openapi.json",
                "/healthz")

bp = Blueprint("openapi", __name__)

_DATETIME_HELP = (
    "Time travel on the publication history. Each feature version lives from the publication that wrote it"
    " until the publication that replaced or removed it. An instant `T` (RFC 3339 date-time with offset,"
    " e.g. `2021-08-01T00:00:00Z`) returns the features as they were at T: as of the layer's latest"
    " publication at or before T (nothing before the first publication). `../T` is the same. `A/B` returns"
    " the features as they were at B, restricted to the versions published (added or changed) at or after"
    " A; `A/..` the current features published at or after A (\"what changed since A\"). A full date"
    " (`2021-08-01`) stands for the UTC day: its start as A, its end as T or B.")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {media: {"schema": schema}}


def _response(description: str, content: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description}
    if content:
        body["content"] = content
    return body


def _path_param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema or {"type": "string"}}


def _query(name: str, description: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    param = {"name": name, "in": "query", "required": required, "description": description, "schema": schema}
    return param


_F = _query("f", "Output format; without it the Accept header decides (JSON by default).",
            {"type": "string", "enum": ["json", "html"]})
_LANG = _query("lang", "Language of titles and messages (Vietnamese by default).",
               {"type": "string", "enum": ["vi", "en"]})
_ERRORS = {"400": {"$ref": "#/components/responses/BadRequest"},
           "404": {"$ref": "#/components/responses/NotFound"}}


def _ogc_page(summary: str, schema: str, operation_id: str, media: str = "application/json",
              extra: list | None = None, errors: tuple[str, ...] = ("400",)) -> dict[str, Any]:
    return {"get": {
        "tags": ["OGC API – Features"], "summary": summary, "operationId": operation_id,
        "parameters": [*(extra or []), _F, _LANG],
        "responses": {"200": _response(summary, {**_json(_ref(schema), media),
                                                 "text/html": {"schema": {"type": "string"}}}),
                      **{code: _ERRORS[code] for code in errors}},
    }}


def _collection_id() -> dict[str, Any]:
    public = sorted(layer.id for layer in current_catalog().feature_layers() if layer.public)
    return _path_param("layer_id", "A public layer of the catalogue.", {"type": "string", "enum": public})


def _filters_help() -> str:
    lines = [f"`{layer.id}`: " + ", ".join(f"`{a}`" for a in layer.public_attributes)
             for layer in sorted(current_catalog().feature_layers(), key=lambda la: la.id) if layer.public]
    return ("Equality filters on public attributes, `?name=value` (the attribute's text must equal the"
            " value); any other parameter is a 400. Attributes by collection: " + "; ".join(lines) + ".")


def _items() -> dict[str, Any]:
    parameters = [
        _collection_id(),
        {"name": "bbox", "in": "query", "required": False, "style": "form", "explode": False,
         "description": "west,south,east,north in WGS 84 degrees (CRS84); features intersecting the box."
                        " west > east crosses the antimeridian.",
         "schema": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}}},
        _query("limit", f"Features per page (a larger value is capped at {MAX_LIMIT}).",
               {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 10}),
        _query("offset", "Features to skip (follow the `next` and `prev` links rather than counting).",
               {"type": "integer", "minimum": 0, "default": 0}),
        _query("datetime", _DATETIME_HELP, {"type": "string"}),
        {"name": "properties", "in": "query", "required": False, "style": "form", "explode": True,
         "description": _filters_help(),
         "schema": {"type": "object", "additionalProperties": {"type": "string"}}},
    ]
    page = _ogc_page("A page of features, in source-id order, with numberMatched and next/prev links.",
                     "FeatureCollection", "getFeatures", "application/geo+json", parameters, ("400", "404"))
    page["get"]["description"] = _DATETIME_HELP
    return page


def _item() -> dict[str, Any]:
    return _ogc_page("One current feature by its id (the source's id; URL-encode it).", "Feature",
                     "getFeature", "application/geo+json",
                     [_collection_id(), _path_param("feature_id", "The feature's id.")], ("400", "404"))


def _mvt(summary: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {"get": {"tags": ["Tiles"], "summary": summary, "parameters": params, "responses": {
        "200": _response("A Mapbox vector tile.", {"application/vnd.mapbox-vector-tile": {
            "schema": {"type": "string", "format": "binary"}}}),
        "304": _response("Not modified (ETag)."), **_ERRORS}}}


_TILE_PARAMS = [_path_param("z", "Zoom.", {"type": "integer", "minimum": 0}),
                _path_param("x", "Column.", {"type": "integer", "minimum": 0}),
                _path_param("y", "Row.", {"type": "integer", "minimum": 0})]


def _nearby() -> dict[str, Any]:
    point_layers = sorted(current_catalog().searchable())
    flag = {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off"]}
    return {"get": {
        "tags": ["Portal API"],
        "summary": "The nearest sites of a public point layer, nearest first (GeoJSON).",
        "parameters": [
            _query("lat", "Latitude.", {"type": "number", "minimum": -90, "maximum": 90}, True),
            _query("lon", "Longitude.", {"type": "number", "minimum": -180, "maximum": 180}, True),
            _query("layer", "The layer to search.", {"type": "string", "enum": point_layers}, True),
            _query("limit", "How many.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}),
            _query("open_now", "Only sites open now (by their opening hours).", flag),
            _query("exclude_lockdown", "Leave out sites inside a lockdown zone.", flag), _LANG],
        "responses": {"200": _response("Sites with distance_m, open_now, in_lockdown, updated, stale.",
                                       _json({"type": "object"}, "application/json")),
                      "400": _ERRORS["400"], "429": {"$ref": "#/components/responses/TooManyRequests"}},
    }}


_SHARE_PARAMS = [
    _query("layers", "Comma-separated public layers to draw (default: every public layer, as on the map"
                     " page).", {"type": "string"}),
    _query("stat", "The statistic colouring the subdivisions (as on the map page).", {"type": "string"}),
    _query("date", "The statistic's day, YYYY-MM-DD (default: the latest).",
           {"type": "string", "format": "date"}),
    _query("pub", "Pin layers at publications, `layer:ID,...` (such a response never changes).",
           {"type": "string"}),
    _LANG,
]


def _share(summary: str, media: str, with_set: bool, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    params = [_path_param("set_name", "Boundary set, e.g. vn2021.")] if with_set else []
    params.append(_path_param("code", "The administrative unit's code (GSO)."))
    content = {media: {"schema": schema or {"type": "string"}}}
    return {"get": {"tags": ["Sharing"], "summary": summary, "parameters": [*params, *_SHARE_PARAMS],
                    "responses": {"200": _response(summary, content), **_ERRORS}}}


def _sharing() -> dict[str, dict[str, Any]]:
    public = sorted(layer.id for layer in current_catalog().feature_layers() if layer.public)
    embed = "A unit's map to put in an <iframe> (any site may frame it)."
    png = "A unit's map as a PNG image (choropleth, layers, legend and sources)."
    binary = {"type": "string", "format": "binary"}
    return {
        "/embed/<code>": _share(embed + " Default boundary set.", "text/html", False),
        "/embed/<set_name>/<code>": _share(embed, "text/html", True),
        "/snapshot/<code>.png": _share(png + " Default boundary set.", "image/png", False, binary),
        "/snapshot/<set_name>/<code>.png": _share(png, "image/png", True, binary),
        "/oembed": {"get": {
            "tags": ["Sharing"], "summary": "oEmbed (rich) for one of the portal's map or embed pages.",
            "parameters": [
                _query("url", "A map or embed page of this portal.", {"type": "string"}, True),
                _query("format", "Only json (xml is a 501).", {"type": "string", "enum": ["json", "xml"]}),
                _query("maxwidth", "Largest width in pixels.", {"type": "integer", "minimum": 1}),
                _query("maxheight", "Largest height in pixels.", {"type": "integer", "minimum": 1})],
            "responses": {"200": _response("The oEmbed answer with the <iframe>.", _json({"type": "object"})),
                          **_ERRORS,
                          "501": _response("A format other than json.", _json(_ref("Exception")))}}},
        "/download/<layer_id>.<any(csv, xlsx, geojson):fmt>": {"get": {
            "tags": ["Sharing"],
            "summary": "A public layer's features (public attributes) as CSV, XLSX or GeoJSON, with its"
                       " publication, time and licence.",
            "parameters": [
                _path_param("layer_id", "A public layer.", {"type": "string", "enum": public}),
                _path_param("fmt", "File format.", {"type": "string", "enum": ["csv", "xlsx", "geojson"]}),
                _query("unit", "Only the features inside this unit (code).", {"type": "string"}),
                _query("set", "The unit's boundary set (default: the portal's).", {"type": "string"}),
                _query("pub", "An older publication of the layer (such a download never changes).",
                       {"type": "integer"}), _LANG],
            "responses": {"200": _response("The file (an attachment).", {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": binary},
                "application/geo+json": {"schema": {"type": "object"}}}), **_ERRORS}}},
    }


def _described() -> dict[str, dict[str, Any]]:
    """Return every public rule this module can describe, by Werkzeug rule."""
    ogc = "/ogc/collections/<layer_id>"
    return {
        "/openapi.json": {"get": {
            "tags": ["OGC API – Features"], "summary": "This document.", "operationId": "getAPI",
            "responses": {"200": _response("The OpenAPI 3.0 document.",
                                           _json({"type": "object"}, OPENAPI_MEDIA))}}},
        "/ogc": _ogc_page("Landing page: links to the API definition, conformance and collections.",
                          "LandingPage", "getLandingPage"),
        "/ogc/conformance": _ogc_page("The conformance classes implemented.", "ConfClasses",
                                      "getConformance"),
        "/ogc/collections": _ogc_page("The public layers, with their extents.", "Collections",
                                      "getCollections"),
        ogc: _ogc_page("One public layer: extent (current bbox, publication time span) and links.",
                       "Collection", "describeCollection", extra=[_collection_id()], errors=("400", "404")),
        f"{ogc}/items": _items(),
        f"{ogc}/items/<path:feature_id>": _item(),
        "/tiles/<layer_id>.json": {"get": {
            "tags": ["Tiles"], "summary": "TileJSON 3.0 of a public layer's current tiles (max-age 15 s).",
            "parameters": [_path_param("layer_id", "A public layer.")],
            "responses": {"200": _response("TileJSON.", _json({"type": "object"})), "404": _ERRORS["404"]}}},
        "/tiles/<layer_id>/<int:publication>/<int:z>/<int:x>/<int:y>.mvt": _mvt(
            "A public layer's tile as of one of its publications (immutable: cache forever).",
            [_path_param("layer_id", "A public layer."),
             _path_param("publication", "A publication of the layer (TileJSON names the current one).",
                         {"type": "integer"}), *_TILE_PARAMS]),
        "/tiles/boundaries/<set_name>/<level>/<int:z>/<int:x>/<int:y>.mvt": _mvt(
            "Administrative boundaries of a set at a level.",
            [_path_param("set_name", "Boundary set, e.g. vn2021."),
             _path_param("level", "province, district or commune.",
                         {"type": "string", "enum": ["province", "district", "commune"]}), *_TILE_PARAMS]),
        "/api/units": {"get": {
            "tags": ["Portal API"], "summary": "Find administrative units by name.",
            "parameters": [
                _query("q", "A unit's name (at most 100 characters).", {"type": "string", "maxLength": 100},
                       True),
                _query("within", "Only units inside this unit code.", {"type": "string"}),
                _query("parent", "A hint: the parent unit's name.", {"type": "string"}),
                _query("set", "Boundary set (the portal's default set otherwise).", {"type": "string"}),
                _LANG],
            "responses": {"200": _response("Matching units.", _json({"type": "object"})),
                          "400": _ERRORS["400"], "429": {"$ref": "#/components/responses/TooManyRequests"}}}},
        "/api/nearby": _nearby(),
        "/api/ping": {"get": {"tags": ["Portal API"], "summary": "Answer without the database (a no-op).",
                              "responses": {"200": _response("{\"ok\": true}", _json({"type": "object"})),
                                            "429": {"$ref": "#/components/responses/TooManyRequests"}}}},
        "/healthz": {"get": {"tags": ["Portal API"], "summary": "Whether the database answers.",
                             "responses": {
            "200": _response("Healthy.", _json({"type": "object"})),
            "503": _response("The database does not answer.", _json({"type": "object"}))}}},
        **_sharing(),
    }


_CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def openapi_path(rule: str) -> str:
    """Turn a Werkzeug rule into an OpenAPI path: ``/a/<int:b>`` -> ``/a/{b}``.

    >>> openapi_path("/tiles/<layer_id>/<int:publication>.mvt")
    '/tiles/{layer_id}/{publication}.mvt'
    """
    return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule)


# The officials' feed API (a bearer token's uploads and their jobs) is not part of the public one.
OFFICIALS_ONLY = ("feed_api.",)


def public_rules(app: Flask) -> list[str]:
    """Return the app's public API rules (GET routes under the API prefixes, officials' ones left out)."""
    return sorted({r.rule for r in app.url_map.iter_rules()
                   if r.rule.startswith(API_PREFIXES) and "GET" in (r.methods or ())
                   and not r.endpoint.startswith(OFFICIALS_ONLY)})


def _schemas() -> dict[str, Any]:
    link = {"type": "object", "required": ["href", "rel"], "properties": {
        "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
        "title": {"type": "string"}}}
    links = {"type": "array", "items": _ref("Link")}
    geometry = {"type": "object", "required": ["type"], "properties": {
        "type": {"type": "string", "enum": ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                                           "MultiPolygon", "GeometryCollection"]},
        "coordinates": {"type": "array", "items": {}}}}
    feature = {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"},
        "geometry": _ref("Geometry"),
        "properties": {"type": "object", "nullable": True, "description": "The layer's public attributes."},
        "links": links}}
    extent = {"type": "object", "properties": {
        "spatial": {"type": "object", "properties": {
            "bbox": {"type": "array", "items": {"type": "array", "minItems": 4, "maxItems": 4,
                                                "items": {"type": "number"}}},
            "crs": {"type": "string"}}},
        "temporal": {"type": "object", "description": "From the layer's first publication on (open end).",
                     "properties": {"interval": {"type": "array", "items": {
                         "type": "array", "minItems": 2, "maxItems": 2,
                         "items": {"type": "string", "format": "date-time", "nullable": True}}},
                         "trs": {"type": "string"}}}}}
    return {
        "Link": link,
        "LandingPage": {"type": "object", "required": ["links"], "properties": {
            "title": {"type": "string"}, "description": {"type": "string"}, "links": links}},
        "ConfClasses": {"type": "object", "required": ["conformsTo"], "properties": {
            "conformsTo": {"type": "array", "items": {"type": "string"}}}},
        "Collection": {"type": "object", "required": ["id", "links"], "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
            "links": links, "extent": _ref("Extent"),
            "itemType": {"type": "string", "enum": ["feature"]},
            "crs": {"type": "array", "items": {"type": "string"}}}},
        "Collections": {"type": "object", "required": ["links", "collections"], "properties": {
            "links": links, "collections": {"type": "array", "items": _ref("Collection")}}},
        "Extent": extent,
        "Geometry": geometry,
        "Feature": feature,
        "FeatureCollection": {"type": "object", "required": ["type", "features"], "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": _ref("Feature")},
            "links": links, "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0}}},
        "Exception": {"type": "object", "required": ["status"], "properties": {
            "code": {"type": "string"}, "description": {"type": "string"},
            "error": {"type": "string", "description": "The message in the request's language."},
            "error_vi": {"type": "string"}, "error_en": {"type": "string"}, "status": {"type": "integer"}}},
    }


def document(app: Flask, server: str) -> dict[str, Any]:
    """Return the OpenAPI document of the app's public API, served from ``server``."""
    described = _described()
    paths = {openapi_path(rule): described[rule] for rule in public_rules(app) if rule in described}
    error = _json(_ref("Exception"))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "epimap public API",
            "version": "1.0.0",
            "description": "Public layers of the epidemic map: OGC API – Features (/ogc), vector tiles"
                           " (/tiles) and the portal's JSON API. Only public layers and public attributes are"
                           " served; every response may be read from any origin (CORS *).",
            "license": {"name": "MIT"},
        },
        "servers": [{"url": server.rstrip("/") or "/"}],
        "tags": [{"name": name} for name in ("OGC API – Features", "Tiles", "Portal API", "Sharing")],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "responses": {
                "BadRequest": _response("An invalid or unknown parameter.", error),
                "NotFound": _response("No such public layer, publication or feature.", error),
                "TooManyRequests": _response("Rate limited (see Retry-After).", error),
            },
        },
    }


def document_view() -> Response:
    """Serve the OpenAPI document."""
    body = document(current_app, base_url())
    return Response(json.dumps(body, ensure_ascii=False), mimetype=OPENAPI_MEDIA)


bp.add_url_rule("/openapi.json", "document", document_view)


def init_app(app: Flask) -> None:
    """Register ``/openapi.json``."""
    app.register_blueprint(bp)
