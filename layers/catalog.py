"""The layer catalogue, declared in ``catalog.yml`` and validated into typed records."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from boundaries.names import fold

CATALOG_FILE = Path(__file__).with_name("catalog.yml")
GEOMETRIES = ("point", "polygon")
TYPES = ("text", "int", "number", "date", "phone", "choice")
LOCATION_ROLES = ("source_id", "latlon", "lat", "lon", "vn2000_x", "vn2000_y", "wkt",
                  "commune", "district")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class CatalogError(ValueError):
    """The catalogue file is invalid; the message names the place."""


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


@dataclass(frozen=True)
class Layer:
    """One catalogue layer."""

    id: str
    title_vi: str
    title_en: str
    geometry: str
    public: bool
    icon: str
    color: str
    attributes: tuple[Attribute, ...]
    cluster_below_zoom: int = 0

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
class Catalog:
    """Every layer, the shared location columns and the statistics' metrics."""

    layers: dict[str, Layer]
    location_columns: dict[str, tuple[str, ...]]
    metrics: dict[str, Metric]
    stat_columns: dict[str, tuple[str, ...]]

    def layer(self, layer_id: str) -> Layer | None:
        """Return a layer by id, or None when the catalogue has no such layer."""
        return self.layers.get(layer_id)


def _need(data: dict, key: str, where: str) -> Any:
    if key not in data:
        raise CatalogError(f"{where}: missing '{key}'")
    return data[key]


def _aliases(values: Any, where: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not values:
        raise CatalogError(f"{where}: aliases must be a non-empty list")
    return tuple(fold(str(v)) + ("*" if str(v).endswith("*") else "") for v in values)


def _attribute(data: dict, where: str) -> Attribute:
    name = _need(data, "name", where)
    kind = _need(data, "type", where)
    if kind not in TYPES:
        raise CatalogError(f"{where}: unknown type '{kind}' (one of {', '.join(TYPES)})")
    label = _need(data, "label", where)
    choices = {k: _aliases(v, f"{where}.choices.{k}") for k, v in (data.get("choices") or {}).items()}
    if kind == "choice" and not choices:
        raise CatalogError(f"{where}: a choice attribute needs choices")
    return Attribute(name=name, type=kind, label_vi=_need(label, "vi", where),
                     label_en=_need(label, "en", where),
                     aliases=_aliases(_need(data, "aliases", where), where),
                     required=bool(data.get("required", False)), public=bool(data.get("public", True)),
                     choices=choices, default=data.get("default"))


def _layer(layer_id: str, data: dict) -> Layer:
    where = f"layers.{layer_id}"
    if not _ID.match(layer_id):
        raise CatalogError(f"{where}: ids are lower-case letters, digits and _")
    geometry = _need(data, "geometry", where)
    if geometry not in GEOMETRIES:
        raise CatalogError(f"{where}: geometry must be one of {', '.join(GEOMETRIES)}")
    color = str(_need(data, "color", where))
    if not _COLOR.match(color):
        raise CatalogError(f"{where}: color must look like #1570ef")
    attributes = tuple(_attribute(a, f"{where}.attributes[{i}]")
                       for i, a in enumerate(_need(data, "attributes", where)))
    names = [a.name for a in attributes]
    if len(set(names)) != len(names) or "name" not in names:
        raise CatalogError(f"{where}: attribute names must be unique and include 'name'")
    title = _need(data, "title", where)
    return Layer(id=layer_id, title_vi=_need(title, "vi", where), title_en=_need(title, "en", where),
                 geometry=geometry, public=bool(_need(data, "public", where)),
                 icon=str(_need(data, "icon", where)), color=color, attributes=attributes,
                 cluster_below_zoom=int(data.get("cluster_below_zoom", 0)))


def parse_catalog(data: dict) -> Catalog:
    """Validate catalogue data and return the typed catalogue."""
    if not isinstance(data, dict) or data.get("version") != 1:
        raise CatalogError("catalog: 'version: 1' expected")
    location = _need(data, "location_columns", "catalog")
    unknown = set(location) - set(LOCATION_ROLES)
    if unknown:
        raise CatalogError(f"location_columns: unknown roles {', '.join(sorted(unknown))}")
    layers = {lid: _layer(lid, body) for lid, body in _need(data, "layers", "catalog").items()}
    stats = _need(data, "statistics", "catalog")
    metrics = {mid: Metric(mid, _need(m, "vi", f"metrics.{mid}"), _need(m, "en", f"metrics.{mid}"),
                           bool(m.get("additive", True)), _aliases(m.get("aliases"), f"metrics.{mid}"))
               for mid, m in _need(stats, "metrics", "statistics").items()}
    columns = {"commune": stats["unit_columns"]["commune"], "district": stats["unit_columns"]["district"],
               "date": stats["date_column"], "value": stats["value_column"],
               "metric": stats["metric_column"]}
    return Catalog(layers=layers,
                   location_columns={k: _aliases(v, f"location_columns.{k}") for k, v in location.items()},
                   metrics=metrics,
                   stat_columns={k: _aliases(v, f"statistics.{k}") for k, v in columns.items()})


def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    """Read and validate a catalogue file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read {path}: {exc}") from exc
    return parse_catalog(data)


@cache
def default_catalog() -> Catalog:
    """Return the bundled catalogue, read once."""
    return load_catalog()
