"""Map pages from a cache: a page's HTML depends on its URL, language and the published data, not on who asks.

The slowest public door was the map page (Folium builds ~50 KB of HTML per request).  A page is kept
per path, query, language and *data version* (a counter every write to publications, statistics,
units or risk overrides moves on: migration 0011) for at most ``TTL_S`` seconds, and answered with
an ETag, so a browser revalidates with a 304.  Each kept page has its own script nonce, which its
``Content-Security-Policy`` names on every answer: a nonce still cannot be guessed before the page
exists, and a page whose content changes (new data, another query) gets a new one.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request
from sqlalchemy import text

from portal.database import db_connection
from portal.i18n import current_language

CACHE = "epimap.page_cache"
SIZE = 256
TTL_S = 60.0  # relative times and "open now" age at most this much

_VERSION = text("SELECT last_value, is_called FROM data_version")  # see migration 0011


@dataclass(frozen=True)
class Page:
    """A rendered page, its nonce and ETag, and when it was made."""

    html: str
    nonce: str
    etag: str
    made: float


class PageCache:
    """A small thread-safe LRU of rendered pages that expire after ``TTL_S``."""

    def __init__(self, size: int = SIZE, ttl_s: float = TTL_S) -> None:
        self.size, self.ttl_s = size, ttl_s
        self.pages: OrderedDict[tuple, Page] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> Page | None:
        """Return a fresh page kept under ``key``, or None."""
        with self.lock:
            page = self.pages.get(key)
            if page is None or time.monotonic() - page.made > self.ttl_s:
                return None
            self.pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: Page) -> None:
        """Keep a page, dropping the least recently used past ``size``."""
        with self.lock:
            self.pages[key] = page
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)


def _key() -> tuple:
    version = tuple(db_connection().execute(_VERSION).one())
    return (request.path, tuple(sorted(request.args.items(multi=True))), current_language(), version)


def cached_page(render: Callable[[], str]) -> Response:
    """Answer with the kept page for this request, rendering and keeping it when there is none."""
    cache: PageCache = current_app.extensions[CACHE]
    key = _key()
    page = cache.get(key)
    if page is None:
        g.csp_nonce = secrets.token_urlsafe(18)  # the page's own nonce (see the module docstring)
        html = render()
        page = Page(html, g.csp_nonce, hashlib.sha256(html.encode()).hexdigest()[:32], time.monotonic())
        cache.put(key, page)
    g.csp_nonce = page.nonce
    response = Response(page.html, mimetype="text/html")
    response.set_etag(page.etag)  # pages carry no lifetime (portal/http_policy.py): browsers revalidate
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    """Give the app its page cache."""
    app.extensions[CACHE] = PageCache()
