"""Map images: ``/snapshot/<code>.png``, ``/snapshot/<set>/<code>.png``; ``?stat=&date=&layers=&pub=&lang=``.

Drawn on the server with geopandas and matplotlib (Agg, no display): the unit's children coloured
by the statistic's classes, the unit's outline, the layers' features inside the unit's box (points
in their layer's colour, zones hatched), a legend, the unit's name and day, and a source line with
the portal's name, the licence and each layer's publication.  Images are kept in a small
in-process LRU keyed by everything drawn (unit, statistic, day, colours, publications), so a new
publication or new figures make a new image and a cached one is never stale.
"""

from __future__ import annotations

import hashlib
import io
import math
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

import geopandas as gpd
import matplotlib
from flask import Blueprint, Flask, Response, current_app, request, url_for
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke
from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries import queries
from boundaries.queries import Unit
from layers.classify import NO_DATA
from layers.meta import in_force
from layers.store import live_at
from portal.database import db_session
from portal.errors import BadRequest, PortalError
from portal.formats import day, number
from portal.i18n import current_language, translate
from portal.maps.overlays import Overlay
from portal.maps.statistics import UnitStatistics, parse_choice, unit_statistics
from portal.share.common import embed_overlays, fixed_language, licence, local_time, portal_name
from portal.share.labels import place_texts
from portal.units import unit_or_404

SIZE = (960, 720)
DPI = 96
CACHE = "epimap.snapshots"
CACHE_SIZE = 64
PARAMS = ("stat", "date", "layers", "pub", "lang")
PLAIN_FILL = "#f2f4f7"
OUTLINE = "#b42318"
INK, MUTED = "#101828", "#475467"

bp = Blueprint("snapshot", __name__)
POOL = "epimap.snapshot_pool"
RENDER_WAIT = 2.0  # seconds a request waits for a free render slot before its 503


class Busy(PortalError):
    """Every render slot is taken: the image is drawn by no more than a few requests at once."""

    status = 503
    title_key = "share_busy_title"
    retry_after = 5

    def default_message(self, lang: str) -> str:
        return translate("share_busy", lang)


class RenderPool:
    """At most ``size`` images drawn at once (each takes a CPU for a second or more)."""

    def __init__(self, size: int, wait: float = RENDER_WAIT) -> None:
        self.slots = threading.BoundedSemaphore(max(1, size))
        self.wait = wait

    def render(self, make: Callable[[], bytes]) -> bytes:
        """Draw with a free slot, waiting ``wait`` seconds for one; :class:`Busy` when none frees up."""
        if not self.slots.acquire(timeout=self.wait):
            raise Busy()
        try:
            return make()
        finally:
            self.slots.release()


class ImageCache:
    """A small thread-safe LRU of rendered images."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: str, make: Callable[[], bytes]) -> bytes:
        """Return the image for a key, rendering it (outside the lock) when missing."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        image = make()
        with self._lock:
            self._items[key] = image
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return image

    def clear(self) -> None:
        """Forget every image."""
        with self._lock:
            self._items.clear()


def snapshot_url(set_name: str, code: str, params: dict[str, str] | None = None,
                 external: bool = False) -> str:
    """Return the image URL of a unit (short for the default set) with the parameters it understands."""
    if set_name == current_app.config["SETTINGS"].default_set:
        url = url_for("snapshot.image", code=code, _external=external)
    else:
        url = url_for("snapshot.image_in_set", set_name=set_name, code=code, _external=external)
    query = urlencode({k: v for k, v in (params or {}).items() if k in PARAMS and v is not None}, safe=",:")
    return f"{url}?{query}" if query else url


@dataclass
class _Scene:
    """Everything drawn, read from the database before rendering."""

    unit: Unit
    bbox: tuple[float, float, float, float]
    outline: gpd.GeoSeries
    areas: gpd.GeoDataFrame
    stats: UnitStatistics
    layers: list[tuple[Overlay, gpd.GeoSeries]]
    lang: str
    has_children: bool


