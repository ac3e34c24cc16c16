"""Turn one feed row into a candidate feature: typed attributes and a WGS84 geometry."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import shapely

from boundaries.names import fold
from ingest.coords import fix_lat_lon, parse_coordinate, parse_latlon_pair, parse_wkt_polygon, vn2000_to_wgs84
from ingest.errors import Problem, ValueProblem
from ingest.mapping import ColumnMap
from ingest.readers import Row
from ingest.values import clean_text, parse_date, parse_int, parse_number, parse_phone
from layers.catalog import Attribute, Layer


class RowRejected(Exception):
    """The row cannot become a feature; carries the problem and the column at fault."""

    def __init__(self, problem: Problem, column: str | None) -> None:
        super().__init__(problem.message_en)
        self.problem = problem
        self.column = column


@dataclass
class Candidate:
    """A parsed row waiting to be located and published."""

    sheet: str | None
    row: int
    props: dict[str, Any]
    geometry: shapely.Geometry | None  # a polygon; points are kept as numbers in ``xy``
    source_id: str | None = None
    commune: str | None = None
    district: str | None = None
    warnings: list[tuple[Problem, str | None]] = field(default_factory=list)
    xy: tuple[float, float] | None = None  # a point's (lon, lat): cheaper than a shapely Point

    @property
    def located(self) -> bool:
        """Tell whether the row gave a point or a polygon."""
        return self.xy is not None or self.geometry is not None


@dataclass(frozen=True)
class RowContext:
    """What parsing needs besides the row: the layer, its column map, the province."""

    layer: Layer
    columns: ColumnMap
    province_code: str


def _choice(attribute: Attribute, raw: Any) -> str:
    folded = fold(str(raw))
    for choice, aliases in attribute.choices.items():
        if folded == choice or folded in aliases:
            return choice
    raise ValueProblem(
        "unknown_choice",
        f"Giá trị “{str(raw)[:50]}” không thuộc các lựa chọn: {', '.join(attribute.choices)}.",
        f"Value '{str(raw)[:50]}' is not one of: {', '.join(attribute.choices)}.",
    )


def typed_value(attribute: Attribute, raw: Any) -> Any:
    """Return a raw cell read as its attribute's type, or raise :class:`ValueProblem`."""
    if attribute.type == "int":
        return parse_int(raw)
    if attribute.type == "number":
        return parse_number(raw)
    if attribute.type == "date":
        parsed: date | None = parse_date(raw)
        return parsed.isoformat() if parsed else None
    if attribute.type == "phone":
        return parse_phone(raw)
    if attribute.type == "choice":
        return _choice(attribute, raw) if clean_text(raw) else attribute.default
    return clean_text(raw)


def _attribute(attribute: Attribute, row: Row, header: str | None, candidate: Candidate) -> Any:
    raw = row.cells.get(header) if header else None
    if attribute.type == "text" and type(raw) is str and len(raw) <= _SURELY_SHORT and raw.isprintable():
        value = " ".join(unicodedata.normalize("NFC", raw).split()) or None  # clean_text, in short
    else:
        value = _typed_or_warn(attribute, raw, header, candidate)
    if value is None and attribute.required:
        raise RowRejected(_missing(attribute), header)
    return value if value is not None else attribute.default


def _typed_or_warn(attribute: Attribute, raw: Any, header: str | None, candidate: Candidate) -> Any:
    """Return the typed value; for phones and choices warn and keep the text or default instead."""
    try:
        return typed_value(attribute, raw)
    except ValueProblem as problem:
        if attribute.type in ("phone", "choice"):  # keep the row, keep the text, warn
            candidate.warnings.append((problem, header))
            return clean_text(raw) if attribute.type == "phone" else attribute.default
        raise RowRejected(problem, header) from problem


def _missing(attribute: Attribute) -> Problem:
    return Problem(f"missing_{attribute.name}",
                   f"Thiếu giá trị bắt buộc: {attribute.label_vi}.",
                   f"Missing required value: {attribute.label_en}.")


# NFC at most triples a text's length, so printable text this short is never too long to keep.
_SURELY_SHORT = 500 // 3


def _filled(value: Any) -> bool:
    """Tell whether ``clean_text`` keeps the cell (raising as it does on overlong text)."""
    if type(value) is str and 0 < len(value) <= _SURELY_SHORT and value.isprintable():
        return not value.isspace()  # the only whitespace printable text holds is the space
    if type(value) is float:
        return not math.isnan(value)  # any other float prints as a few characters
    return clean_text(value) is not None


