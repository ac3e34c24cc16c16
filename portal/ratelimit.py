"""Rate limiting of ``/api/`` per client IP (Flask-Limiter, in-memory: per worker process).

The limit is the ``api_rate_limit`` setting (``EPIMAP_API_RATE_LIMIT``, e.g. ``120/minute``;
empty turns it off), shared by every ``/api/`` route.  A breach is a 429 rendered by the
portal's one error path, in both languages, with ``Retry-After``.  Behind a reverse proxy the
client IP is the proxy's unless the deployment wraps the app in ``ProxyFix``.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, make_response, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse_many

from portal.errors import PortalError
from portal.i18n import register_messages, translate

EXTENSION = "epimap.limiter"

register_messages({
    "rate_limited_title": {"vi": "Quá nhiều yêu cầu", "en": "Too many requests"},
    "rate_limited": {"vi": "Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau ít phút.",
                     "en": "Too many requests. Please try again in a minute."},
})


class TooManyRequests(PortalError):
    """The client sent more API requests than the rate limit allows."""

    status = 429
    title_key = "rate_limited_title"

    def message(self, lang: str) -> str:
        return translate("rate_limited", lang)


def _not_api() -> bool:
    return not request.path.startswith("/api/")


def _too_many(_exc: RateLimitExceeded) -> Response:
    # Hand the portal's own error over to the handler registered for PortalError.
    return make_response(current_app.handle_user_exception(TooManyRequests()))


def init_app(app: Flask, limit: str) -> Limiter | None:
    """Limit ``/api/`` to ``limit`` per client IP; nothing when ``limit`` is empty."""
    if not limit.strip():
        return None
    parse_many(limit)  # a typo in the setting fails at start, not on the first request
    limiter = Limiter(get_remote_address, app=app, application_limits=[limit], storage_uri="memory://",
                      headers_enabled=True, strategy="fixed-window")
    # A request filter exempts tiles, pages and assets before any limit is looked up (an
    # exempt_when is asked only after the limiter has worked out every limit of the route).
    limiter.request_filter(_not_api)
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.extensions[EXTENSION] = limiter
    return limiter
