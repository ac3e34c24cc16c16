"""The Flask portal: maps at every administrative level, tiles, API."""

from __future__ import annotations

from typing import Any

from flask import Flask

from epimap.settings import load_settings


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the portal; ``config`` overrides settings (``bind`` injects a test connection)."""
    from portal import (
        api,
        assets,
        catalog,
        database,
        errors,
        find,
        formats,
        http_policy,
        i18n,
        ogc,
        open311,
        public_url,
        requests,
        share,
        tiles,
    )
    from portal.jsonprovider import OrjsonProvider
    from portal.maps import views as maps

    config = dict(config or {})
    bind = config.pop("bind", None)
    settings = load_settings(config)
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.config.update(SETTINGS=settings, MAX_CONTENT_LENGTH=settings.max_upload_mb * 2**20,
                      SEND_FILE_MAX_AGE_DEFAULT=3600, NAV_LINKS=[])
    public_url.init_app(app)
    catalog.init_app(app, settings)
    database.init_app(app, settings, bind)
    errors.init_app(app)  # first: a NUL in the request is refused before any other check reads it
    i18n.init_app(app)
    formats.init_app(app)
    http_policy.init_app(app)
    assets.init_app(app)
    tiles.init_app(app)
    api.init_app(app)
    find.init_app(app)
    ogc.init_app(app)
    open311.init_app(app)
    maps.init_app(app)
    # Each feature below registers its blueprint, CLI and top-bar link in its own init_app.
    share.init_app(app)
    requests.init_app(app)
    from portal import console  # officials: accounts, publishing, feed API, hardening

    console.init_app(app)
    return app
