"""Open311 GeoReport v2 (``/open311/v2/``): partner apps file and follow citizens' requests."""

from __future__ import annotations

from flask import Flask, Response

from epimap.errors import EpimapError
from portal.errors import register_renderer

PREFIX = "/open311/"


def render_error(error: EpimapError, lang: str) -> Response:
    """Render an error as the specification's list of errors (one per wrong field), JSON or XML."""
    from flask import request

    from portal.open311.formats import answer, format_of

    fields = getattr(error, "fields", None) or {}
    errors = [{"code": error.status, "description": f"{name}: {vi if lang == 'vi' else en}"}
              for name, (vi, en) in fields.items()] or [{"code": error.status,
                                                          "description": error.message(lang)}]
    return answer(format_of(request.path), "errors", errors, status=error.status)


def init_app(app: Flask) -> None:
    """Register the GeoReport v2 routes and their error format."""
    from portal.open311.views import bp

    app.register_blueprint(bp)
    register_renderer(app, PREFIX, render_error)
