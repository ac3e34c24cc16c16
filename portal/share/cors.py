"""CORS for the public read-only API: any origin may GET tiles, API answers, downloads, oEmbed and images.

Nothing public needs credentials, so ``Access-Control-Allow-Origin: *`` is enough; a preflight
(``OPTIONS``, answered by Flask for every route) learns that only reads are allowed, and which
headers; so the token-authenticated feed API (``POST /api/...``) cannot be called cross-origin.
"""

from __future__ import annotations

from flask import Flask, Response, request

from portal.access import depends_on_reader

PUBLIC_PREFIXES = ("/api/", "/tiles/", "/download/", "/snapshot/", "/oembed")
METHODS = "GET, HEAD, OPTIONS"
HEADERS = "Accept, Accept-Language, Content-Type, If-None-Match, If-Modified-Since, Range"
EXPOSED = "Content-Disposition, ETag, Retry-After"
PREFLIGHT_MAX_AGE = "86400"


def _cors(response: Response) -> Response:
    if not request.path.startswith(PUBLIC_PREFIXES) or request.method not in ("GET", "HEAD", "OPTIONS"):
        return response  # writes (the feed API's POST) stay same-origin: no CORS for them
    if depends_on_reader():
        return response  # a restricted layer's answers are for the signed-in reader's own pages
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    response.headers.setdefault("Access-Control-Expose-Headers", EXPOSED)
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = METHODS
        response.headers["Access-Control-Allow-Headers"] = HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def init_app(app: Flask) -> None:
    """Add the CORS headers to every public read-only response, errors included."""
    app.after_request(_cors)
