"""The layer catalogue, declared in ``catalog.yml`` and validated into typed records.

Each layer names its kind (``kind: point | polygon``; the ``statistics`` section is the one layer of
kind ``unit_stat``) and its flags: ``public``, ``searchable`` (the finder searches it by distance),
``blocks_access`` (a site inside one of its current areas is flagged, e.g. lockdown zones) and
``shown`` (drawn when a map opens).  An invalid file raises :class:`CatalogError` naming the file,
the line and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from boundaries.names import fold
from layers.kinds import KINDS, LayerKind

CATALOG_FILE = Path(__file__).with_name("catalog.yml")
STATISTICS_LAYER = "unit_stats"  # the id of the statistics section's layer (feeds, console, API)
REQUESTS_LAYER = "citizen_requests"  # the id of the requests section's layer (kind ``request``)
SERVICE_LEVELS = ("commune", "district", "province")
TYPES = ("text", "int", "number", "date", "phone", "choice")
LOCATION_ROLES = ("source_id", "latlon", "lat", "lon", "vn2000_x", "vn2000_y", "wkt",
                  "commune", "district")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class CatalogError(ValueError):
    """The catalogue file is invalid; the message names the place (file, line, key path) and reason."""

    def __init__(self, where: str, reason: str, file: str | None = None, line: int | None = None) -> None:
        place = ":".join(str(part) for part in (file, line) if part is not None)
        super().__init__(f"{place + ': ' if place else ''}{where}: {reason}")
        self.where, self.reason, self.file, self.line = where, reason, file, line


@dataclass(frozen=True)
class Attribute:
    """One attribute of a layer: its type, header aliases and whether the public sees it."""

    name: str
    type: str
    label_vi: str
    label_en: str
    aliases: tuple[str, ...]
    required: bool = False
    public: bool = True
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    default: str | None = None
    choice_labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (vi, en)

    def label(self, lang: str) -> str:
        """Return the attribute's name for people, in a language (vi or en)."""
        return self.label_en if lang == "en" else self.label_vi

    def choice_label(self, key: object, lang: str) -> str:
        """Return how people read a choice's key (``roadblock`` is "Rào chắn"); other values as they are."""
        labels = self.choice_labels.get(str(key))
        return str(key) if labels is None else labels[1 if lang == "en" else 0]


@dataclass(frozen=True)
class Layer:
    """One catalogue layer."""

    id: str
    title_vi: str
    title_en: str
    kind: LayerKind
    public: bool
    icon: str
    color: str
    attributes: tuple[Attribute, ...]
    cluster_below_zoom: int = 0
    searchable: bool = False
    blocks_access: bool = False
    shown: bool = False
    finder_key: str | None = None  # the finder page's ``kind=`` for this layer; None: not offered there

    @property
    def geometry(self) -> str:
        """Return the geometry type the ``layer`` table records (the kind's)."""
        return self.kind.geometry

    @property
    def has_period(self) -> bool:
        """Whether each feature is in force for a period: date attributes ``valid_from`` and ``valid_to``."""
        return all((a := self.attribute(name)) is not None and a.type == "date"
                   for name in ("valid_from", "valid_to"))

    def attribute(self, name: str) -> Attribute | None:
        """Return an attribute by name."""
        return next((a for a in self.attributes if a.name == name), None)

    @property
    def public_attributes(self) -> tuple[str, ...]:
        """Return the names of the attributes the public may see."""
        return tuple(a.name for a in self.attributes if a.public)

    def title(self, lang: str) -> str:
        """Return the title in a language."""
        return self.title_vi if lang == "vi" else self.title_en


@dataclass(frozen=True)
class Metric:
    """A statistic kept per unit and day."""

    id: str
    label_vi: str
    label_en: str
    additive: bool
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Service:
    """A kind of citizens' request (an Open311 service): who handles it and how soon."""

    code: str
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    level: str  # the level whose team handles it: commune, district or province
    assign_within_minutes: int  # the SLA clock: assigned within this, or escalated a level up

    def title(self, lang: str) -> str:
        """Return the kind's name in a language (vi or en)."""
        return self.title_en if lang == "en" else self.title_vi


