"""Unit pages: ``/``, ``/map/<code>`` (default set) and ``/map/<set>/<code>``."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for

from boundaries import queries
from layers.catalog import default_catalog
from layers.store import features
from portal.database import db_session
from portal.errors import NotFound
from portal.i18n import current_language, map_texts, translate
from portal.maps.builder import build_unit_map
from portal.maps.overlays import public_overlays
from portal.maps.statistics import parse_choice, unit_statistics

bp = Blueprint("maps", __name__)


def unit_url(set_name: str, code: str) -> str:
    """Return the page URL of a unit, short for the default set."""
    if set_name == current_app.config["SETTINGS"].default_set:
        return url_for("maps.unit_page", code=code)
    return url_for("maps.unit_in_set", set_name=set_name, code=code)


@bp.route("/")
def home() -> str:
    """Show the configured default unit."""
    settings = current_app.config["SETTINGS"]
    return _render_unit(settings.default_set, settings.default_unit)


@bp.route("/map/<code>")
def unit_page(code: str) -> str:
    """Show a unit of the default boundary set."""
    return _render_unit(current_app.config["SETTINGS"].default_set, code)


@bp.route("/map/<set_name>/<code>")
def unit_in_set(set_name: str, code: str) -> str:
    """Show a unit of any boundary set."""
    return _render_unit(set_name, code)


def _render_unit(set_name: str, code: str) -> str:
    session = db_session()
    unit = queries.get_unit(session, set_name, code)
    if unit is None:
        raise NotFound()
    children = queries.children(session, unit)
    child_level = queries.child_level(session, unit)
    child_url = unit_url(set_name, "__CODE__")
    statistic, day = parse_choice(request.args.get("stat"), request.args.get("date"))
    stats = unit_statistics(session, unit, statistic, day, bool(children))
    map_parts = build_unit_map(
        current_app.config["SETTINGS"], unit, queries.bounds(session, unit),
        queries.outline_geojson(session, unit), children, child_level, child_url,
        translate(f"level_{child_level}") if child_level else "",
        overlays=public_overlays(session, default_catalog(), current_language()), texts=map_texts(),
        child_colours=stats.child_colours if stats.legend else None,
    )
    return render_template(
        "unit.html", unit=unit, trail=queries.ancestors(session, unit), children=children,
        child_level=child_level, map=map_parts, unit_url=unit_url, stats=stats,
    )


TEXT_VIEW_LIMIT = 500


@bp.route("/map/<set_name>/<code>/van-ban")
@bp.route("/map/<set_name>/<code>/text", endpoint="text_view_en")
def text_view(set_name: str, code: str) -> str:
    """Show a unit's layers and statistics as plain lists and tables: no map, no script."""
    session = db_session()
    unit = queries.get_unit(session, set_name, code)
    if unit is None:
        raise NotFound()
    children = queries.children(session, unit)
    statistic, day = parse_choice(request.args.get("stat"), request.args.get("date"))
    stats = unit_statistics(session, unit, statistic, day, bool(children))
    lang = current_language()
    sections = []
    for layer in default_catalog().layers.values():
        if not layer.public:
            continue
        found = features(session, layer, unit=(unit.level, unit.code), limit=TEXT_VIEW_LIMIT + 1)
        if found:
            fields = [(a.name, a.label_vi if lang == "vi" else a.label_en)
                      for a in layer.attributes if a.public and a.name != "name"]
            sections.append((layer, fields, found[:TEXT_VIEW_LIMIT], len(found) > TEXT_VIEW_LIMIT))
    return render_template("unit_text.html", unit=unit, trail=queries.ancestors(session, unit),
                           children=children, stats=stats, sections=sections, unit_url=unit_url)
