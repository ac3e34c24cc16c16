"""Unit pages: ``/``, ``/map/<code>`` (default set) and ``/map/<set>/<code>``."""

from __future__ import annotations

from typing import NamedTuple

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from sqlalchemy.orm import Session

from boundaries import queries
from boundaries.queries import Unit
from layers.store import features
from portal.catalog import current_catalog
from portal.database import db_session
from portal.i18n import current_language, map_texts, translate
from portal.maps import page_cache
from portal.maps.builder import MapParts, build_unit_map
from portal.maps.lineage import unit_lineage
from portal.maps.overlays import Overlay, public_overlays, today
from portal.maps.page_cache import cached_page
from portal.maps.statistics import UnitStatistics, parse_choice, requested_statistics
from portal.requests.counts import counts_overlay
from portal.units import unit_or_404

bp = Blueprint("maps", __name__)


def unit_url(set_name: str, code: str) -> str:
    """Return the page URL of a unit, short for the default set."""
    if set_name == current_app.config["SETTINGS"].default_set:
        return url_for("maps.unit_page", code=code)
    return url_for("maps.unit_in_set", set_name=set_name, code=code)


@bp.app_template_global()
def unit_href(unit: Unit, view: str = "map") -> str:
    """Return the URL of a unit's map page or text view (for templates)."""
    if view == "text":
        return url_for("maps.text_view", set_name=unit.boundary_set, code=unit.code)
    return unit_url(unit.boundary_set, unit.code)


@bp.route("/")
def home() -> Response:
    """Show the configured default unit."""
    settings = current_app.config["SETTINGS"]
    return _render_unit(settings.default_set, settings.default_unit, home=True)


@bp.route("/map/<code>")
def unit_page(code: str) -> Response:
    """Show a unit of the default boundary set."""
    return _render_unit(current_app.config["SETTINGS"].default_set, code)


@bp.route("/map/<set_name>/<code>")
def unit_in_set(set_name: str, code: str) -> Response:
    """Show a unit of any boundary set."""
    return _render_unit(set_name, code)


class UnitMap(NamedTuple):
    """A unit's children, the statistics chosen by ``?stat=&date=`` and its rendered map."""

    children: list[Unit]
    child_level: str | None
    stats: UnitStatistics
    map: MapParts


def unit_map(session: Session, unit: Unit, *, child_url: str, overlays: list[Overlay],
             compact: bool = False, requests_shown: bool | None = False) -> UnitMap:
    """Build a unit's map as its page shows it; embeds pass their own overlays and child URLs.

    ``requests_shown``: the citizens' request counts are in the layer switcher, switched on (True)
    or off (False), or left out (None).
    """
    children = queries.children(session, unit)
    child_level = queries.child_level(session, unit)
    stats = requested_statistics(session, unit, bool(children))
    map_parts = build_unit_map(
        current_app.config["SETTINGS"], unit, queries.bounds(session, unit),
        queries.outline_geojson(session, unit), children, child_level, child_url,
        translate(f"level_{child_level}") if child_level else "",
        overlays=overlays, texts=map_texts(),
        child_colours=stats.child_colours if stats.legend else None, compact=compact,
        counts=None if requests_shown is None else counts_overlay(
            session, current_catalog(), unit, current_language(), requests_shown),
    )
    return UnitMap(children, child_level, stats, map_parts)


def _render_unit(set_name: str, code: str, home: bool = False) -> Response:
    return cached_page(lambda: _unit_html(set_name, code, home))


def _unit_html(set_name: str, code: str, home: bool = False) -> str:
    session = db_session()
    unit = unit_or_404(session, set_name, code)
    day = parse_choice(request.args.get("stat"), request.args.get("date"))[1]
    overlays = public_overlays(session, current_catalog(), current_language(), day=day, unit=unit)
    built = unit_map(session, unit, child_url=unit_url(set_name, "__CODE__"), overlays=overlays)
    return render_template(
        "unit.html", unit=unit, trail=queries.ancestors(session, unit), children=built.children,
        child_level=built.child_level, map=built.map, unit_url=unit_url, stats=built.stats,
        overlays=overlays, home=home, lineage=unit_lineage(session, unit, day),
    )


TEXT_VIEW_LIMIT = 500


@bp.route("/map/<set_name>/<code>/van-ban")
@bp.route("/map/<set_name>/<code>/text", endpoint="text_view_en")
def text_view(set_name: str, code: str) -> str:
    """Show a unit's layers and statistics as plain lists and tables: no map, no script."""
    session = db_session()
    unit = unit_or_404(session, set_name, code)
    children = queries.children(session, unit)
    stats = requested_statistics(session, unit, bool(children))
    day = parse_choice(request.args.get("stat"), request.args.get("date"))[1]
    lineage = unit_lineage(session, unit, day)
    sections = []
    for layer in current_catalog().feature_layers():
        if not layer.public:
            continue
        # as on the map: of the lockdown zones, only those in force on the day (default today)
        found = features(session, layer, unit=(unit.level, unit.code), limit=TEXT_VIEW_LIMIT + 1,
                         day=day or today())
        if found:
            fields = [a for a in layer.attributes if a.public and a.name != "name"]
            sections.append((layer, fields, found[:TEXT_VIEW_LIMIT], len(found) > TEXT_VIEW_LIMIT))
    return render_template("unit_text.html", unit=unit, trail=queries.ancestors(session, unit),
                           children=children, stats=stats, sections=sections, unit_url=unit_url,
                           lineage=lineage, today=today().isoformat())


def init_app(app: Flask) -> None:
    """Register the unit pages and their page cache."""
    page_cache.init_app(app)
    app.register_blueprint(bp)