@dataclass(frozen=True)
class Catalog:
    """Every layer, the shared location columns, the statistics' metrics and the request kinds."""

    layers: dict[str, Layer]
    location_columns: dict[str, tuple[str, ...]]
    metrics: dict[str, Metric]
    stat_columns: dict[str, tuple[str, ...]]
    requests_layer: Layer | None = None  # None: the portal takes no citizens' requests
    services: dict[str, Service] = field(default_factory=dict)

    def layer(self, layer_id: str) -> Layer | None:
        """Return a layer by id, or None when the catalogue has no such layer."""
        return self.layers.get(layer_id)

    def feature_layers(self) -> list[Layer]:
        """Return the layers whose rows are features (drawn on maps, tiles, exports, OGC)."""
        return [layer for layer in self.layers.values() if layer.kind.has_features]

    def searchable(self) -> dict[str, Layer]:
        """Return the public layers one may search by distance (/api/nearby), by id."""
        return {lid: layer for lid, layer in self.layers.items() if layer.searchable and layer.public}

    def finder_layers(self) -> dict[str, Layer]:
        """Return the searchable layers the finder page offers, by ``finder_key``, in catalogue order."""
        return {layer.finder_key: layer for layer in self.searchable().values() if layer.finder_key}

    def access_blockers(self) -> list[Layer]:
        """Return the layers whose current areas block access to the sites inside them."""
        return [layer for layer in self.layers.values() if layer.blocks_access]


def _need(data: Any, key: str, where: str) -> Any:
    if not isinstance(data, dict):
        raise CatalogError(where, "a mapping (key: value lines) expected")
    if key not in data:
        raise CatalogError(where, f"missing '{key}'")
    return data[key]


