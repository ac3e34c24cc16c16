"""The officials' console (``/quan-tri``) and the feed API (``/api/layers/<layer>/feeds``).

``init_app`` also installs the portal-wide response hardening (:mod:`portal.security`), the
session cookie's flags and secret key, and the bilingual 413 for uploads over ``max_upload_mb``.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, make_response
from werkzeug.exceptions import RequestEntityTooLarge

from officials.publishing import TooLarge
from portal import security
from portal.console import api, auth, views
from portal.console import requests as dispatch_pages  # noqa: F401 - adds the dispatch pages to views.bp
from portal.console.forms import local_time
from portal.console.messages import MESSAGES
from portal.console.request_messages import MESSAGES as REQUEST_MESSAGES
from portal.i18n import register_messages


def _too_large(_exc: RequestEntityTooLarge) -> Response:
    # Hand the portal's own error to the handler registered for PortalError: one error path.
    error = TooLarge(current_app.config["SETTINGS"].max_upload_mb)
    return make_response(current_app.handle_user_exception(error))


def init_app(app: Flask) -> None:
    """Register the console with its dispatch pages, the feed API, UI strings, hardening, the top link."""
    register_messages(app, MESSAGES)
    register_messages(app, REQUEST_MESSAGES)
    security.init_app(app)
    auth.init_app(app)
    app.register_blueprint(views.bp)  # with the dispatch pages of portal.console.requests
    app.register_blueprint(api.bp)
    app.config[security.FRAME_ANCESTORS]["console"] = "'none'"
    app.config.setdefault("NAV_LINKS", []).append(("console.home", "console_nav"))
    app.jinja_env.globals["local_time"] = local_time
    app.register_error_handler(RequestEntityTooLarge, _too_large)
