"""The portal's layer catalogue: loaded and validated once by ``create_app``, read by every view."""

from __future__ import annotations

from flask import Flask, current_app

from epimap.settings import Settings
from layers.catalog import Catalog, load_catalog

CATALOG = "epimap.catalog"


def current_catalog() -> Catalog:
    """Return the catalogue of the app handling this request."""
    return current_app.extensions[CATALOG]


def init_app(app: Flask, settings: Settings) -> None:
    """Load the settings' catalogue; an invalid one stops start-up naming its file, line and reason."""
    app.extensions[CATALOG] = load_catalog(settings.catalog_file)
