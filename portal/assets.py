"""Serve the pinned front-end libraries from ``portal/assets/node_modules``, never from a CDN."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flask import Blueprint, Flask, send_from_directory

from portal.errors import NotFound

ASSETS = Path(__file__).parent / "assets"

bp = Blueprint("assets", __name__)


@cache
def pinned_packages() -> dict[str, str]:
    """Return the package -> exact version pins from ``package.json``."""
    return json.loads((ASSETS / "package.json").read_text())["dependencies"]


def vendor_url(package: str, path: str) -> str:
    """Return the versioned URL of a file of a pinned package."""
    return f"/static/vendor/{package}@{pinned_packages()[package]}/{path}"


@bp.route("/static/vendor/<package>@<version>/<path:path>")
def vendor_file(package: str, version: str, path: str):
    """Serve a file of a pinned package; the version in the URL makes it cacheable forever (the family's)."""
    if pinned_packages().get(package) != version:
        raise NotFound()
    root = ASSETS / "node_modules" / package
    if not (root / path).is_file():
        raise NotFound()
    return send_from_directory(root, path)


def init_app(app: Flask) -> None:
    """Register the vendor route and the ``vendor_url`` template helper."""
    app.register_blueprint(bp)
    app.jinja_env.globals["vendor_url"] = vendor_url
