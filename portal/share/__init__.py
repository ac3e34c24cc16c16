"""Sharing the maps and data with other sites: embeds, oEmbed, map images and downloads."""

from __future__ import annotations

from flask import Flask

from portal.i18n import register_messages
from portal.share import downloads, embed, snapshot
from portal.share.common import licence
from portal.share.messages import MESSAGES


def init_app(app: Flask) -> None:
    """Register the embed, oEmbed, image and download routes, their UI strings and template helpers."""
    register_messages(app, MESSAGES)
    app.register_blueprint(embed.bp)
    key, ancestors = embed.FRAME_ANCESTORS
    app.config.setdefault(key, {})[embed.bp.name] = ancestors
    snapshot.init_app(app)
    app.register_blueprint(downloads.bp)
    app.jinja_env.globals.update(download_links=downloads.download_links, embed_url=embed.embed_url,
                                 iframe_html=embed.iframe_html, snapshot_url=snapshot.snapshot_url,
                                 data_licence=licence, card_size=snapshot.SIZE)
