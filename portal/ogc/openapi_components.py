"""The reusable parts of the OpenAPI document: helpers, schemas and the error responses.

Errors come from the portal's one error path (``portal/errors.py``): a JSON body (schema
``Exception``) on the routes programs read (:data:`portal.errors.JSON_ONLY_PREFIXES`), elsewhere a
JSON body or an HTML page, as the client asks (``f=html`` or ``Accept`` for the OGC API, ``Accept``
for embeds, images and downloads).  Each error status is described once in both forms.
"""

from __future__ import annotations

from typing import Any

from portal.errors import JSON_ONLY_PREFIXES

HTML_PAGE = {"text/html": {"schema": {"type": "string"}}}
# status -> (component name, description); the name ends in "Page" for the form that may be HTML.
ERRORS = {
    400: ("BadRequest", "An invalid or unknown parameter."),
    404: ("NotFound", "No such unit, layer, publication, feature, tile or page."),
    405: ("MethodNotAllowed", "The method is not allowed here; `Allow` names those that are."),
    429: ("TooManyRequests", "Rate limited (see Retry-After)."),
    501: ("NotImplemented", "A format the portal does not provide (oEmbed: only json)."),
    503: ("Unavailable", "The database or the image renderer is busy or unreachable (see Retry-After)."),
}
_ALLOW = {"Allow": {"description": "The methods the resource allows.", "required": True,
                    "schema": {"type": "string"}}}


def ref(name: str) -> dict[str, str]:
    """Point at a schema of the components."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    """Describe a body of one media type."""
    return {media: {"schema": schema}}


def response(description: str, content: dict[str, Any] | None = None) -> dict[str, Any]:
    """Describe a response, with its bodies when it has any."""
    body: dict[str, Any] = {"description": description}
    if content:
        body["content"] = content
    return body


def path_param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """Describe a path parameter (a string unless told)."""
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema or {"type": "string"}}


def query(name: str, description: str, schema: dict[str, Any], required: bool = False,
          examples: dict[str, Any] | None = None) -> dict[str, Any]:
    """Describe a query parameter, with examples (summary -> value) when given."""
    param = {"name": name, "in": "query", "required": required, "description": description, "schema": schema}
    if examples:
        param["examples"] = {f"example{n}": {"summary": summary, "value": value}
                             for n, (summary, value) in enumerate(examples.items(), 1)}
    return param


def errors(rule: str, *statuses: int) -> dict[str, Any]:
    """Return the error responses of a route: always 400 and 405, and the statuses given."""
    suffix = "" if rule.startswith(JSON_ONLY_PREFIXES) else "Page"
    return {str(status): {"$ref": f"#/components/responses/{ERRORS[status][0]}{suffix}"}
            for status in sorted({400, 405, *statuses})}


def error_responses() -> dict[str, Any]:
    """Return every error response, as JSON only and as JSON or an HTML page."""
    described: dict[str, Any] = {}
    for status, (name, description) in ERRORS.items():
        headers = {"headers": _ALLOW} if status == 405 else {}
        json_body = json_content(ref("Exception"))
        described[name] = {**response(description, json_body), **headers}
        described[name + "Page"] = {**response(description + " JSON when asked for, else an HTML page.",
                                               {**json_body, **HTML_PAGE}), **headers}
    return described


def schemas() -> dict[str, Any]:
    """Return the schemas of the bodies (OGC API – Features and the portal's errors)."""
    link = {"type": "object", "required": ["href", "rel"], "properties": {
        "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
        "title": {"type": "string"}}}
    links = {"type": "array", "items": ref("Link")}
    return {
        "Link": link,
        "LandingPage": {"type": "object", "required": ["links"], "properties": {
            "title": {"type": "string"}, "description": {"type": "string"}, "links": links}},
        "ConfClasses": {"type": "object", "required": ["conformsTo"], "properties": {
            "conformsTo": {"type": "array", "items": {"type": "string"}}}},
        "Collection": {"type": "object", "required": ["id", "links"], "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
            "links": links, "extent": ref("Extent"),
            "itemType": {"type": "string", "enum": ["feature"]},
            "crs": {"type": "array", "items": {"type": "string"}}}},
        "Collections": {"type": "object", "required": ["links", "collections"], "properties": {
            "links": links, "collections": {"type": "array", "items": ref("Collection")}}},
        "Extent": _extent(),
        **_geojson(links),
        "Exception": {"type": "object", "required": ["status"], "properties": {
            "code": {"type": "string"}, "description": {"type": "string"},
            "error": {"type": "string", "description": "The message in the request's language."},
            "error_vi": {"type": "string"}, "error_en": {"type": "string"}, "status": {"type": "integer"}}},
    }


def _extent() -> dict[str, Any]:
    return {"type": "object", "properties": {
        "spatial": {"type": "object", "properties": {
            "bbox": {"type": "array", "items": {"type": "array", "minItems": 4, "maxItems": 4,
                                                "items": {"type": "number"}}},
            "crs": {"type": "string"}}},
        "temporal": {"type": "object", "description": "From the layer's first publication on (open end).",
                     "properties": {"interval": {"type": "array", "items": {
                         "type": "array", "minItems": 2, "maxItems": 2,
                         "items": {"type": "string", "format": "date-time", "nullable": True}}},
                         "trs": {"type": "string"}}}}}


def _geojson(links: dict[str, Any]) -> dict[str, Any]:
    geometry = {"type": "object", "required": ["type"], "properties": {
        "type": {"type": "string", "enum": ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                                           "MultiPolygon", "GeometryCollection"]},
        "coordinates": {"type": "array", "items": {}}}}
    feature = {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"},
        "geometry": ref("Geometry"),
        "properties": {"type": "object", "nullable": True, "description": "The layer's public attributes."},
        "links": links}}
    return {
        "Geometry": geometry,
        "Feature": feature,
        "FeatureCollection": {"type": "object", "required": ["type", "features"], "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": ref("Feature")},
            "links": links, "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0}}},
    }
