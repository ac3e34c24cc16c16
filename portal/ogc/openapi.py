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

from boundaries.tiles import MAX_ZOOM
from layers.ogc import MAX_LIMIT
from portal.catalog import current_catalog
from portal.ogc.openapi_components import (
    error_responses,
    errors,
    json_content,
    path_param,
    query,
    ref,
    response,
    schemas,
)
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


_F = query("f", "Output format; without it the Accept header decides (JSON by default).",
           {"type": "string", "enum": ["json", "html"]})
_LANG = query("lang", "Language of titles and messages (Vietnamese by default); any other value is a 400.",
              {"type": "string", "enum": ["vi", "en"]})
_OGC = "/ogc/collections/<layer_id>"
_DAY = r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_INSTANT = _DAY + r"([Tt ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d))?"
# An instant, or an interval whose ends are instants, `..` or empty (the day must exist; A ≤ B).
_DATETIME_PATTERN = rf"^({_INSTANT}|({_INSTANT}|\.\.)?/({_INSTANT}|\.\.)?)$"
_OFFSET_DIGITS = 12  # portal.ogc.params refuses a longer offset


def _ogc_page(rule: str, summary: str, schema: str, operation_id: str, media: str = "application/json",
              extra: list | None = None) -> dict[str, Any]:
    missing = (404,) if "<" in rule else ()
    return {"get": {
        "tags": ["OGC API – Features"], "summary": summary, "operationId": operation_id,
        "parameters": [*(extra or []), _F, _LANG],
        "responses": {"200": response(summary, {**json_content(ref(schema), media),
                                                "text/html": {"schema": {"type": "string"}}}),
                      **errors(rule, *missing)},
    }}


def _collection_id() -> dict[str, Any]:
    public = sorted(layer.id for layer in current_catalog().feature_layers() if layer.public)
    return path_param("layer_id", "A public layer of the catalogue.", {"type": "string", "enum": public})


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
                        " west > east crosses the antimeridian. Latitudes lie in -90..90 and south ≤ north"
                        " (OpenAPI 3.0 cannot say so per item): otherwise a 400.",
         "schema": {"type": "array", "minItems": 4, "maxItems": 4,
                    "items": {"type": "number", "minimum": -180, "maximum": 180}},
         "examples": {"area": {"summary": "Around Thủ Dầu Một", "value": [106.6, 10.9, 106.8, 11.1]},
                      "point": {"summary": "A point: what covers it", "value": [106.65, 11, 106.65, 11]}}},
        query("limit", f"Features per page (a larger value is capped at {MAX_LIMIT}).",
              {"type": "integer", "minimum": 1, "default": 10}),
        query("offset", "Features to skip (follow the `next` and `prev` links rather than counting).",
              {"type": "integer", "minimum": 0, "maximum": 10**_OFFSET_DIGITS - 1, "default": 0}),
        query("datetime", _DATETIME_HELP, {"type": "string", "pattern": _DATETIME_PATTERN},
              examples={"As on a day": "2021-08-01", "What changed since": "2021-08-01T00:00:00Z/.."}),
        {"name": "properties", "in": "query", "required": False, "style": "form", "explode": True,
         "description": _filters_help(),
         "schema": {"type": "object", "additionalProperties": {"type": "string"}}},
    ]
    page = _ogc_page(f"{_OGC}/items",
                     "A page of features, in source-id order, with numberMatched and next/prev links.",
                     "FeatureCollection", "getFeatures", "application/geo+json", parameters)
    page["get"]["description"] = _DATETIME_HELP
    return page


def _item() -> dict[str, Any]:
    return _ogc_page(f"{_OGC}/items/<path:feature_id>",
                     "One current feature by its id (the source's id; URL-encode it).", "Feature",
                     "getFeature", "application/geo+json",
                     [_collection_id(), path_param("feature_id", "The feature's id.")])