def _areas(session: Session, unit: Unit, has_children: bool, tolerance: float) -> gpd.GeoDataFrame:
    """Return the unit's children (or the unit itself) simplified to about a pixel, most populous first."""
    where = "parent_code = :c" if has_children else "code = :c"
    rows = session.execute(text(
        "SELECT code, name, ST_X(label_point) AS lon, ST_Y(label_point) AS lat,"  # noqa: S608
        " ST_AsBinary(ST_SimplifyPreserveTopology(geom, :t)) AS wkb FROM admin_unit"
        f" WHERE boundary_set = :s AND {where} ORDER BY population DESC NULLS LAST, area_km2 DESC, code"),
        {"s": unit.boundary_set, "c": unit.code, "t": tolerance}).mappings().all()
    return gpd.GeoDataFrame({"code": [r["code"] for r in rows], "name": [r["name"] for r in rows],
                             "lon": [r["lon"] for r in rows], "lat": [r["lat"] for r in rows]},
                            geometry=gpd.GeoSeries.from_wkb([bytes(r["wkb"]) for r in rows]), crs=4326)


def _outline(session: Session, unit: Unit, tolerance: float) -> gpd.GeoSeries:
    wkb = session.execute(text(
        "SELECT ST_AsBinary(ST_SimplifyPreserveTopology(geom, :t)) FROM admin_unit"
        " WHERE boundary_set = :s AND code = :c"),
        {"s": unit.boundary_set, "c": unit.code, "t": tolerance}).scalar()
    return gpd.GeoSeries.from_wkb([bytes(wkb)], crs=4326)


def _layer_features(session: Session, overlay: Overlay, bbox: tuple[float, float, float, float],
                    tolerance: float) -> gpd.GeoSeries:
    """Return a layer's features at its publication that fall in a box."""
    west, south, east, north = bbox
    period = overlay.meta.get("period")
    current, day_params = in_force(overlay.layer, date.fromisoformat(period["day"]) if period else None)
    rows = session.execute(text(
        "SELECT ST_AsBinary(ST_SimplifyPreserveTopology(f.geom, :t)) FROM feature f"  # noqa: S608
        f" WHERE f.layer_id = :l AND {live_at(overlay.publication)}"
        " AND f.geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)" + current),
        {"l": overlay.layer.id, "as_of": overlay.publication, "t": tolerance,
         "w": west, "s": south, "e": east, "n": north, **day_params}).scalars().all()
    return gpd.GeoSeries.from_wkb([bytes(r) for r in rows], crs=4326)


def read_scene(session: Session, unit: Unit, args: dict[str, str]) -> _Scene:
    """Read from the database everything an image of a unit shows."""
    statistic, day = parse_choice(args.get("stat"), args.get("date"))
    children = queries.children(session, unit)
    stats = unit_statistics(session, unit, statistic, day, bool(children))
    west, south, east, north = queries.bounds(session, unit)
    pad = max(east - west, north - south) * 0.03
    bbox = (west - pad, south - pad, east + pad, north + pad)
    tolerance = max(east - west, north - south) / 1500
    lang = current_language()
    overlays, _ = embed_overlays(lang, args, unit)
    layers = [(o, _layer_features(session, o, bbox, tolerance)) for o in overlays]
    return _Scene(unit, bbox, _outline(session, unit, tolerance),
                  _areas(session, unit, bool(children), tolerance), stats, layers, lang, bool(children))