def _aliases(values: Any, where: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not values:
        raise CatalogError(where, "aliases must be a non-empty list")
    return tuple(fold(str(v)) + ("*" if str(v).endswith("*") else "") for v in values)


def _attribute(data: dict, where: str) -> Attribute:
    name = _need(data, "name", where)
    kind = _need(data, "type", where)
    if kind not in TYPES:
        raise CatalogError(where, f"unknown type '{kind}' (one of {', '.join(TYPES)})")
    label = _need(data, "label", where)
    choices = {k: _aliases(v, f"{where}.choices.{k}") for k, v in (data.get("choices") or {}).items()}
    if kind == "choice" and not choices:
        raise CatalogError(where, "a choice attribute needs choices")
    labels = data.get("labels") or {}
    if set(labels) != set(choices) or not all(isinstance(v, dict) for v in labels.values()):
        raise CatalogError(f"{where}.labels", "each choice needs its labels: {key: {vi: …, en: …}}")
    choice_labels = {k: (_need(v, "vi", f"{where}.labels.{k}"), _need(v, "en", f"{where}.labels.{k}"))
                     for k, v in labels.items()}
    return Attribute(name=name, type=kind, label_vi=_need(label, "vi", where),
                     label_en=_need(label, "en", where),
                     aliases=_aliases(_need(data, "aliases", where), where),
                     required=bool(data.get("required", False)), public=bool(data.get("public", True)),
                     choices=choices, default=data.get("default"), choice_labels=choice_labels)


_FEATURE_KINDS = tuple(name for name, kind in KINDS.items() if kind.has_features)


def _kind(data: dict, where: str) -> LayerKind:
    name = _need(data, "kind", where)
    if name not in _FEATURE_KINDS:
        raise CatalogError(f"{where}.kind", f"unknown kind '{name}' (one of {', '.join(_FEATURE_KINDS)})")
    return KINDS[name]


def _flags(data: dict, kind: LayerKind, where: str) -> dict[str, bool]:
    flags = {flag: data.get(flag, False) for flag in ("searchable", "blocks_access", "shown")}
    for flag, value in flags.items():
        if not isinstance(value, bool):
            raise CatalogError(f"{where}.{flag}", "true or false expected")
    if flags["searchable"] and not kind.may_be_searched:
        raise CatalogError(f"{where}.searchable", f"a {kind.name} layer cannot be searched by distance")
    if flags["blocks_access"] and not kind.may_block_access:
        raise CatalogError(f"{where}.blocks_access", f"a {kind.name} layer has no areas to block access")
    return flags


def _layer(layer_id: str, data: dict) -> Layer:
    where = f"layers.{layer_id}"
    if not _ID.match(layer_id) or layer_id in (STATISTICS_LAYER, REQUESTS_LAYER):
        raise CatalogError(where, f"ids are lower-case letters, digits and _ (not {STATISTICS_LAYER}"
                                  f" or {REQUESTS_LAYER})")
    kind = _kind(data, where)
    color = str(_need(data, "color", where))
    if not _COLOR.match(color):
        raise CatalogError(f"{where}.color", "color must look like #1570ef")
    listed = _need(data, "attributes", where)
    if not isinstance(listed, list):
        raise CatalogError(f"{where}.attributes", "a list of attributes expected")
    attributes = tuple(_attribute(a, f"{where}.attributes[{i}]") for i, a in enumerate(listed))
    names = [a.name for a in attributes]
    if len(set(names)) != len(names) or "name" not in names:
        raise CatalogError(f"{where}.attributes", "attribute names must be unique and include 'name'")
    title = _need(data, "title", where)
    finder_key = data.get("finder_key")
    if finder_key is not None and not (_ID.match(str(finder_key)) and data.get("searchable")):
        raise CatalogError(f"{where}.finder_key", "for searchable layers only: lower-case letters, digits, _")
    return Layer(id=layer_id, title_vi=_need(title, "vi", f"{where}.title"),
                 title_en=_need(title, "en", f"{where}.title"), kind=kind,
                 public=bool(_need(data, "public", where)), icon=str(_need(data, "icon", where)), color=color,
                 attributes=attributes, cluster_below_zoom=int(data.get("cluster_below_zoom", 0)),
                 finder_key=finder_key, **_flags(data, kind, where))


def _statistics_layer(stats: dict) -> Layer:
    """Return the statistics section as the catalogue's layer of kind ``unit_stat``."""
    title = _need(stats, "title", "statistics")
    return Layer(id=STATISTICS_LAYER, title_vi=_need(title, "vi", "statistics.title"),
                 title_en=_need(title, "en", "statistics.title"), kind=KINDS["unit_stat"], public=True,
                 icon="chart", color=str(stats.get("color", "#b42318")), attributes=())


def _requests_layer(section: dict) -> Layer:
    """Return the requests section as the catalogue's layer of kind ``request``."""
    title = _need(section, "title", "requests")
    color = str(section.get("color", "#dc6803"))
    if not _COLOR.match(color):
        raise CatalogError("requests.color", "color must look like #1570ef")
    return Layer(id=REQUESTS_LAYER, title_vi=_need(title, "vi", "requests.title"),
                 title_en=_need(title, "en", "requests.title"), kind=KINDS["request"], public=True,
                 icon="hand", color=color, attributes=())


def _services(section: dict) -> dict[str, Service]:
    kinds = _need(section, "kinds", "requests")
    if not isinstance(kinds, dict) or not kinds:
        raise CatalogError("requests.kinds", "a mapping of request kinds expected")
    return {str(code): _service(str(code), body, f"requests.kinds.{code}") for code, body in kinds.items()}


def _service(code: str, data: Any, where: str) -> Service:
    if not _ID.match(code) or not isinstance(data, dict):
        raise CatalogError(where, "ids are lower-case letters, digits and _, each with a mapping")
    title, about = _need(data, "title", where), data.get("description") or {}
    level = data.get("level", "commune")
    if level not in SERVICE_LEVELS:
        raise CatalogError(f"{where}.level", f"one of {', '.join(SERVICE_LEVELS)} expected")
    minutes = _need(data, "assign_within_minutes", where)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
        raise CatalogError(f"{where}.assign_within_minutes", "a positive whole number of minutes expected")
    return Service(code, _need(title, "vi", f"{where}.title"), _need(title, "en", f"{where}.title"),
                   str(about.get("vi", "")), str(about.get("en", "")), level, minutes)


def _metrics(stats: dict) -> dict[str, Metric]:
    metrics = _need(stats, "metrics", "statistics")
    if not isinstance(metrics, dict) or not metrics:
        raise CatalogError("statistics.metrics", "a mapping of metrics expected")
    return {mid: _metric(mid, m, f"statistics.metrics.{mid}") for mid, m in metrics.items()}


def _metric(metric_id: str, data: dict, where: str) -> Metric:
    return Metric(metric_id, _need(data, "vi", where), _need(data, "en", where),
                  bool(data.get("additive", True)), _aliases(data.get("aliases"), f"{where}.aliases"))


def _stat_columns(stats: dict) -> dict[str, tuple[str, ...]]:
    units = _need(stats, "unit_columns", "statistics")
    columns = {"commune": _need(units, "commune", "statistics.unit_columns"),
               "district": _need(units, "district", "statistics.unit_columns"),
               "province": units.get("province") or [],  # optional: province-level feeds
               **{role: _need(stats, f"{role}_column", "statistics") for role in ("date", "value", "metric")}}
    return {k: _aliases(v, f"statistics.{k}") for k, v in columns.items()}


def parse_catalog(data: Any) -> Catalog:
    """Validate catalogue data and return the typed catalogue."""
    if not isinstance(data, dict) or data.get("version") != 1:
        raise CatalogError("version", "'version: 1' expected")
    location = _need(data, "location_columns", "catalog")
    unknown = set(location) - set(LOCATION_ROLES)
    if unknown:
        raise CatalogError("location_columns", f"unknown roles {', '.join(sorted(unknown))}")
    declared = _need(data, "layers", "catalog")
    if not isinstance(declared, dict) or not declared:
        raise CatalogError("layers", "a mapping of layers expected")
    layers = {lid: _layer(str(lid), body) for lid, body in declared.items()}
    stats = _need(data, "statistics", "catalog")
    layers[STATISTICS_LAYER] = _statistics_layer(stats)
    requests = data.get("requests")
    return Catalog(layers=layers,
                   location_columns={k: _aliases(v, f"location_columns.{k}") for k, v in location.items()},
                   metrics=_metrics(stats), stat_columns=_stat_columns(stats),
                   requests_layer=_requests_layer(requests) if requests else None,
                   services=_services(requests) if requests else {})


def _line_of(node: yaml.Node | None, where: str) -> int | None:
    """Return the 1-based line of the YAML node at a key path like ``layers.x.attributes[2].type``."""
    line = None
    for part in re.findall(r"[^.\[\]]+", where):
        if isinstance(node, yaml.MappingNode):
            pair = next(((key, value) for key, value in node.value if key.value == part), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def load_catalog(path: Path | str = CATALOG_FILE) -> Catalog:
    """Read and validate a catalogue file; a :class:`CatalogError` names its file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data, root = yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except OSError as exc:
        raise CatalogError("catalog", f"cannot read the file ({exc.strerror})", str(path)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CatalogError("catalog", f"not valid YAML ({getattr(exc, 'problem', None) or exc})", str(path),
                           mark.line + 1 if mark else None) from exc
    try:
        return parse_catalog(data)
    except CatalogError as exc:
        raise CatalogError(exc.where, exc.reason, str(path), _line_of(root, exc.where)) from None


@cache
def default_catalog() -> Catalog:
    """Return the bundled catalogue, read once (tests and benchmarks; the portal and CLI load theirs)."""
    return load_catalog()
