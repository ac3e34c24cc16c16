"""What embeds, map images, oEmbed and downloads share: query parameters, language, times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from flask import current_app, g, request
from sqlalchemy.orm import Session

from boundaries.queries import Unit
from layers.catalog import REQUESTS_LAYER
from layers.meta import publication_exists
from portal.access import public_layer
from portal.catalog import current_catalog
from portal.database import db_session
from portal.errors import BadRequest, NotFound, PortalError
from portal.i18n import LANGUAGES, translate
from portal.maps.overlays import Overlay, public_overlays
from portal.maps.statistics import parse_choice

VIETNAM = timezone(timedelta(hours=7), "ICT")  # no daylight saving
_PUBLICATION = re.compile(r"[0-9]{1,18}")
MAX_ITEMS = 50


class NotImplementedFormat(PortalError):
    """An oEmbed format the portal does not provide (only JSON)."""

    status = 501
    title_key = "share_not_implemented_title"


def fixed_language() -> str:
    """Take the language from ``?lang=`` only (default Vietnamese), never from a cookie.

    Embeds, images and downloads are public and cached by URL, so their language must be in it.
    """
    asked = request.args.get("lang")
    g.lang = asked if asked in LANGUAGES else "vi"
    return g.lang


def parse_layers(raw: str | None) -> tuple[str, ...] | None:
    """Read ``layers=a,b``: None when absent (every public layer), else the named public layers."""
    if raw is None:
        return None
    ids = tuple(dict.fromkeys(item.strip() for item in raw.split(",") if item.strip()))
    catalog = current_catalog()
    for layer_id in ids:
        layer = catalog.layer(layer_id)
        counts = catalog.requests_layer
        if layer_id == REQUESTS_LAYER and counts is not None and counts.public:
            continue  # the citizens' request counts: drawn by the map itself, not a feature layer
        if layer is None or not layer.public or not layer.kind.has_features:
            shown = layer_id[:40]
            raise BadRequest(f"Không có lớp bản đồ “{shown}”.", f"No map layer '{shown}'.")
    return ids


def parse_pins(session: Session, raw: str | None) -> dict[str, int]:
    """Read ``pub=layer:ID,layer:ID``; 400 when malformed, 404 when a publication is not its layer's."""
    pins: dict[str, int] = {}
    items = [item.strip() for item in (raw or "").split(",") if item.strip()]
    if len(items) > MAX_ITEMS:
        raise BadRequest("Quá nhiều lớp trong tham số pub.", "Too many layers in parameter pub.")
    for item in items:
        layer_id, _, number = item.partition(":")
        if not _PUBLICATION.fullmatch(number):
            shown = item[:60]
            raise BadRequest(f"Tham số pub phải có dạng lớp:số, không phải “{shown}”.",
                             f"Parameter pub must look like layer:number, not '{shown}'.")
        layer = public_layer(layer_id)
        if layer.id in pins:
            raise BadRequest(f"Lớp “{layer.id}” được ghim hai lần.", f"Layer '{layer.id}' is pinned twice.")
        if not publication_exists(session, layer, int(number)):
            raise NotFound(f"Lớp “{layer.id}” không có lần xuất bản {number}.",
                           f"Layer '{layer.id}' has no publication {number}.")
        pins[layer.id] = int(number)
    return pins


def local_time(value: datetime | float | None) -> str:
    """Format a time (or epoch seconds) in Vietnam's time zone as dd/mm/yyyy HH:MM.

    >>> local_time(datetime(2021, 8, 12, 3, 30, tzinfo=UTC)), local_time(None)
    ('12/08/2021 10:30', '')
    """
    if value is None:
        return ""
    moment = datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else value
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def iso_time(value: datetime | None) -> str | None:
    """Return a time in ISO 8601 with Vietnam's offset.

    >>> iso_time(datetime(2021, 8, 12, 3, 30, tzinfo=UTC))
    '2021-08-12T10:30:00+07:00'
    """
    return value.astimezone(VIETNAM).isoformat(timespec="seconds") if value else None


def portal_name() -> str:
    """Return the portal's configured name."""
    return current_app.config["SETTINGS"].portal_name


def licence() -> str:
    """Return the licence of the portal's public data."""
    return current_app.config["SETTINGS"].data_licence


def source_label(lang: str | None = None) -> str:
    """Return "Nguồn: <portal>" in the current language."""
    return f"{translate('share_source', lang)}: {portal_name()}"


def requests_shown(args: dict[str, str]) -> bool | None:
    """Tell how an embed's query draws the request counts: on when named, off when no layers are named."""
    only = parse_layers(args.get("layers"))
    return False if only is None else (True if REQUESTS_LAYER in only else None)


def embed_overlays(lang: str, args: dict[str, str], unit: Unit | None = None) -> tuple[list[Overlay], bool]:
    """Return the overlays an embed's query asks for and whether every one is pinned.

    Zones are those in force on the query's ``date`` (default today), counted in ``unit``.
    """
    session = db_session()
    only = parse_layers(args.get("layers"))
    pins = parse_pins(session, args.get("pub"))
    if only is not None and (stray := sorted(set(pins) - set(only))):
        raise BadRequest(f"Lớp được ghim nhưng không hiển thị: {', '.join(stray)}.",
                         f"Pinned layers that are not shown: {', '.join(stray)}.")
    day = parse_choice(args.get("stat"), args.get("date"))[1]
    overlays = public_overlays(session, current_catalog(), lang, only=only, pinned=pins, day=day, unit=unit)
    return overlays, bool(pins) and all(o.layer.id in pins for o in overlays)