def _mvt(rule: str, summary: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {rule: {"get": {"tags": ["Tiles"], "summary": summary, "parameters": params, "responses": {
        "200": response("A Mapbox vector tile.", {"application/vnd.mapbox-vector-tile": {
            "schema": {"type": "string", "format": "binary"}}}),
        "304": response("Not modified (ETag)."), **errors(rule, 404)}}}}


_TILE_PARAMS = [path_param("z", f"Zoom, 0 to {MAX_ZOOM}.",
                           {"type": "integer", "minimum": 0, "maximum": MAX_ZOOM}),
                path_param("x", "Column, below 2^z (a larger one is no tile: a 404).",
                           {"type": "integer", "minimum": 0}),
                path_param("y", "Row, below 2^z (a larger one is no tile: a 404).",
                           {"type": "integer", "minimum": 0})]


def _nearby() -> dict[str, Any]:
    point_layers = sorted(current_catalog().searchable())
    flag = {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off"]}
    return {"get": {
        "tags": ["Portal API"],
        "summary": "The nearest sites of a public point layer, nearest first (GeoJSON).",
        "parameters": [
            query("lat", "Latitude.", {"type": "number", "minimum": -90, "maximum": 90}, True),
            query("lon", "Longitude.", {"type": "number", "minimum": -180, "maximum": 180}, True),
            query("layer", "The layer to search.", {"type": "string", "enum": point_layers}, True),
            query("limit", "How many.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}),
            query("open_now", "Only sites open now (by their opening hours).", flag),
            query("exclude_lockdown", "Leave out sites inside a lockdown zone.", flag), _LANG],
        "responses": {"200": response("Sites with distance_m, open_now, in_lockdown, updated, stale.",
                                      json_content({"type": "object"}, "application/json")),
                      **errors("/api/nearby", 429)},
    }}


_SHARE_PARAMS = [
    query("layers", "Comma-separated public layers to draw (default: every public layer, as on the map"
                     " page).", {"type": "string"}),
    query("stat", "The statistic colouring the subdivisions (as on the map page).", {"type": "string"}),
    query("date", "The statistic's day, YYYY-MM-DD (default: the latest).",
           {"type": "string", "format": "date"}),
    query("pub", "Pin layers at publications, `layer:ID,...` (such a response never changes).",
           {"type": "string"}),
    _LANG,
]


def _share(rule: str, summary: str, media: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    params = [path_param("set_name", "Boundary set, e.g. vn2021.")] if "<set_name>" in rule else []
    params.append(path_param("code", "The administrative unit's code (GSO)."))
    content = {media: {"schema": schema or {"type": "string"}}}
    image = media.startswith("image/")  # conditional (ETag); the renderer may be busy
    ok = {"200": response(summary, content), **({"304": response("Not modified (ETag).")} if image else {})}
    return {rule: {"get": {"tags": ["Sharing"], "summary": summary, "parameters": [*params, *_SHARE_PARAMS],
                           "responses": {**ok, **errors(rule, 404, *((503,) if image else ()))}}}}


_PIXELS = {"type": "integer", "minimum": 1, "maximum": 10_000}


def _sharing() -> dict[str, dict[str, Any]]:
    public = sorted(layer.id for layer in current_catalog().feature_layers() if layer.public)
    embed = "A unit's map to put in an <iframe> (any site may frame it)."
    png = "A unit's map as a PNG image (choropleth, layers, legend and sources)."
    binary = {"type": "string", "format": "binary"}
    return {
        **_share("/embed/<code>", embed + " Default boundary set.", "text/html"),
        **_share("/embed/<set_name>/<code>", embed, "text/html"),
        **_share("/snapshot/<code>.png", png + " Default boundary set.", "image/png", binary),
        **_share("/snapshot/<set_name>/<code>.png", png, "image/png", binary),
        "/oembed": {"get": {
            "tags": ["Sharing"], "summary": "oEmbed (rich) for one of the portal's map or embed pages.",
            "parameters": [
                query("url", "A map or embed page of this portal (any other URL is a 404).",
                      {"type": "string"}, True),
                query("format", "Only json (xml is a 501, as oEmbed asks).",
                      {"type": "string", "enum": ["json", "xml"]}),
                query("maxwidth", "Largest width in pixels.", _PIXELS),
                query("maxheight", "Largest height in pixels.", _PIXELS)],
            "responses": {"200": response("The oEmbed answer with the <iframe>.",
                                          json_content({"type": "object"})),
                          **errors("/oembed", 404, 501)}}},
        "/download/<layer_id>.<any(csv, xlsx, geojson):fmt>": {"get": {
            "tags": ["Sharing"],
            "summary": "A public layer's features (public attributes) as CSV, XLSX or GeoJSON, with its"
                       " publication, time and licence.",
            "parameters": [
                path_param("layer_id", "A public layer.", {"type": "string", "enum": public}),
                path_param("fmt", "File format.", {"type": "string", "enum": ["csv", "xlsx", "geojson"]}),
                query("unit", "Only the features inside this unit (code).", {"type": "string"}),
                query("set", "The unit's boundary set (default: the portal's).", {"type": "string"}),
                query("pub", "An older publication of the layer (such a download never changes).",
                      {"type": "integer"}), _LANG],
            "responses": {"200": response("The file (an attachment).", {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": binary},
                "application/geo+json": {"schema": {"type": "object"}}}),
                **errors("/download/<layer_id>.<any(csv, xlsx, geojson):fmt>", 404)}}},
        "/download/<layer_id>.csv-metadata.json": {"get": {
            "tags": ["Sharing"],
            "summary": "The W3C CSV on the Web metadata of a layer's CSV download (same query): provenance"
                       " and columns.",
            "parameters": [
                path_param("layer_id", "A public layer.", {"type": "string", "enum": public}),
                query("unit", "Only the features inside this unit (code).", {"type": "string"}),
                query("set", "The unit's boundary set (default: the portal's).", {"type": "string"}),
                query("pub", "An older publication of the layer.", {"type": "integer"}), _LANG],
            "responses": {"200": response("CSVW metadata.", {"application/csvm+json": {"schema": {
                "type": "object"}}}),
                **errors("/download/<layer_id>.csv-metadata.json", 404)}}},
        "/download/citizen_requests.<any(csv, geojson):fmt>": {"get": {
            "tags": ["Sharing"],
            "summary": "Citizens' requests counted per commune and kind inside a unit (open, resolved,"
                       " median hours to resolve); never a person's data or point.",
            "parameters": [
                path_param("fmt", "File format.", {"type": "string", "enum": ["csv", "geojson"]}),
                query("unit", "The unit (code; default: the portal's).", {"type": "string"}),
                query("set", "The unit's boundary set (default: the portal's).", {"type": "string"}),
                _LANG],
            "responses": {"200": response("The file (an attachment).", {
                "text/csv": {"schema": {"type": "string"}},
                "application/geo+json": {"schema": {"type": "object"}}}),
                **errors("/download/citizen_requests.<any(csv, geojson):fmt>", 404)}}},
    }


def _tiles() -> dict[str, dict[str, Any]]:
    tilejson = "/tiles/<layer_id>.json"
    return {
        tilejson: {"get": {
            "tags": ["Tiles"], "summary": "TileJSON 3.0 of a public layer's current tiles (max-age 15 s).",
            "parameters": [path_param("layer_id", "A public layer.")],
            "responses": {"200": response("TileJSON.", json_content({"type": "object"})),
                          **errors(tilejson, 404)}}},
        **_mvt("/tiles/<layer_id>/<int:publication>/<int:z>/<int:x>/<int:y>.mvt",
               "A public layer's tile as of one of its publications (immutable: cache forever).",
               [path_param("layer_id", "A public layer."),
                path_param("publication", "A publication of the layer (TileJSON names the current one).",
                           {"type": "integer", "minimum": 0}), *_TILE_PARAMS]),
        **_mvt("/tiles/boundaries/<set_name>/<level>/<int:z>/<int:x>/<int:y>.mvt",
               "Administrative boundaries of a set at a level.",
               [path_param("set_name", "Boundary set, e.g. vn2021."),
                path_param("level", "province, district or commune.",
                           {"type": "string", "enum": ["province", "district", "commune"]}), *_TILE_PARAMS]),
    }


def _portal_api() -> dict[str, dict[str, Any]]:
    return {
        "/api/units": {"get": {
            "tags": ["Portal API"], "summary": "Find administrative units by name.",
            "parameters": [
                query("q", "A unit's name (at most 100 characters); a blank one names no unit: none found.",
                      {"type": "string", "maxLength": 100}, True,
                      {"A ward, as people write it": "P. Hiệp Thành", "No name: no unit found": ""}),
                query("within", "Only units inside this unit code.", {"type": "string"}),
                query("parent", "A hint: the parent unit's name.", {"type": "string"}),
                query("set", "Boundary set (the portal's default set otherwise).", {"type": "string"}),
                _LANG],
            "responses": {"200": response("Matching units.", json_content({"type": "object"})),
                          **errors("/api/units", 429)}}},
        "/api/nearby": _nearby(),
        "/api/ping": {"get": {
            "tags": ["Portal API"], "summary": "Answer without the database (a no-op).",
            "responses": {"200": response("{\"ok\": true}", json_content({"type": "object"})),
                          **errors("/api/ping", 429)}}},
        "/healthz": {"get": {"tags": ["Portal API"], "summary": "Whether the database answers.",
                             "responses": {
            "200": response("Healthy.", json_content({"type": "object"})),
            "503": response("The database does not answer.", json_content({"type": "object"})),
            **{code: answer for code, answer in errors("/healthz").items() if code != "503"}}}},
    }


def _described() -> dict[str, dict[str, Any]]:
    """Return every public rule this module can describe, by Werkzeug rule."""
    return {
        "/openapi.json": {"get": {
            "tags": ["OGC API – Features"], "summary": "This document.", "operationId": "getAPI",
            "responses": {"200": response("The OpenAPI 3.0 document.",
                                          json_content({"type": "object"}, OPENAPI_MEDIA)),
                          **errors("/openapi.json")}}},
        "/ogc": _ogc_page("/ogc", "Landing page: links to the API definition, conformance and collections.",
                          "LandingPage", "getLandingPage"),
        "/ogc/conformance": _ogc_page("/ogc/conformance", "The conformance classes implemented.",
                                      "ConfClasses", "getConformance"),
        "/ogc/collections": _ogc_page("/ogc/collections", "The public layers, with their extents.",
                                      "Collections", "getCollections"),
        _OGC: _ogc_page(_OGC, "One public layer: extent (current bbox, publication time span) and links.",
                        "Collection", "describeCollection", extra=[_collection_id()]),
        f"{_OGC}/items": _items(),
        f"{_OGC}/items/<path:feature_id>": _item(),
        **_tiles(),
        **_portal_api(),
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


def document(app: Flask, server: str) -> dict[str, Any]:
    """Return the OpenAPI document of the app's public API, served from ``server``."""
    described = _described()
    paths = {openapi_path(rule): described[rule] for rule in public_rules(app) if rule in described}
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
            "schemas": schemas(),
            "responses": error_responses(),
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
