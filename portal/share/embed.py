"""Embeds: ``/embed/<code>`` and ``/embed/<set>/<code>``, the unit's map without the portal around it,
and the oEmbed endpoint ``/oembed`` that hands other sites the ``<iframe>`` for a map page.

Query: ``layers=a,b`` (those layers, all shown; default every public layer as on the unit page),
``stat=`` and ``date=`` (as on the unit page), ``pub=layer:ID,...`` (draw those layers at those
publications forever instead of their current ones) and ``lang=``.  Embeds set no cookie, may be
framed by any site (``frame-ancestors *``, registered for :mod:`portal.security`) and are cached
briefly (pinned ones for a day).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, Response, current_app, jsonify, make_response, render_template, request, url_for
from markupsafe import escape
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException

from boundaries.queries import Unit
from portal.database import db_session
from portal.errors import BadRequest, NotFound
from portal.http_policy import LIVE_MAX_AGE, PINNED_MAX_AGE, cache_for
from portal.i18n import current_language
from portal.maps.statistics import parse_choice
from portal.maps.views import unit_map, unit_url
from portal.public_url import base_url, public_host
from portal.share.common import (
    NotImplementedFormat,
    embed_overlays,
    fixed_language,
    local_time,
    portal_name,
    requests_shown,
)
from portal.share.snapshot import SIZE, snapshot_url
from portal.units import unit_or_404

EMBED_PARAMS = ("layers", "stat", "date", "pub", "lang")
DEFAULT_SIZE = (800, 600)
MAP_ENDPOINTS = {"maps.home", "maps.unit_page", "maps.unit_in_set", "maps.text_view", "maps.text_view_en",
                 "share.embed_page", "share.embed_in_set"}
# portal.security writes each response's Content-Security-Policy with the frame-ancestors its
# blueprint registers here: any site may frame an embed.
FRAME_ANCESTORS = ("CSP_FRAME_ANCESTORS", "*")

bp = Blueprint("share", __name__)


def embed_url(set_name: str, code: str, params: dict[str, str] | None = None, external: bool = False) -> str:
    """Return the embed URL of a unit (short for the default set) with the given query parameters."""
    if set_name == current_app.config["SETTINGS"].default_set:
        url = url_for("share.embed_page", code=code, _external=external)
    else:
        url = url_for("share.embed_in_set", set_name=set_name, code=code, _external=external)
    query = urlencode({k: v for k, v in (params or {}).items() if v is not None}, safe=",:")
    return f"{url}?{query}" if query else url


RATIO = "4/3"  # the responsive embed's shape: as wide as the article, never wider
MIN_HEIGHT = 460  # on a phone 4:3 would leave the map under 100 px between the title and the key


def iframe_html(src: str, width: int | str | None, height: int | str | None, title: str) -> str:
    """Return the ``<iframe>`` other sites paste to show an embed; no size: responsive (the default).

    A responsive frame is 100 % of the article's width with a fixed aspect ratio, so a 360 px
    article gets a 360 px map with its whole key instead of a 600 px frame overflowing it.
    """
    if width is None or height is None:
        return (f'<iframe src="{escape(src)}" width="100%" style="border:0;width:100%;max-width:100%;'
                f'aspect-ratio:{RATIO};height:auto;min-height:{MIN_HEIGHT}px" loading="lazy"'
                f' title="{escape(title)}"></iframe>')
    return (f'<iframe src="{escape(src)}" width="{escape(width)}" height="{escape(height)}"'
            f' style="border:0" loading="lazy" title="{escape(title)}"></iframe>')


def embed_params(args: dict[str, str]) -> dict[str, str]:
    """Keep the query parameters an embed understands."""
    return {key: args[key] for key in EMBED_PARAMS if args.get(key) is not None}


def _unit(set_name: str, code: str) -> Unit:
    return unit_or_404(db_session(), set_name, code)


@bp.before_request
def _language() -> None:
    fixed_language()


@bp.route("/embed/<code>")
def embed_page(code: str) -> Response:
    """Embed a unit of the default boundary set."""
    return _embed(current_app.config["SETTINGS"].default_set, code)


@bp.route("/embed/<set_name>/<code>")
def embed_in_set(set_name: str, code: str) -> Response:
    """Embed a unit of any boundary set."""
    return _embed(set_name, code)


def _embed(set_name: str, code: str) -> Response:
    session = db_session()
    unit = _unit(set_name, code)
    params = embed_params(request.args)
    overlays, pinned = embed_overlays(current_language(), params, unit)
    pinned = pinned and "date" in params  # every layer at a fixed publication, the figures of a fixed day
    built = unit_map(session, unit, child_url=embed_url(set_name, "__CODE__", params), overlays=overlays,
                     compact=True, requests_shown=requests_shown(params))
    updated = max((o.meta["updated"] for o in overlays if o.meta["updated"]), default=None)
    back = {k: v for k, v in params.items() if k in ("stat", "date", "lang")}
    page = base_url().rstrip("/") + unit_url(set_name, code) + (f"?{urlencode(back)}" if back else "")
    html = render_template("embed.html", unit=unit, map=built.map, stats=built.stats,
                           children=built.children, page_url=page, updated=local_time(updated),
                           portal_name=portal_name(),
                           authority=current_app.config["SETTINGS"].source_authority)
    if pinned:  # never changes; a live embed keeps the family's short lifetime
        cache_for(PINNED_MAX_AGE)
    response = make_response(html)
    response.headers.pop("X-Frame-Options", None)
    return response


# ------------------------------------------------------------------------------ oEmbed


def _size(name: str) -> int | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise BadRequest(f"Tham số {name} phải là số nguyên dương.",
                         f"Parameter {name} must be a positive integer.")
    return int(raw)


def _not_ours() -> NotFound:
    return NotFound("Địa chỉ này không phải một trang bản đồ của cổng.",
                    "This URL is not one of our map pages.")


def _map_page(url: str) -> tuple[str, str, dict[str, str]]:
    """Return the (set, code, query) of one of our map or embed page URLs; anything else is a 404."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != public_host():
        raise _not_ours()
    try:
        endpoint, values = current_app.url_map.bind(public_host()).match(parts.path or "/", method="GET")
    except (HTTPException, RoutingException):
        raise _not_ours() from None
    if endpoint not in MAP_ENDPOINTS:
        raise _not_ours()
    settings = current_app.config["SETTINGS"]
    set_name = values.get("set_name", settings.default_set)
    code = values.get("code", settings.default_unit)
    return set_name, code, embed_params(dict(parse_qsl(parts.query)))


