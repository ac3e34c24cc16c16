"""Errors carry their HTTP status and a user message; one handler renders JSON or a page."""

from __future__ import annotations

import logging
from collections.abc import Callable

import psycopg
from flask import Flask, Response, current_app, g, jsonify, make_response, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from epimap.errors import BadRequest, EpimapError, NotFound
from portal.database import discard_lost_connection, drop_session
from portal.i18n import translate

__all__ = ["JSON_ONLY_PREFIXES", "BadRequest", "NotFound", "PortalError", "Unavailable", "register_renderer",
           "render", "with_retry_after"]

log = logging.getLogger(__name__)
RENDERERS = "epimap.error_renderers"  # app.extensions: URL prefix -> renderer of an API's own error format


class PortalError(EpimapError):
    """An error of the portal itself: its message, when none is given, is its translated title."""

    def default_message(self, lang: str) -> str:
        return translate(self.title_key, lang)


class Unavailable(PortalError):
    """The database dropped the connection; the pool reconnects, so a retry soon succeeds."""

    status = 503
    title_key = "unavailable_title"
    retry_after = 1

    def default_message(self, lang: str) -> str:
        return translate("unavailable", lang)


# Routes read by programs: their errors are always JSON (elsewhere JSON only when the client asks).
JSON_ONLY_PREFIXES = ("/api/", "/tiles/", "/oembed")


def _wants_json() -> bool:
    if request.path.startswith(JSON_ONLY_PREFIXES):
        return True
    if request.path.startswith("/ogc"):
        return _ogc_wants_json()
    return request.accept_mimetypes.best == "application/json"


def _ogc_wants_json() -> bool:
    """Follow the OGC API's format choice: ``f=html`` or an Accept preferring HTML, else JSON."""
    if "f" in request.args:
        return request.args["f"] != "html"
    best = request.accept_mimetypes.best_match(["application/json", "text/html"], default="application/json")
    return best != "text/html"


def render(error: EpimapError) -> Response:
    """Render an error as JSON for the API and tiles, or as a page for people."""
    from portal.i18n import current_language

    lang = current_language()
    own = next((fn for prefix, fn in current_app.extensions.get(RENDERERS, {}).items()
                if request.path.startswith(prefix)), None)
    if own is not None:
        return with_retry_after(own(error, lang), error)
    if _wants_json():
        body = {"error": error.message(lang), "error_vi": error.message("vi"),
                "error_en": error.message("en"), "status": error.status}
        response = make_response(jsonify(body), error.status)
    else:
        response = make_response(render_template(
            "error.html", title=translate(error.title_key, lang), message=error.message(lang),
            status=error.status), error.status)
    return with_retry_after(response, error)


def register_renderer(app: Flask, prefix: str, renderer: Callable[[EpimapError, str], Response]) -> None:
    """Let an API under a URL prefix render errors in the format its specification names."""
    app.extensions.setdefault(RENDERERS, {})[prefix] = renderer


def with_retry_after(response: Response, error: EpimapError) -> Response:
    """Tell the client when to retry, when the error says."""
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _from_http(exc: HTTPException) -> Response:
    kinds = {404: NotFound, 400: BadRequest, 405: BadRequest}
    error = kinds.get(exc.code or 500, PortalError)()
    error.status = exc.code or 500
    response = render(error)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:  # RFC 9110: a 405 names what is allowed
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return response


def _database(exc: DBAPIError | psycopg.OperationalError) -> Response:
    # Discarding first: the kept read-only connections share a lost one's fate, whichever layer saw it.
    lost = discard_lost_connection() or (isinstance(exc, DBAPIError) and exc.connection_invalidated)
    if lost and request.method in _IDEMPOTENT and not g.get(_RETRIED):
        log.warning("database connection lost on %s, trying once more: %s", request.path, exc)
        return _dispatch_again()
    if not (lost or isinstance(getattr(exc, "orig", exc), psycopg.OperationalError)):
        return _unexpected(exc)  # a bug (bad SQL, bad data), not the database being away
    log.warning("database unavailable on %s: %s", request.path, exc)
    return render(Unavailable())


_IDEMPOTENT = ("GET", "HEAD", "OPTIONS")
_RETRIED = "epimap.retried_after_lost_connection"


def _dispatch_again() -> Response:
    """Run an idempotent request's view once more, on fresh connections, rather than answer 503.

    After a database restart every kept or pooled connection is stale; the one that failed is
    discarded (with its pool), so the second run connects anew.  A write is never run twice.
    """
    g.setdefault(_RETRIED, True)
    drop_session()
    try:
        return current_app.make_response(current_app.dispatch_request())
    except Exception as again:  # noqa: BLE001  (rendered by the one error path, as the first run)
        return current_app.make_response(current_app.handle_user_exception(again))


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.path, exc_info=exc)
    return render(PortalError())


def _refuse_nul() -> None:
    """Refuse a NUL character in the path, query or form: no text the portal stores or looks up has one.

    PostgreSQL's text cannot hold it, so every door would otherwise fail deep down (a 500).
    """
    query = request.query_string  # a NUL is "%00" or a raw byte in it: parse only then (tiles are hot)
    args = request.args.items(multi=True) if b"%00" in query or b"\x00" in query else ()
    has_form = request.method not in _READS and request.mimetype in _FORMS
    form = request.form.items(multi=True) if has_form else ()
    texts = (request.path, *(text for pair in (*args, *form) for text in pair))
    if any("\x00" in text for text in texts):
        raise BadRequest("Yêu cầu chứa ký tự NUL (\\0) không hợp lệ.",
                         "The request contains a NUL character (\\0).")


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_READS = ("GET", "HEAD", "OPTIONS")  # no form to read


def init_app(app: Flask) -> None:
    """Register the one error path for portal errors, HTTP errors and anything unexpected."""
    app.before_request(_refuse_nul)
    app.register_error_handler(EpimapError, render)
    app.register_error_handler(HTTPException, _from_http)
    app.register_error_handler(DBAPIError, _database)
    app.register_error_handler(psycopg.OperationalError, _database)
    app.register_error_handler(Exception, _unexpected)
