"""Build the Folium map of a unit: its outline, its children from vector tiles, labels."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import folium
from folium.elements import MacroElement
from folium.plugins import VectorGridProtobuf
from folium.template import Template
from markupsafe import Markup

from boundaries.queries import Unit
from epimap.settings import Settings
from portal.assets import vendor_url
from portal.maps.overlays import Overlay

# Folium asks for these by name; the portal serves them itself. Anything else folium would
# fetch from a CDN (jQuery, Bootstrap, awesome-markers) is not used by our pages and is dropped.
LOCAL_JS = {
    "leaflet": ("leaflet", "dist/leaflet.js"),
    "vectorGrid": ("leaflet.vectorgrid", "dist/Leaflet.VectorGrid.bundled.min.js"),
}
LOCAL_CSS = {"leaflet_css": ("leaflet", "dist/leaflet.css")}
OWN_JS = "/static/epimap.js"
# Folium's header carries a viewport with ``user-scalable=no``: people must be able to pinch-zoom,
# and the page's own viewport (base.html, embed.html) is the one that counts.
FOLIUM_VIEWPORT = re.compile(r"<meta\s+name=\"viewport\"[^>]*>\s*", re.S)


class Script(MacroElement):
    """A piece of JavaScript run after the elements added to the map before it."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code


@dataclass(frozen=True)
class MapParts:
    """The pieces of a rendered Folium figure to place in a page template."""

    header: Markup
    body: Markup
    script: Markup
    map_id: str


def _localise(element: folium.Element) -> None:
    """Point an element's JS and CSS at the portal's own copies."""
    if hasattr(element, "default_js"):
        element.default_js = [(n, vendor_url(*LOCAL_JS[n])) for n, _ in element.default_js
                              if n in LOCAL_JS]
        element.default_css = [(n, vendor_url(*LOCAL_CSS[n])) for n, _ in element.default_css
                               if n in LOCAL_CSS]
    for child in element._children.values():
        _localise(child)


def _base_map(settings: Settings, bbox: tuple[float, float, float, float]) -> folium.Map:
    west, south, east, north = bbox
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=9,
                      tiles=None, control_scale=False, prefer_canvas=False)
    fmap.add_child(Script(f"L.control.scale({{imperial: false}}).addTo({fmap.get_name()});"))
    if settings.basemap_url:
        folium.TileLayer(settings.basemap_url, attr=settings.basemap_attribution,
                         name="OpenStreetMap", max_zoom=19).add_to(fmap)
    fmap.fit_bounds([[south, west], [north, east]])
    return fmap


def _children_layer(unit: Unit, child_level: str, name: str,
                    colours: dict[str, str] | None) -> VectorGridProtobuf:
    url = f"/tiles/boundaries/{unit.boundary_set}/{child_level}/{{z}}/{{x}}/{{y}}.mvt"
    style = f"epimap.childStyle({_json_for_script(unit.code)}, {_json_for_script(colours)})"
    options = (
        "{interactive: true, maxNativeZoom: 16, getFeatureId: epimap.featureId,"
        f" vectorTileLayerStyles: {{units: {style}}}}}"
    )
    return VectorGridProtobuf(url, name, options)


def label_order(units: list[Unit]) -> list[Unit]:
    """Return units in the order their names claim room: most populous, then largest, first."""
    return sorted(units, key=lambda u: (-(u.population or 0), -u.area_km2, u.code))


def _labels_script(map_name: str, children: list[Unit]) -> Script:
    """Return a script drawing the children's names, decluttered in the browser; compact data."""
    labels = [[round(c.lat, 5), round(c.lon, 5), c.name] for c in label_order(children)]
    return Script(f"epimap.addLabels({map_name}, {_json_for_script(labels)});")


def _json_for_script(value: object) -> str:
    """Serialise to JSON that is safe inside a <script> element."""
    return (json.dumps(value, ensure_ascii=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _overlay_layer(overlay: Overlay) -> VectorGridProtobuf:
    meta = _json_for_script(overlay.meta)
    options = f"epimap.overlayOptions({meta})"
    return VectorGridProtobuf(overlay.url, overlay.meta["title"], options, show=overlay.shown)


def _add_overlays(fmap: folium.Map, overlays: list[Overlay], texts: dict[str, str],
                  compact: bool = False, counts: dict | None = None) -> None:
    for overlay in overlays:
        grid = _overlay_layer(overlay).add_to(fmap)
        fmap.add_child(Script(
            f"epimap.bindPopups({grid.get_name()}, {_json_for_script(overlay.meta)});"))
    metas = [o.meta for o in overlays]
    if counts:  # citizens' requests: counts per commune, fetched when switched on
        fmap.add_child(Script(f"epimap.addRequestCounts({fmap.get_name()}, {_json_for_script(counts)});"))
        metas.append(counts)
    fmap.add_child(Script(f"epimap.setTexts({_json_for_script(texts)});"
                          f" epimap.addLegend({fmap.get_name()}, {_json_for_script(metas)});"))
    control = folium.LayerControl(collapsed=compact).add_to(fmap)
    if counts:
        fmap.add_child(Script(f"epimap.addRequestCountsControl({control.get_name()},"
                              f" {_json_for_script(counts)});"))
    fmap.add_child(Script(f"epimap.foldOnPhones({fmap.get_name()}, {control.get_name()});"))


def build_unit_map(settings: Settings, unit: Unit, bbox: tuple[float, float, float, float],
                   outline: dict, children: list[Unit], child_level: str | None,
                   child_url: str, layer_name: str, overlays: list[Overlay] | None = None,
                   texts: dict[str, str] | None = None,
                   child_colours: dict[str, str] | None = None, compact: bool = False,
                   counts: dict | None = None) -> MapParts:
    """Return the rendered parts of a unit's map; its size does not grow with the data.

    ``compact`` (embeds) collapses the layer switcher so a small frame keeps room for the map;
    ``counts`` draws the citizens' requests per commune (``portal.requests.counts.counts_overlay``).
    """
    fmap = _base_map(settings, bbox)
    folium.GeoJson(outline, name=unit.name, control=False, interactive=False,
                   style_function=lambda _f: {"color": "#b42318", "weight": 3, "fill": False}
                   ).add_to(fmap)
    if child_level:
        grid = _children_layer(unit, child_level, layer_name, child_colours).add_to(fmap)
        fmap.add_child(Script(
            f"epimap.bindUnitClicks({grid.get_name()}, {_json_for_script(unit.code)},"
            f" {_json_for_script(child_url)});"))
        fmap.add_child(_labels_script(fmap.get_name(), children))
    fmap.add_child(Script(f"epimap.register({fmap.get_name()});"))
    if overlays or counts:
        _add_overlays(fmap, overlays or [], texts or {}, compact, counts)
    _localise(fmap)
    figure = fmap.get_root()
    figure.render()
    header = FOLIUM_VIEWPORT.sub("", figure.header.render())
    return MapParts(header=Markup(header), body=Markup(figure.html.render()),
                    script=Markup(figure.script.render()), map_id=fmap.get_name())
