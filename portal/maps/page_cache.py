"""Map pages from a cache: a page's HTML depends on its URL, language and the published data, not on who asks.

The slowest public door was the map page (Folium builds ~50 KB of HTML per request).  A page is kept
per path, query, language and *data version* (a counter every write to publications, statistics,
units or risk overrides moves on: migration 0011) for at most ``TTL_S`` seconds, and answered with
an ETag, so a browser revalidates with a 304.  A page is kept with a placeholder where its script
nonces go, and every answer gets a fresh nonce in both the page and its ``Content-Security-Policy``;
a 304 carries no policy (``portal/security.py``), so the browser's kept page keeps its own.
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
from portal.security import csp_nonce

CACHE = "epimap.page_cache"
SIZE = 256
TTL_S = 60.0  # relative times and "open now" age at most this much

_VERSION = text("SELECT last_value, is_called FROM data_version")  # see migration 0011


# Where a kept page's nonces go: random per process, so no feed can write it into a page.
_NONCE_SLOT = secrets.token_hex(16)


@dataclass(frozen=True)
class Page:
    """A rendered page (nonces as ``_NONCE_SLOT``), its ETag, and when it was made."""

    html: str
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
        g.csp_nonce = _NONCE_SLOT
        html = render()
        del g.csp_nonce  # this answer gets a fresh one below
        page = Page(html, hashlib.sha256(html.encode()).hexdigest()[:32], time.monotonic())
        cache.put(key, page)
    response = Response(page.html.replace(_NONCE_SLOT, csp_nonce()), mimetype="text/html")
    response.set_etag(page.etag)  # pages carry no lifetime (portal/http_policy.py): browsers revalidate
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    """Give the app its page cache."""
    app.extensions[CACHE] = PageCache()
