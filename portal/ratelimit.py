"""Rate limiting of ``/api/`` per client IP, with the ``limits`` library (in memory: per worker).

The limit is the ``api_rate_limit`` setting (``EPIMAP_API_RATE_LIMIT``, e.g. ``120/minute``;
empty turns it off), shared by every ``/api/`` route.  A breach is a 429 rendered by the
portal's one error path, in both languages, with ``Retry-After``; every limited answer carries
``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset``.  Only ``/api/`` requests are looked at:
tiles, pages and assets pay nothing.  Behind a reverse proxy the client IP is the proxy's unless
the deployment wraps the app in ``ProxyFix``.
"""

from __future__ import annotations

import math
import time

from flask import Flask, Response, g, request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from portal.errors import PortalError
from portal.i18n import register_messages, translate

EXTENSION = "epimap.limiter"
MESSAGES = {
    "rate_limited_title": {"vi": "Quá nhiều yêu cầu", "en": "Too many requests"},
    "rate_limited": {"vi": "Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau ít phút.",
                     "en": "Too many requests. Please try again in a minute."},
}


class TooManyRequests(PortalError):
    """The client sent more API requests than the rate limit allows."""

    status = 429
    title_key = "rate_limited_title"

    def message(self, lang: str) -> str:
        return translate("rate_limited", lang)


class ApiLimiter:
    """Count each client IP's ``/api/`` requests against every window of the limit."""

    def __init__(self, limit: str) -> None:
        self.items: list[RateLimitItem] = parse_many(limit)  # a typo fails at start
        self.windows = FixedWindowRateLimiter(MemoryStorage())

    def check(self) -> None:
        """Count this request; raise TooManyRequests once a window is full."""
        if not request.path.startswith("/api/"):
            return
        client = request.remote_addr or "unknown"
        for item in self.items:
            allowed = self.windows.hit(item, client)
            stats = self.windows.get_window_stats(item, client)
            g.rate_limit = (item, stats.remaining, stats.reset_time)
            if not allowed:
                error = TooManyRequests()
                error.retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise error

    @staticmethod
    def add_headers(response: Response) -> Response:
        """State the limit, what is left of it and when it resets."""
        limited = g.get("rate_limit")
        if limited is not None:
            item, remaining, reset = limited
            response.headers["X-RateLimit-Limit"] = str(item.amount)
            response.headers["X-RateLimit-Remaining"] = str(max(remaining, 0))
            response.headers["X-RateLimit-Reset"] = str(math.ceil(reset))
        return response


def init_app(app: Flask, limit: str) -> ApiLimiter | None:
    """Limit ``/api/`` to ``limit`` per client IP; nothing when ``limit`` is empty."""
    register_messages(app, MESSAGES)  # also without a limit: the catalogue is the same in every app
    if not limit.strip():
        return None
    limiter = ApiLimiter(limit)
    app.before_request(limiter.check)
    app.after_request(limiter.add_headers)
    app.extensions[EXTENSION] = limiter
    return limiter
