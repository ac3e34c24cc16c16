"""Flask's JSON through orjson: the API's answers serialised several times faster."""

from __future__ import annotations

import decimal
from typing import Any

import orjson
from flask import Response
from flask.json.provider import JSONProvider

OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _default(value: Any) -> Any:
    """Serialise what orjson does not know natively (decimals, sets, objects with __html__)."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps_bytes(obj: Any) -> bytes:
    """Serialise to UTF-8 JSON bytes (dates as ISO 8601, NaN as null)."""
    return orjson.dumps(obj, default=_default, option=OPTIONS)


class OrjsonProvider(JSONProvider):
    """Serialise ``jsonify`` answers and ``app.json`` calls with orjson."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialise to a JSON string (keyword arguments of ``json.dumps`` are not supported)."""
        return dumps_bytes(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON text."""
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Return a JSON response of the arguments, as ``jsonify`` does."""
        body = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(dumps_bytes(body), mimetype="application/json")
