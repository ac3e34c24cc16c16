"""Response hardening for every page: Content-Security-Policy, nosniff, Referrer-Policy; the secret key.

The policy allows only the portal's own scripts, styles, images and connections.  Inline scripts
run only with this request's nonce: templates write ``<script nonce="{{ csp_nonce() }}">``, and
trusted server-built markup (the Folium map header) goes through the ``nonce_scripts`` filter.
Inline *styles* stay allowed (Folium and the legends write ``style`` attributes); the basemap's
host is added to ``img-src``.

``frame-ancestors`` is chosen per blueprint from ``app.config["CSP_FRAME_ANCESTORS"]``
(``{"blueprint name": "'none'" | "'self'" | "*" | "https://…"}``), ``'self'`` by default; the
console registers ``'none'``, an embeddable blueprint registers ``*``.  A response that already
carries a ``Content-Security-Policy`` header keeps it.
"""

from __future__ import annotations

import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from markupsafe import Markup

from epimap.settings import Settings

FRAME_ANCESTORS = "CSP_FRAME_ANCESTORS"
DEFAULT_FRAME_ANCESTORS = "'self'"
_BARE_SCRIPT = re.compile(r"<script(?![^>]*\bnonce=)(?=[\s>])", re.IGNORECASE)


def csp_nonce() -> str:
    """Return this request's script nonce (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def nonce_scripts(markup: Markup | str) -> Markup:
    """Give the ``<script>`` tags of trusted, server-built markup this request's nonce."""
    return Markup(_BARE_SCRIPT.sub(f'<script nonce="{csp_nonce()}"', str(markup)))


@lru_cache(maxsize=64)
def _origin(url: str) -> str | None:
    """Return the origin a tile URL template loads from (``{s}`` subdomains as a wildcard).

    >>> _origin("https://{s}.tile.example.org/{z}/{x}/{y}.png"), _origin(""), _origin("/tiles/{z}.png")
    ('https://*.tile.example.org', None, None)
    """
    if not url:
        return None
    parts = urlsplit(url.replace("{s}", "__s__"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.replace('__s__', '*')}"


def policy(settings: Settings, frame_ancestors: str, nonce: str | None) -> str:
    """Return the Content-Security-Policy of a response."""
    images = ["'self'", "data:", "blob:"]
    basemap = _origin(settings.basemap_url)
    if basemap:
        images.append(basemap)
    scripts = ["'self'"] + ([f"'nonce-{nonce}'"] if nonce else [])
    return "; ".join((
        "default-src 'self'", f"script-src {' '.join(scripts)}", "style-src 'self' 'unsafe-inline'",
        f"img-src {' '.join(images)}", "connect-src 'self'", "font-src 'self' data:", "object-src 'none'",
        "base-uri 'self'", "form-action 'self'", f"frame-ancestors {frame_ancestors}",
    ))


def _harden(response: Response) -> Response:
    headers = response.headers
    present = {key.lower() for key, _ in headers}  # cheaper than `in headers`, which raises when absent
    if "x-content-type-options" not in present:
        headers.add("X-Content-Type-Options", "nosniff")
    if "referrer-policy" not in present:
        headers.add("Referrer-Policy", "strict-origin-when-cross-origin")
    # A 304 has no body: the page the browser kept keeps its own policy, whose nonce is its body's.
    if "content-security-policy" not in present and response.status_code != 304:
        ancestors = current_app.config.get(FRAME_ANCESTORS, {}).get(request.blueprint or "",
                                                                     DEFAULT_FRAME_ANCESTORS)
        headers["Content-Security-Policy"] = policy(current_app.config["SETTINGS"], ancestors,
                                                    g.get("csp_nonce"))
    return response


def secret_key(settings: Settings) -> str:
    """Return ``EPIMAP_SECRET_KEY``, else a random key kept in ``var_dir/secret_key`` (mode 600).

    The file is created once, atomically, so every gunicorn worker reads the same key.
    """
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.var_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(temp, path)  # fails when another worker was first: theirs wins
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it or set EPIMAP_SECRET_KEY")
    return key


def init_app(app: Flask) -> None:
    """Add the hardening headers to every response; expose ``csp_nonce`` and ``nonce_scripts``."""
    app.config.setdefault(FRAME_ANCESTORS, {})
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.filters["nonce_scripts"] = nonce_scripts
    app.after_request(_harden)
