"""The portal's public address: absolute URLs are built from ``EPIMAP_PUBLIC_URL``, never from a Host header.

With ``public_url`` set (``https://bando.example.gov.vn``), a request naming another host is refused
(400; ``/healthz`` excepted, for load balancers) and the request is treated as arriving at the public
scheme and host, so ``url_for(..., _external=True)`` builds on them; without it (a local run) the
request's own host is used.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask.globals import request_ctx

from portal.errors import BadRequest

UNCHECKED = ("/healthz",)


def base_url() -> str:
    """Return the portal's public base URL, ending in ``/``."""
    configured = current_app.config["SETTINGS"].public_url
    return configured.rstrip("/") + "/" if configured else request.host_url


def public_host() -> str:
    """Return the host (and port) the portal answers as."""
    return urlsplit(base_url()).netloc.lower()


def _at_public_address() -> None:
    public = urlsplit(current_app.config["SETTINGS"].public_url)
    asked = (request.environ.get("HTTP_HOST") or "").lower()
    if asked != public.netloc.lower() and request.path not in UNCHECKED:
        raise BadRequest("Tên máy chủ trong yêu cầu không phải địa chỉ của cổng.",
                         "The request's host is not this portal's address.")
    request.scheme = public.scheme  # TLS may end at a proxy in front: URLs keep the public scheme
    if request_ctx.url_adapter is not None:
        request_ctx.url_adapter.url_scheme = public.scheme


def init_app(app: Flask) -> None:
    """Refuse other hosts and build external URLs on the public one, when it is configured."""
    configured = app.config["SETTINGS"].public_url
    if not configured:
        return
    parts = urlsplit(configured)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"EPIMAP_PUBLIC_URL must be an http(s) URL, not {configured!r}")
    app.before_request(_at_public_address)