@bp.route("/oembed")
def oembed() -> Response:
    """Describe a map page for oEmbed consumers (JSON only; XML is a 501)."""
    if (request.args.get("format") or "json").lower() != "json":
        raise NotImplementedFormat("Chỉ hỗ trợ định dạng JSON.", "Only the JSON format is supported.")
    if "url" not in request.args:
        raise BadRequest("Tham số url là bắt buộc.", "Parameter url is required.")
    url = request.args["url"].strip()  # a blank one names none of our pages: a 404, as any other
    max_width, max_height = _size("maxwidth"), _size("maxheight")
    set_name, code, params = _map_page(url)
    unit = _unit(set_name, code)
    parse_choice(params.get("stat"), params.get("date"))
    _, pinned = embed_overlays(params.get("lang", "vi"), params)
    pinned = pinned and "date" in params
    width = min(DEFAULT_SIZE[0], max_width or DEFAULT_SIZE[0])
    height = min(DEFAULT_SIZE[1], max_height or DEFAULT_SIZE[1])
    title = f"{unit.name} · {portal_name()}"
    src = embed_url(set_name, code, params, external=True)
    body = {
        "version": "1.0", "type": "rich", "title": title, "width": width, "height": height,
        "html": iframe_html(src, width, height, title),
        "provider_name": portal_name(), "provider_url": base_url(),
        "cache_age": PINNED_MAX_AGE if pinned else LIVE_MAX_AGE,
    }
    if (max_width or SIZE[0]) >= SIZE[0] and (max_height or SIZE[1]) >= SIZE[1]:
        body.update(thumbnail_url=snapshot_url(set_name, code, params, external=True),
                    thumbnail_width=SIZE[0], thumbnail_height=SIZE[1])
    return jsonify(body)
