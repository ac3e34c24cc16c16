"""Citizens' requests for help, the public doors: the form, the follow page and the public counts."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the form, the follow page, the counts' downloads, their UI strings and the top-bar link."""
    # Imported here: the map pages import portal.requests.counts, and these modules import the share package.
    from portal.i18n import register_messages
    from portal.requests import downloads, forms, views
    from portal.requests.messages import MESSAGES

    register_messages(app, MESSAGES)
    forms.init_app(app, app.config["SETTINGS"].request_form_rate_limit)
    app.register_blueprint(views.bp)
    app.register_blueprint(downloads.bp)
    app.config.setdefault("NAV_LINKS", []).append(("requests.form", "citizen_nav"))
