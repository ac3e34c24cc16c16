"""Match a feed's headers to a layer's attributes and to the shared location columns."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from boundaries.names import fold
from ingest.errors import FeedError
from layers.catalog import Catalog, Layer

_PARENTHESES = re.compile(r"\([^)]*\)")


@dataclass(frozen=True)
class ColumnMap:
    """Which header feeds which attribute or location role."""

    attributes: dict[str, str] = field(default_factory=dict)
    location: dict[str, str] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()


def header_forms(header: str) -> tuple[str, ...]:
    """Return the folded forms of a header to compare with aliases: whole, then without "(…)".

    >>> header_forms("Tọa độ (vĩ độ, kinh độ)")
    ('toa do vi do kinh do', 'toa do')
    >>> header_forms("Vĩ độ")
    ('vi do',)
    """
    whole = fold(header)
    bare = fold(_PARENTHESES.sub(" ", header))
    return (whole,) if bare in ("", whole) else (whole, bare)


def alias_matches(alias: str, form: str, prefix: bool) -> bool:
    """Tell whether a folded header form matches an alias (exactly, or as a word prefix).

    >>> alias_matches("ten*", "ten chot", True), alias_matches("ten*", "tenant", True)
    (True, False)
    >>> alias_matches("vi do", "vi do", False), alias_matches("ten*", "ten chot", False)
    (True, False)
    """
    if alias.endswith("*"):
        stem = alias[:-1]
        return prefix and (form == stem or form.startswith(stem + " "))
    return form == alias


def _targets(layer: Layer, catalog: Catalog) -> list[tuple[str, str, tuple[str, ...]]]:
    """Return (kind, name, aliases) for the location roles, then the layer's attributes."""
    roles = [("location", role, aliases) for role, aliases in catalog.location_columns.items()]
    return roles + [("attribute", a.name, a.aliases) for a in layer.attributes]


def _find(header: str, targets: Iterable[tuple[str, str, tuple[str, ...]]], taken: set[tuple[str, str]]
          ) -> tuple[str, str] | None:
    for prefix in (False, True):
        for form in header_forms(header):
            for kind, name, aliases in targets:
                if (kind, name) not in taken and any(alias_matches(a, form, prefix) for a in aliases):
                    return kind, name
    return None


def map_headers(headers: list[str], layer: Layer, catalog: Catalog) -> ColumnMap:
    """Map each header to at most one target; the first header claiming a target wins."""
    targets = _targets(layer, catalog)
    taken: set[tuple[str, str]] = set()
    found: dict[str, dict[str, str]] = {"attribute": {}, "location": {}}
    ignored = []
    for header in headers:
        match = _find(header, targets, taken)
        if match is None:
            ignored.append(header)
            continue
        taken.add(match)
        found[match[0]][match[1]] = header
    return ColumnMap(found["attribute"], found["location"], tuple(ignored))


def header_scorer(layer: Layer, catalog: Catalog) -> Callable[[list[str]], int]:
    """Return a function scoring a candidate header row by how many cells it can map."""

    def score(cells: list[str]) -> int:
        mapping = map_headers([c for c in cells if c], layer, catalog)
        return len(mapping.attributes) + len(mapping.location)

    return score


def _locatable(location: dict[str, str], layer: Layer) -> bool:
    return "commune" in location or any(columns <= location.keys() for columns in layer.kind.located_by)


class WrongLayer(FeedError):
    """The file's headers fit another layer's attributes better than the chosen layer's."""

    def __init__(self, layer: Layer, better: Layer, own: int, theirs: int) -> None:
        super().__init__(
            "wrong_layer",
            f"Tệp này giống tệp của lớp “{better.title_vi}” ({better.id}: khớp {theirs} cột) hơn lớp"
            f" “{layer.title_vi}” đã chọn (khớp {own} cột); không xem trước. Hãy chọn lại lớp.",
            f"This file looks like a file of layer '{better.title_en}' ({better.id}: {theirs} columns"
            f" match) more than of the chosen layer '{layer.title_en}' ({own} match); not previewed."
            " Choose the layer again.")
        self.better = better.id

    def as_dict(self) -> dict[str, str]:
        """Return the error with the layer the file fits better."""
        return {**super().as_dict(), "layer": self.better}


def _fits(mapping: ColumnMap, layer: Layer) -> bool:
    """Tell whether a mapping has every required attribute of the layer and a way to locate rows."""
    return (all(a.name in mapping.attributes for a in layer.attributes if a.required)
            and _locatable(mapping.location, layer))


def better_layer(headers: list[str], layer: Layer, catalog: Catalog) -> tuple[Layer, int, int] | None:
    """Return the layer of features the headers fit strictly better, with both attribute counts."""
    own = len(map_headers(headers, layer, catalog).attributes)
    best: tuple[Layer, int, int] | None = None
    for other in catalog.layers.values():
        if other.id == layer.id or not other.kind.has_features:
            continue
        mapping = map_headers(headers, other, catalog)
        theirs = len(mapping.attributes)
        if theirs > (best[2] if best else own) and _fits(mapping, other):
            best = (other, own, theirs)
    return best


def check_layer(headers: list[str], layer: Layer, catalog: Catalog) -> None:
    """Refuse a table whose headers fit another layer better, naming that layer."""
    found = better_layer(headers, layer, catalog)
    if found is not None:
        better, own, theirs = found
        raise WrongLayer(layer, better, own, theirs)


def check_columns(mapping: ColumnMap, layer: Layer, headers: list[str]) -> None:
    """Refuse a table that lacks a required column or any way to locate its rows."""
    if not mapping.attributes and not mapping.location:
        raise FeedError(
            "unknown_layout",
            f"Không nhận ra cột nào của lớp “{layer.title_vi}” trong các tiêu đề: {_list(headers)}.",
            f"No column of layer '{layer.title_en}' recognised among the headers: {_list(headers)}.",
        )
    missing = [a for a in layer.attributes if a.required and a.name not in mapping.attributes]
    if missing:
        raise FeedError(
            "missing_columns",
            f"Tệp thiếu cột bắt buộc của lớp “{layer.title_vi}”: "
            f"{', '.join(a.label_vi for a in missing)}. Có phải tệp của lớp khác?",
            f"The file lacks required columns of layer '{layer.title_en}': "
            f"{', '.join(a.label_en for a in missing)}. Is it a file for another layer?",
        )
    if not _locatable(mapping.location, layer):
        raise FeedError(
            "no_location_columns",
            "Tệp không có cột tọa độ hay cột xã/phường để xác định vị trí.",
            "The file has no coordinate column and no commune column to locate its rows.",
        )


def _list(headers: list[str]) -> str:
    shown = ", ".join(h[:40] for h in headers[:12])
    return shown + (" …" if len(headers) > 12 else "")