def _cache_key(scene: _Scene) -> str:
    """Return a digest of everything the image shows, so new data can never hit an old image."""
    stats = scene.stats
    parts = [scene.unit.boundary_set, scene.unit.code, scene.unit.name, scene.lang, stats.statistic,
             stats.day.isoformat() if stats.day else "", repr(sorted(stats.child_colours.items())),
             repr(stats.legend),
             repr([(o.layer.id, o.publication, o.meta.get("period")) for o, _ in scene.layers]),
             repr(scene.bbox)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _class_label(lower: float | None, upper: float, lang: str) -> str:
    return f"≤ {number(upper, lang=lang)}" if lower is None else \
        f"{number(lower, lang=lang)} – {number(upper, lang=lang)}"


def _period_note(overlay: Overlay, lang: str) -> str:
    """Return a second line "In force on <day>" for zones drawn as they were on a past day, else nothing."""
    period = overlay.meta.get("period")
    if not period or period["day"] >= period["today"]:
        return ""
    return f"\n{translate('in_force_on').capitalize()} {day(date.fromisoformat(period['day']), lang)}"


def _legends(fig: Figure, scene: _Scene, counts: list[int]) -> None:
    stats = scene.stats
    top = 0.86
    if stats.legend:
        handles = [Patch(facecolor=colour, edgecolor="#344054", linewidth=0.5,
                         label=_class_label(lo, hi, scene.lang))
                   for lo, hi, colour in stats.legend]
        handles.append(Patch(facecolor=NO_DATA, edgecolor="#344054", linewidth=0.5,
                             label=translate("no_data")))
        title = "\n".join(textwrap.wrap(translate(f"stat_{stats.statistic}"), 30))
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.72, top), frameon=False,
                   fontsize=9, title=title, title_fontsize=10, alignment="left")
        top -= 0.028 * len(handles) + 0.09
    handles = []
    for (overlay, _), count in zip(scene.layers, counts, strict=True):
        label = f"{overlay.layer.title(scene.lang)} ({count}){_period_note(overlay, scene.lang)}"
        if overlay.layer.kind.areas:
            handles.append(Patch(facecolor=overlay.layer.color + "26", edgecolor=overlay.layer.color,
                                 hatch="////", label=label))
        else:
            handles.append(Line2D([], [], marker="o", linestyle="", markersize=8, markeredgecolor="white",
                                  markerfacecolor=overlay.layer.color, label=label))
    handles.append(Line2D([], [], color=OUTLINE, linewidth=2, label=scene.unit.name))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.72, top), frameon=False, fontsize=9,
               title=translate("share_layers"), title_fontsize=10, alignment="left")


def _source_line(scene: _Scene) -> str:
    parts = [f"{overlay.layer.title(scene.lang)} #{overlay.publication}"
             f" ({local_time(overlay.meta['updated'])})" for overlay, _ in scene.layers]
    head = f"{translate('share_source')}: {portal_name()} · {translate('share_licence')}: {licence()}"
    body = f"{translate('share_publication').capitalize()}: {'; '.join(parts)}" if parts else ""
    return "\n".join(textwrap.wrap(f"{head} · {body}" if body else head, 150)[:3])


def subtitle(scene: _Scene) -> str:
    """Return the line under the title: the statistic (or the unit's week) and the figures' day."""
    stats = scene.stats
    if not stats.day:
        return translate("share_no_stat_data")
    total = translate("no_figure") if stats.week_total is None else number(stats.week_total, lang=scene.lang)
    shown = (translate(f"stat_{stats.statistic}") if scene.has_children
             else f"{translate('new_cases_week')}: {total}")
    return f"{shown} · {translate('week_to')} {day(stats.day, scene.lang)}"


def render(scene: _Scene) -> bytes:
    """Draw a scene as a PNG."""
    buffer = io.BytesIO()
    draw(scene).savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _labels(ax, scene: _Scene) -> None:
    """Write the children's names at their label points, leaving out those that would collide."""
    halo = [withStroke(linewidth=2.5, foreground="white")]
    areas = scene.areas
    texts = [ax.text(lon, lat, name, fontsize=7, ha="center", va="center", color=INK, path_effects=halo,
                     zorder=4, gid="unit-label")
             for name, lon, lat in zip(areas["name"], areas["lon"], areas["lat"], strict=True)]
    place_texts(ax, texts)


