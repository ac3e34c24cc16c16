"""Where HTTP policy lives: CORS and Cache-Control per route family, set by one ``after_request``.

:data:`FAMILIES` says, per URL prefix, whether any origin may read the answers and how long shared
caches may keep them; :func:`set_headers` writes both on every response, errors included.

* CORS: a family any origin may read gets ``Access-Control-Allow-Origin: *`` on every GET, HEAD and
  OPTIONS answer (errors too, so a page elsewhere can read the message).  Nothing public needs
  credentials, so ``*`` is enough; a preflight learns that only reads are allowed, and which
  headers, so a write (the feed API's ``POST``) cannot be made cross-origin.
* Cache-Control: a successful read (2xx or 304) of a family with a lifetime is
  ``public, max-age=N``; errors and redirects get none (a 404 or a 429 must not be kept by a shared
  cache).  A ``no_store`` family is ``no-store`` on every answer.  Families without a lifetime are
  left alone (pages; static files, whose sender writes ``SEND_FILE_MAX_AGE_DEFAULT``).

Views never write these headers (``tests/portal/test_http_policy.py`` fails if one does); they state
only what differs for their answer, before returning or raising:

* :func:`cache_for`: a lifetime other than the family's, or ``immutable``;
* :func:`poll_later`: a job was accepted or is under way: ``Location`` of its status and
  ``Retry-After``;
* :func:`private`: the answer depends on who asks (a restricted layer, its refusals included), so
  it is ``private, no-store`` with ``Vary: Cookie, Authorization`` and no CORS header, whatever
  its family.

ETags and conditional answers (304) stay with the views that compute them.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import time

from flask import Flask, Response, g, request

IMMUTABLE = 365 * 86400  # seconds: for URLs whose content never changes (a publication, a version)
PINNED_MAX_AGE = 86400  # an answer pinned to publications and a day
LIVE_MAX_AGE = 60  # an answer that follows the latest publication
CURRENT_MAX_AGE = 15  # an answer naming the current publication: a publish shows at once

READS = ("GET", "HEAD", "OPTIONS")
ALLOW_METHODS = "GET, HEAD, OPTIONS"
ALLOW_HEADERS = "Accept, Accept-Language, Content-Type, If-None-Match, If-Modified-Since, Range"
EXPOSE_HEADERS = "Content-Disposition, ETag, Retry-After"
PREFLIGHT_MAX_AGE = "86400"
PER_READER_VARY = ("Cookie", "Authorization")
_CORS_PREFIX = "access-control-"
_STATED = "http_cache_for"  # names on flask.g
_PRIVATE = "http_private"


@dataclass(frozen=True)
class Family:
    """Routes that share one HTTP policy, found by URL prefix."""

    name: str
    prefixes: tuple[str, ...]
    cors: bool = False  # any origin may read (GET, HEAD, OPTIONS); writes stay same-origin
    max_age: int | None = None  # public lifetime of a successful read; None: no Cache-Control
    immutable: bool = False
    no_store: bool = False  # every answer, errors included, is never stored
    vary: tuple[str, ...] = ()  # request headers a successful read depends on


# First match wins, so a narrower prefix comes before a wider one.
FAMILIES = (
    Family("console", ("/quan-tri",), no_store=True),
    Family("feed API", ("/api/layers/",), cors=True, no_store=True),  # only POST: CORS refuses it
    Family("API", ("/api/",), cors=True, max_age=LIVE_MAX_AGE),
    Family("tiles", ("/tiles/",), cors=True, max_age=CURRENT_MAX_AGE),  # TileJSON; tiles state theirs
    Family("downloads", ("/download/",), cors=True, max_age=LIVE_MAX_AGE),
    Family("map images", ("/snapshot/",), cors=True, max_age=300),  # a new publication is a new ETag
    Family("oEmbed", ("/oembed",), cors=True, max_age=LIVE_MAX_AGE),
    Family("embeds", ("/embed/",), max_age=LIVE_MAX_AGE),  # framed, not fetched: no CORS needed
    Family("OGC API", ("/ogc",), cors=True, max_age=CURRENT_MAX_AGE, vary=("Accept",)),
    Family("Open311", ("/open311/",), cors=True, max_age=LIVE_MAX_AGE),  # keyed answers say private()
    Family("OpenAPI", ("/openapi.json",), cors=True, max_age=300),
    Family("vendor assets", ("/static/vendor/",), max_age=IMMUTABLE, immutable=True),  # version in URL
    Family("pages", ("",)),  # pages, the health check, static files
)


def family_of(path: str) -> Family:
    """Return the family a URL path belongs to."""
    return next(family for family in FAMILIES if path.startswith(family.prefixes))


def cache_for(seconds: int, immutable: bool = False) -> None:
    """Let shared caches keep this request's successful answer for ``seconds`` (not the family's)."""
    setattr(g, _STATED, (seconds, immutable))


def private() -> None:
    """Mark this request's answer as depending on who asks: private, no-store, no CORS."""
    setattr(g, _PRIVATE, True)


def has_header(response: Response, lower_name: str) -> bool:
    """Tell whether a response has a header (its name in lower case).

    Werkzeug's ``name in headers`` raises and catches an HTTP exception for each absent name, which
    costs a hot path (a cached tile) more than a look at its few headers.
    """
    return any(key.lower() == lower_name for key, _ in response.headers)


def is_private() -> bool:
    """Tell whether this request's answer depends on who asks."""
    return bool(g.get(_PRIVATE))


def _cors(response: Response, allowed: bool) -> None:
    if not allowed or request.method not in READS:  # writes and per-reader answers stay same-origin
        for header in [key for key, _ in response.headers if key.lower().startswith(_CORS_PREFIX)]:
            del response.headers[header]
        return
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE


def _public(response: Response, family: Family) -> None:
    if request.method not in ("GET", "HEAD") or not (200 <= response.status_code < 300
                                                     or response.status_code == 304):
        return
    max_age, immutable = g.get(_STATED, (family.max_age, family.immutable))
    if max_age is None:
        return
    # One assignment: each change through response.cache_control re-serialises the header.
    response.headers["Cache-Control"] = f"public, max-age={max_age}" + (", immutable" if immutable else "")
    if has_header(response, "expires"):  # a file sender's; keep it saying what max-age says
        response.expires = int(time() + max_age)
    if family.vary:  # reading response.vary parses and rewrites the header: only when there is one to add
        response.vary.update(family.vary)


def poll_later(response: Response, location: str, seconds: int = 1) -> Response:
    """Point an answer about unfinished work (``202 Accepted``) at where to ask again, and when."""
    response.headers["Location"] = location
    response.headers["Retry-After"] = str(seconds)
    return response


def set_headers(response: Response) -> Response:
    """Write the CORS and Cache-Control headers of this request's family (the one ``after_request``)."""
    family = family_of(request.path)
    if is_private():
        response.headers["Cache-Control"] = "private, no-store"
        response.vary.update(PER_READER_VARY)
        _cors(response, allowed=False)
        return response
    _cors(response, allowed=family.cors)
    if family.no_store:
        response.headers["Cache-Control"] = "no-store"
    else:
        _public(response, family)
    return response


def init_app(app: Flask) -> None:
    """Set every response's CORS and Cache-Control headers from :data:`FAMILIES`."""
    app.after_request(set_headers)
