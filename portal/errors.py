"""Errors carry their HTTP status and a user message; one handler renders JSON or a page."""

from __future__ import annotations

import logging

import psycopg
from flask import Flask, Response, jsonify, make_response, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from portal.database import discard_lost_connection
from portal.i18n import translate

log = logging.getLogger(__name__)


class PortalError(Exception):
    """An error a user may see: a status, a message key (or text) in both languages."""

    status = 500
    title_key = "server_error_title"
    retry_after: int | None = None  # seconds; sent as Retry-After when set

    def __init__(self, message_vi: str | None = None, message_en: str | None = None) -> None:
        super().__init__(message_en or self.title_key)
        self.message_vi = message_vi
        self.message_en = message_en

    def message(self, lang: str) -> str:
        """Return the message in the given language."""
        text = self.message_vi if lang == "vi" else self.message_en
        return text or translate(self.title_key, lang)


class NotFound(PortalError):
    """The unit, layer or page does not exist."""

    status = 404
    title_key = "not_found_title"

    def message(self, lang: str) -> str:
        return super().message(lang) if self.message_vi else translate("not_found", lang)


class BadRequest(PortalError):
    """The request's parameters are invalid."""

    status = 400
    title_key = "bad_request_title"


class Unavailable(PortalError):
    """The database dropped the connection; the pool reconnects, so a retry soon succeeds."""

    status = 503
    title_key = "unavailable_title"
    retry_after = 1

    def message(self, lang: str) -> str:
        return translate("unavailable", lang)


def _wants_json() -> bool:
    if request.path.startswith(("/api/", "/tiles/", "/oembed")):
        return True
    return request.accept_mimetypes.best == "application/json"


def _render(error: PortalError) -> Response:
    from portal.i18n import current_language

    lang = current_language()
    if _wants_json():
        body = {"error": error.message(lang), "error_vi": error.message("vi"),
                "error_en": error.message("en"), "status": error.status}
        response = make_response(jsonify(body), error.status)
    else:
        response = make_response(render_template(
            "error.html", title=translate(error.title_key, lang), message=error.message(lang),
            status=error.status), error.status)
    return with_retry_after(response, error)


def with_retry_after(response: Response, error: PortalError) -> Response:
    """Tell the client when to retry, when the error says."""
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _from_http(exc: HTTPException) -> Response:
    kinds = {404: NotFound, 400: BadRequest, 405: BadRequest}
    error = kinds.get(exc.code or 500, PortalError)()
    error.status = exc.code or 500
    return _render(error)


def _database(exc: DBAPIError | psycopg.OperationalError) -> Response:
    lost = exc.connection_invalidated if isinstance(exc, DBAPIError) else discard_lost_connection()
    if not lost:
        return _unexpected(exc)
    log.warning("database connection lost on %s: %s", request.path, exc)
    return _render(Unavailable())


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.path, exc_info=exc)
    return _render(PortalError())


def init_app(app: Flask) -> None:
    """Register the one error path for portal errors, HTTP errors and anything unexpected."""
    app.register_error_handler(PortalError, _render)
    app.register_error_handler(HTTPException, _from_http)
    app.register_error_handler(DBAPIError, _database)
    app.register_error_handler(psycopg.OperationalError, _database)
    app.register_error_handler(Exception, _unexpected)