def _cell(row: Row, columns: ColumnMap, role: str) -> Any:
    header = columns.location.get(role)
    if not header:
        return None
    value = row.cells.get(header)
    return value if _filled(value) else None


def _separate_lat_lon(lat_cell: Any, lon_cell: Any) -> tuple[float, float, bool]:
    """Read a latitude and a longitude cell; return (lat, lon, crossed), crossed when the cells only
    read the other way round (e.g. 106.65 in the latitude column), so the swap can be fixed and warned."""
    try:
        return parse_coordinate(lat_cell, "lat"), parse_coordinate(lon_cell, "lon"), False
    except ValueProblem as problem:
        try:
            return parse_coordinate(lon_cell, "lat"), parse_coordinate(lat_cell, "lon"), True
        except ValueProblem:
            raise problem from None


def _point(row: Row, context: RowContext, candidate: Candidate) -> tuple[float, float] | None:
    columns = context.columns
    role, crossed = "latlon", False
    try:
        if _cell(row, columns, "latlon") is not None:
            lat, lon = parse_latlon_pair(row.cells[columns.location["latlon"]])
        elif _cell(row, columns, "lat") is not None and _cell(row, columns, "lon") is not None:
            role = "lat"
            lat, lon, crossed = _separate_lat_lon(row.cells[columns.location["lat"]],
                                                  row.cells[columns.location["lon"]])
        elif _cell(row, columns, "vn2000_x") is not None and _cell(row, columns, "vn2000_y") is not None:
            role = "vn2000_x"
            lat, lon = vn2000_to_wgs84(parse_number(row.cells[columns.location["vn2000_x"]]),
                                       parse_number(row.cells[columns.location["vn2000_y"]]),
                                       province_code=context.province_code)
        else:
            return None
        lat, lon, swapped = fix_lat_lon(lat, lon)
        swapped = swapped or crossed
    except ValueProblem as problem:
        raise RowRejected(problem, columns.location.get(role)) from problem
    if swapped:
        candidate.warnings.append((Problem(
            "swapped_lat_lon", "Vĩ độ và kinh độ bị đảo ngược; đã sửa.",
            "Latitude and longitude were swapped; fixed."), columns.location.get(role)))
    return float(lon), float(lat)


def _polygon(row: Row, context: RowContext) -> shapely.Geometry | None:
    header = context.columns.location.get("wkt")
    if header is None or _cell(row, context.columns, "wkt") is None:
        return None
    try:
        return parse_wkt_polygon(row.cells[header])
    except ValueProblem as problem:
        raise RowRejected(problem, header) from problem


def _check_dates(props: dict[str, Any], context: RowContext) -> None:
    start, end = props.get("valid_from"), props.get("valid_to")
    if start and end and end < start:
        layer = context.layer
        header = context.columns.attributes.get("valid_to")
        raise RowRejected(Problem(
            "invalid_date_range",
            f"{layer.attribute('valid_to').label_vi} ({end}) trước {layer.attribute('valid_from').label_vi}"
            f" ({start}).",
            f"{layer.attribute('valid_to').label_en} ({end}) is before "
            f"{layer.attribute('valid_from').label_en} ({start}).",
        ), header)


def parse_row(row: Row, context: RowContext) -> Candidate:
    """Parse a row into a candidate, or raise ``RowRejected`` with the reason and column."""
    columns = context.columns
    candidate = Candidate(sheet=row.sheet, row=row.number, props={}, geometry=None)
    for attribute in context.layer.attributes:
        candidate.props[attribute.name] = _attribute(
            attribute, row, columns.attributes.get(attribute.name), candidate)
    _check_dates(candidate.props, context)
    if context.layer.kind.areas:
        candidate.geometry = _polygon(row, context)
    else:
        candidate.xy = _point(row, context, candidate)
    candidate.source_id = clean_text(_cell(row, columns, "source_id"))
    candidate.commune = clean_text(_cell(row, columns, "commune"))
    candidate.district = clean_text(_cell(row, columns, "district"))
    if not candidate.located and not candidate.commune:
        raise RowRejected(Problem(
            "no_location", "Không có tọa độ và không có tên xã/phường để xác định vị trí.",
            "No coordinates and no commune name to locate the row."),
            columns.location.get("latlon") or columns.location.get("lat") or columns.location.get("wkt"))
    return candidate