def draw(scene: _Scene) -> Figure:
    """Draw a scene on a new figure."""
    fig = Figure(figsize=(SIZE[0] / DPI, SIZE[1] / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.1, 0.68, 0.78))
    west, south, east, north = scene.bbox
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(1 / math.cos(math.radians((south + north) / 2)))
    ax.set_axis_off()
    stats, areas = scene.stats, scene.areas
    colours = [stats.child_colours.get(code, NO_DATA) if stats.legend else PLAIN_FILL
               for code in areas["code"]]
    if len(areas):
        areas.plot(ax=ax, color=colours, edgecolor="#344054", linewidth=0.6, zorder=1)
    scene.outline.boundary.plot(ax=ax, color=OUTLINE, linewidth=2.2, zorder=3)
    counts = []
    for overlay, shapes in scene.layers:
        counts.append(len(shapes))
        if not len(shapes):
            continue
        colour = overlay.layer.color
        if overlay.layer.kind.areas:
            shapes.plot(ax=ax, facecolor=colour + "26", edgecolor=colour, hatch="////", linewidth=1, zorder=2)
        else:
            points = shapes.representative_point()
            ax.scatter(points.x, points.y, s=30, c=colour, edgecolors="white", linewidths=0.8, zorder=5)
    if scene.has_children:
        _labels(ax, scene)
    fig.text(0.02, 0.955, scene.unit.name, fontsize=18, weight="bold", color=INK, va="center")
    fig.text(0.02, 0.91, subtitle(scene), fontsize=11, color=MUTED, va="center")
    _legends(fig, scene, counts)
    fig.text(0.02, 0.015, _source_line(scene), fontsize=8, color=MUTED, va="bottom", linespacing=1.4)
    return fig


@bp.before_request
def _language() -> None:
    fixed_language()


@bp.route("/snapshot/<code>.png")
def image(code: str) -> Response:
    """Draw a unit of the default boundary set."""
    return _snapshot(current_app.config["SETTINGS"].default_set, code)


@bp.route("/snapshot/<set_name>/<code>.png")
def image_in_set(set_name: str, code: str) -> Response:
    """Draw a unit of any boundary set."""
    return _snapshot(set_name, code)


def _params() -> dict[str, str]:
    """Return the image's parameters; any other (or a repeated one) is a 400, so URLs cannot bypass caches."""
    unknown = sorted(set(request.args) - set(PARAMS))
    repeated = sorted(k for k in request.args if len(request.args.getlist(k)) > 1)
    if unknown or repeated:
        shown = ", ".join((unknown or repeated)[:5])[:80]
        allowed = ", ".join(PARAMS)
        raise BadRequest(f"Không dùng được tham số {shown}; ảnh nhận {allowed}, mỗi thứ một lần.",
                         f"Parameters not accepted: {shown}. Map images take: {allowed}, each once.")
    return {k: v for k in PARAMS if (v := request.args.get(k)) is not None}


def _snapshot(set_name: str, code: str) -> Response:
    session = db_session()
    params = _params()
    unit = unit_or_404(session, set_name, code)
    scene = read_scene(session, unit, params)
    key = _cache_key(scene)
    pool: RenderPool = current_app.extensions[POOL]
    data = current_app.extensions[CACHE].get_or_make(key, lambda: pool.render(lambda: render(scene)))
    response = Response(data, mimetype="image/png")
    response.set_etag(key[:32])
    response.headers["Content-Disposition"] = f'inline; filename="{set_name}_{code}.png"'
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    """Register the image routes and their cache; anything plotting through pyplot uses Agg too."""
    matplotlib.use("Agg")
    app.extensions[CACHE] = ImageCache(CACHE_SIZE)
    app.extensions[POOL] = RenderPool(app.config["SETTINGS"].snapshot_renders)
    app.register_blueprint(bp)
