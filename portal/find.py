"""Citizens find the nearest testing or vaccination site: ``/api/nearby`` and the page ``/tim-diem``.

The page works without JavaScript (a commune or district name, server-rendered results); with
it, "Dùng vị trí của tôi" asks the phone for its position and renders the API's answer.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from difflib import get_close_matches
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request, url_for

from boundaries.names import name_key
from boundaries.queries import Unit, descendants_of, find_units, get_unit
from layers.catalog import Layer
from layers.hours import next_opening_at_minute
from layers.nearby import Area, load_area, nearby, within_area
from layers.store import layers_with_features
from portal import ratelimit
from portal.catalog import current_catalog
from portal.database import db_connection, db_session
from portal.errors import BadRequest
from portal.find_messages import MESSAGES
from portal.formats import weekday_time
from portal.i18n import current_language, register_messages, translate

MAX_LIMIT = 100
DEFAULT_LIMIT = 10
PAGE_LIMIT = 10
AREA_REACH_M = 50_000  # farther than this from every top-level unit: outside the portal's area
AREA_TTL_S = 300
MAX_QUERY = 100
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")
AREA = "epimap.find_area"

bp = Blueprint("find", __name__)


# ------------------------------------------------------------------------------ parameters


def _number(name: str, low: float, high: float) -> float:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        raise BadRequest(f"Thiếu tham số {name}.", f"Parameter {name} is required.")
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"Tham số {name} phải là một số.", f"Parameter {name} must be a number.") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise BadRequest(f"Tham số {name} phải nằm trong khoảng {low:g} đến {high:g}.",
                         f"Parameter {name} must be between {low:g} and {high:g}.")
    return value


def _limit() -> int:
    raw = (request.args.get("limit") or "").strip()
    if not raw:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"Tham số limit phải là số nguyên từ 1 đến {MAX_LIMIT}.",
                         f"Parameter limit must be a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)


def _flag(name: str) -> bool:
    raw = (request.args.get(name) or "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise BadRequest(f"Tham số {name} phải là 1 hoặc 0.", f"Parameter {name} must be 1 or 0.")


def _blockers() -> tuple[str, ...]:
    """Return the layers whose areas in force flag the sites inside them (the catalogue's)."""
    return tuple(layer.id for layer in current_catalog().access_blockers())


def _layer() -> Layer:
    searchable = current_catalog().searchable()
    layer = searchable.get((request.args.get("layer") or "").strip())
    if layer is None:
        names = ", ".join(sorted(searchable))
        raise BadRequest(f"Tham số layer phải là một trong: {names}.",
                         f"Parameter layer must be one of: {names}.")
    return layer


# ------------------------------------------------------------------------------ the API


def _area() -> Area:
    """Return the default set's top-level units, read once every few minutes per process."""
    set_name = current_app.config["SETTINGS"].default_set
    cached = current_app.extensions.get(AREA)
    if cached is None or cached[1].set_name != set_name or time.monotonic() - cached[0] > AREA_TTL_S:
        cached = (time.monotonic(), load_area(db_connection(), set_name))
        current_app.extensions[AREA] = cached
    return cached[1]


def _stale_before(now: datetime) -> datetime:
    """Return the time before which data is stale (``stale_days`` ago)."""
    return now - timedelta(days=current_app.config["SETTINGS"].stale_days)


def opens_at(site: dict[str, Any], now: datetime) -> datetime | None:
    """Return when a closed site opens again (by its hours), or None (open, or not said)."""
    hours = site["props"].get("hours")
    if site["open_now"] is not False or not isinstance(hours, str):
        return None
    return next_opening_at_minute(hours, now.replace(second=0, microsecond=0))


def _feature(site: dict[str, Any], now: datetime, stale_before: datetime) -> dict[str, Any]:
    properties = site["props"]
    properties.update(distance_m=round(site["distance_m"], 1), open_now=site["open_now"],
                      in_lockdown=site["in_lockdown"], approximate=site["approximate"],
                      updated=site["updated"].isoformat(), stale=site["updated"] < stale_before)
    if (opening := opens_at(site, now)) is not None:
        properties["opens_at"] = opening.isoformat()
    if "phone" in properties:
        properties["phone_dialable"] = dialable(properties["phone"])
    return {"type": "Feature", "id": site["id"],
            "geometry": {"type": "Point", "coordinates": [round(site["lon"], 6), round(site["lat"], 6)]},
            "properties": properties}


@bp.route("/api/nearby")
def api_nearby() -> Response:
    """The nearest sites of a layer as GeoJSON: ``lat``, ``lon``, ``layer`` (required), ``limit``
    (1–100, default 10), ``open_now`` and ``exclude_lockdown`` (1/0)."""
    lat, lon = _number("lat", -90, 90), _number("lon", -180, 180)
    layer, limit = _layer(), _limit()
    open_now, exclude_lockdown = _flag("open_now"), _flag("exclude_lockdown")
    connection = db_connection()
    body: dict[str, Any] = {
        "type": "FeatureCollection", "layer": layer.id, "title": layer.title(current_language()),
        "query": {"lat": lat, "lon": lon, "limit": limit, "open_now": open_now,
                  "exclude_lockdown": exclude_lockdown},
        "features": [],
    }
    if within_area(connection, _area(), lon, lat, AREA_REACH_M):
        now = datetime.now(UTC)
        sites = nearby(connection, layer, lon, lat, limit, blockers=_blockers(), open_now=open_now,
                       exclude_lockdown=exclude_lockdown, at=now)
        stale_before = _stale_before(now)
        body["features"] = [_feature(site, now, stale_before) for site in sites]
    else:
        body.update(note=translate("find_outside"), note_vi=translate("find_outside", "vi"),
                    note_en=translate("find_outside", "en"))
    return jsonify(body)


@bp.route("/api/ping")
def api_ping() -> Response:
    """Answer without touching the database: the benchmark's no-op baseline."""
    return jsonify({"ok": True})


# ------------------------------------------------------------------------------ the page


def format_distance(metres: float, lang: str) -> str:
    """Return "850 m" or "2,3 km" ("2.3 km" in English).

    >>> format_distance(849.6, "vi"), format_distance(2345, "vi"), format_distance(2345, "en")
    ('850 m', '2,3 km', '2.3 km')
    >>> format_distance(999.7, "en"), format_distance(12_000, "vi")
    ('1.0 km', '12,0 km')
    """
    if round(metres) < 1000:
        return f"{round(metres)} m"
    text = f"{metres / 1000:.1f} km"
    return text.replace(".", ",") if lang == "vi" else text


def elapsed(updated: datetime, now: datetime) -> tuple[str, int]:
    """Return the UI string key and the count that say how long ago ``updated`` was.

    >>> now = datetime(2021, 8, 20, 12, 0, tzinfo=UTC)
    >>> elapsed(now - timedelta(days=3, hours=2), now), elapsed(now, now)
    (('find_ago_days', 3), ('find_ago_now', 0))
    >>> elapsed(now - timedelta(hours=1), now), elapsed(now - timedelta(minutes=5), now)
    (('find_ago_hour', 1), ('find_ago_minutes', 5))
    """
    seconds = max(0.0, (now - updated).total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return (f"find_ago_{unit}" if n == 1 else f"find_ago_{unit}s"), n
    return "find_ago_now", 0


def format_ago(updated: datetime, now: datetime, lang: str) -> str:
    """Return "3 ngày trước" / "3 days ago" (minutes, hours or days)."""
    key, n = elapsed(updated, now)
    return translate(key, lang).format(n=n)


def tel_uri(phone: str) -> str:
    """Return a ``tel:`` URI: national numbers in international form, hotlines as they are.

    >>> tel_uri("02743822222"), tel_uri("115"), tel_uri("0912 345 678")
    ('tel:+842743822222', 'tel:115', 'tel:+84912345678')
    """
    digits = "".join(c for c in phone if c.isdigit())
    return f"tel:+84{digits[1:]}" if digits.startswith("0") and len(digits) >= 10 else f"tel:{digits}"


def dialable(phone: object) -> bool:
    """Whether a phone value is a number the ingest accepted (its national digits), so it may be a link.

    A number the ingest could not read is kept as the feed's text and flagged; it is shown, never dialled.

    >>> dialable("02743822222"), dialable("115"), dialable("0274 38x"), dialable(None), dialable("12")
    (True, True, False, False, False)
    """
    return isinstance(phone, str) and phone.isascii() and phone.isdigit() and 3 <= len(phone) <= 11


def _site_view(site: dict[str, Any], now: datetime, lang: str) -> dict[str, Any]:
    props, lat, lon = site["props"], round(site["lat"], 6), round(site["lon"], 6)
    status = {True: "open", False: "closed", None: "unknown"}[site["open_now"]]
    stale = site["updated"] < _stale_before(now)
    phone, opening = props.get("phone"), opens_at(site, now)
    return {
        "name": props.get("name") or "", "address": props.get("address"), "hours": props.get("hours"),
        "phone": phone, "tel": tel_uri(phone) if dialable(phone) else None,
        "distance": format_distance(site["distance_m"], lang), "status": status,
        "status_text": translate(f"find_status_{status}", lang),
        "opens_text": translate("find_opens_at", lang).format(when=weekday_time(opening, lang))
        if opening else None,
        "test_types": props.get("test_types"),
        "in_lockdown": site["in_lockdown"], "approximate": site["approximate"],
        "fresh": translate("find_updated", lang).format(ago=format_ago(site["updated"], now, lang)),
        "stale": stale, "lat": lat, "lon": lon, "geo": f"geo:{lat},{lon}",
        "directions": f"https://www.openstreetmap.org/directions?to={lat},{lon}",
        "osm": f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}",
    }


def _candidate(session: Any, unit: Unit) -> dict[str, Any]:
    parent = get_unit(session, unit.boundary_set, unit.parent_code) if unit.parent_code else None
    return {"unit": unit, "parent": parent.name if parent else None}


def _page_texts(lang: str) -> dict[str, str]:
    keys = ("find_status_open", "find_status_closed", "find_status_unknown", "find_in_lockdown",
            "find_hours", "find_opens_at", "find_test_types",
            "find_directions", "find_open_in_app", "find_on_map", "find_call_to_confirm",
            "find_updated", "find_locating", "find_searching", "find_location_error", "find_no_results",
            "find_near_you", "find_you_are_here", "approximate", "find_ago_now", "find_ago_minute",
            "find_ago_minutes", "find_ago_hour", "find_ago_hours", "find_ago_day", "find_ago_days")
    return {key: translate(key, lang) for key in keys}


def close_names(session: Any, set_name: str, query: str, limit: int = 3) -> list[Unit]:
    """Return the units whose names are closest to a mistyped query ("phu cuog" -> Phú Cường)."""
    by_key: dict[str, list[str]] = {}
    for candidate in descendants_of(session, set_name, None):
        by_key.setdefault(name_key(candidate.name), []).append(candidate.code)
    keys = get_close_matches(name_key(query), list(by_key), n=limit, cutoff=0.75)
    units = (get_unit(session, set_name, code) for key in keys for code in by_key[key])
    return [u for u in units if u is not None][:limit]


def page() -> str:
    """The search form and, when asked, the nearest sites to a commune or district."""
    settings, session, lang = current_app.config["SETTINGS"], db_session(), current_language()
    declared = current_catalog().finder_layers()
    with_data = layers_with_features(session, [layer.id for layer in declared.values()])
    offered = {key: layer for key, layer in declared.items() if layer.id in with_data}  # no empty kinds
    kind = request.args.get("kind") or next(iter(offered), "")  # the catalogue's first one is the default
    if kind not in declared:
        raise BadRequest("Loại điểm không hợp lệ.", "Unknown kind of site.")
    layer = declared[kind]
    query = (request.args.get("q") or "").strip()[:MAX_QUERY]
    code = (request.args.get("code") or "").strip()
    open_now, exclude_lockdown = _flag("open_now"), _flag("exclude_lockdown")
    unit, candidates, message, sites = None, [], None, []
    if code:
        unit = get_unit(session, settings.default_set, code)
        message = None if unit else translate("find_no_place", lang)
    elif query:
        found = find_units(session, settings.default_set, query)
        if len(found) == 1:
            unit = found[0]
        elif found:
            candidates = [_candidate(session, u) for u in found]
        elif close := close_names(session, settings.default_set, query):
            message = translate("find_did_you_mean", lang)  # a typo: offer the close names
            candidates = [_candidate(session, u) for u in close]
        else:
            message = translate("find_no_place", lang)
    if unit is not None and kind not in offered:  # an old link to a kind with no data: said plainly
        message = translate("find_kind_no_data", lang).format(kind=layer.title(lang))
    elif unit is not None:
        now = datetime.now(UTC)
        sites = [_site_view(s, now, lang) for s in nearby(
            session, layer, unit.lon, unit.lat, PAGE_LIMIT, blockers=_blockers(), open_now=open_now,
            exclude_lockdown=exclude_lockdown, at=now)]
        if not sites:
            message = translate("find_no_results", lang)
    kinds = [(key, found.title(lang)) for key, found in offered.items()]
    if kind not in offered:
        kinds.append((kind, layer.title(lang)))
    client = {"api": url_for("find.api_nearby"), "lang": lang, "limit": PAGE_LIMIT,
              "layers": {key: found.id for key, found in offered.items()},
              "basemap": settings.basemap_url, "attribution": settings.basemap_attribution,
              "texts": _page_texts(lang)}
    return render_template("find.html", kinds=kinds, kind=kind, query=query, unit=unit,
                           candidates=candidates, message=message, sites=sites, open_now=open_now,
                           exclude_lockdown=exclude_lockdown, client=client)


bp.add_url_rule("/tim-diem", "page", page)
bp.add_url_rule("/find", "page", page)


def init_app(app: Flask) -> None:
    """Register the page, the API, their UI strings and the API's rate limit."""
    register_messages(app, MESSAGES)
    app.register_blueprint(bp)
    app.config.setdefault("NAV_LINKS", []).append(("find.page", "find_nav"))
    ratelimit.init_app(app, app.config["SETTINGS"].api_rate_limit)
