"""Pure parsers for coordinates, VN-2000 survey grids and WKT areas in CDC spreadsheets.

Codes raised: ``invalid_coordinate``, ``outside_vietnam``, ``unknown_vn2000_zone`` and
``invalid_geometry`` (all :class:`ingest.errors.ValueProblem`).

VN-2000 central meridians per province come from Circular 973/2001/TT-TCĐC (Tổng cục
Địa chính, 20/6/2001, appendix "Kinh tuyến trục theo từng tỉnh"), keyed here by the
pre-2025 GSO province code (63 provinces).  Provinces split after 2001 inherit their
parent's meridian (Điện Biên from Lai Châu, Đắk Nông from Đắk Lắk, Hậu Giang from Cần
Thơ; Hà Tây merged into Hà Nội).  Every one of those meridians has an EPSG TM-3 CRS
(k=0.9999, false easting 500 km, datum VN-2000 EPSG:4756), see ``_EPSG_BY_MERIDIAN``;
PROJ then applies EPSG's "VN-2000 to WGS 84 (2)" Helmert transformation, whose values are
the official ones of Decision 05/2007/QĐ-BTNMT.  Meridians without an EPSG code are built
on the same EPSG:4756 datum rather than from a ``+towgs84`` string: PROJ reads
``+towgs84`` rotations as position-vector while EPSG uses coordinate-frame, so the
string would land about 1.3 m away from the EPSG zones.
"""

from __future__ import annotations

import functools
import math
import re

import shapely
from pyproj import CRS, Transformer
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import TransverseMercatorConversion
from shapely.geometry import MultiPolygon, Polygon

from ingest.errors import ValueProblem
from ingest.values import Cell, quote_value

#: Rough box around Vietnam incl. Hoàng Sa/Trường Sa: (min_lon, min_lat, max_lon, max_lat).
#: A plausibility check only (it also holds e.g. Hainan); boundaries are checked elsewhere.
VIETNAM_BBOX: tuple[float, float, float, float] = (102.1, 8.1, 117.9, 23.4)

#: Central meridian (degrees east) of the VN-2000 TM-3 grid of each GSO province code.
PROVINCE_CENTRAL_MERIDIAN: dict[str, float] = {
    "01": 105.0,  # Hà Nội
    "02": 105.5,  # Hà Giang
    "04": 105.75,  # Cao Bằng
    "06": 106.5,  # Bắc Kạn
    "08": 106.0,  # Tuyên Quang
    "10": 104.75,  # Lào Cai
    "11": 103.0,  # Điện Biên
    "12": 103.0,  # Lai Châu
    "14": 104.0,  # Sơn La
    "15": 104.75,  # Yên Bái
    "17": 106.0,  # Hoà Bình
    "19": 106.5,  # Thái Nguyên
    "20": 107.25,  # Lạng Sơn
    "22": 107.75,  # Quảng Ninh
    "24": 107.0,  # Bắc Giang
    "25": 104.75,  # Phú Thọ
    "26": 105.0,  # Vĩnh Phúc
    "27": 105.5,  # Bắc Ninh
    "30": 105.5,  # Hải Dương
    "31": 105.75,  # Hải Phòng
    "33": 105.5,  # Hưng Yên
    "34": 105.5,  # Thái Bình
    "35": 105.0,  # Hà Nam
    "36": 105.5,  # Nam Định
    "37": 105.0,  # Ninh Bình
    "38": 105.0,  # Thanh Hoá
    "40": 104.75,  # Nghệ An
    "42": 105.5,  # Hà Tĩnh
    "44": 106.0,  # Quảng Bình
    "45": 106.25,  # Quảng Trị
    "46": 107.0,  # Thừa Thiên Huế
    "48": 107.75,  # Đà Nẵng
    "49": 107.75,  # Quảng Nam
    "51": 108.0,  # Quảng Ngãi
    "52": 108.25,  # Bình Định
    "54": 108.5,  # Phú Yên
    "56": 108.25,  # Khánh Hoà
    "58": 108.25,  # Ninh Thuận
    "60": 108.5,  # Bình Thuận
    "62": 107.5,  # Kon Tum
    "64": 108.5,  # Gia Lai
    "66": 108.5,  # Đắk Lắk
    "67": 108.5,  # Đắk Nông
    "68": 107.75,  # Lâm Đồng
    "70": 106.25,  # Bình Phước
    "72": 105.5,  # Tây Ninh
    "74": 105.75,  # Bình Dương
    "75": 107.75,  # Đồng Nai
    "77": 107.75,  # Bà Rịa - Vũng Tàu
    "79": 105.75,  # TP Hồ Chí Minh
    "80": 105.75,  # Long An
    "82": 105.75,  # Tiền Giang
    "83": 105.75,  # Bến Tre
    "84": 105.5,  # Trà Vinh
    "86": 105.5,  # Vĩnh Long
    "87": 105.0,  # Đồng Tháp
    "89": 104.75,  # An Giang
    "91": 104.5,  # Kiên Giang
    "92": 105.0,  # Cần Thơ
    "93": 105.0,  # Hậu Giang
    "94": 105.5,  # Sóc Trăng
    "95": 105.0,  # Bạc Liêu
    "96": 104.5,  # Cà Mau
}

#: EPSG "VN-2000 / TM-3 …" CRS per central meridian (checked against pyproj in the tests).
_EPSG_BY_MERIDIAN: dict[float, int] = {
    102.0: 5896, 103.0: 9205, 104.0: 9206, 104.5: 9207, 104.75: 9208, 105.0: 5897,
    105.5: 9209, 105.75: 9210, 106.0: 9211, 106.25: 9212, 106.5: 9213, 107.0: 9214,
    107.25: 9215, 107.5: 9216, 107.75: 5899, 108.0: 5898, 108.25: 9217, 108.5: 9218,
}

_NORTHING = (900_000.0, 2_700_000.0)
_EASTING = (100_000.0, 900_000.0)


def _coordinate_problem(value: object, why_vi: str = "", why_en: str = "") -> ValueProblem:
    shown = quote_value(value)
    return ValueProblem(
        "invalid_coordinate",
        f"Không đọc được tọa độ từ giá trị “{shown}”{why_vi}.",
        f"Cannot read a coordinate from “{shown}”{why_en}.",
    )


def _outside(lat: float, lon: float) -> ValueProblem:
    return ValueProblem(
        "outside_vietnam",
        f"Tọa độ (vĩ độ {lat:g}, kinh độ {lon:g}) nằm ngoài lãnh thổ Việt Nam.",
        f"Coordinates (lat {lat:g}, lon {lon:g}) are outside Vietnam.",
    )


# --------------------------------------------------------------------------- degrees

_NUM = r"\d+(?:[.,]\d+)?"
_ANGLE = re.compile(
    rf"""(?P<pre>[NSEW])?\s*(?P<sign>[+-])?\s*(?P<deg>{_NUM})
    (?:\s*°(?:\s*(?P<min>{_NUM})\s*'(?:\s*(?P<sec>{_NUM})\s*"?)?)?)?
    \s*(?P<post>[NSEW])?""",
    re.X,
)
_PLAIN_DEGREES = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)\s*", re.ASCII)
_SYMBOLS = str.maketrans({
    "º": "°", "˚": "°", "′": "'", "’": "'", "‘": "'", "´": "'", "`": "'",
    "″": '"', "”": '"', "“": '"', "−": "-", "\u00a0": " ",
})


def _normalise_angle_text(text: str) -> str:
    for double in ("''", "′′", "’’"):
        text = text.replace(double, '"')
    return " ".join(text.translate(_SYMBOLS).upper().split())


def _angle(text: str, original: object) -> tuple[float, str | None]:
    """Parse one normalised angle; return degrees and "lat"/"lon" if a letter said so."""
    match = _ANGLE.fullmatch(text)
    if match is None or (match["pre"] and match["post"]):
        raise _coordinate_problem(original)
    letter = match["pre"] or match["post"]
    parts = [float(p.replace(",", ".")) if p else 0.0 for p in match.group("deg", "min", "sec")]
    if (match["min"] and not parts[0].is_integer()) or (match["sec"] and not parts[1].is_integer()):
        raise _coordinate_problem(original)
    if parts[1] >= 60 or parts[2] >= 60:
        raise _coordinate_problem(original, " (phút/giây phải nhỏ hơn 60)",
                                  " (minutes/seconds must be below 60)")
    degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
    if letter and match["sign"]:
        raise _coordinate_problem(original)
    if match["sign"] == "-" or letter in ("S", "W"):
        degrees = -degrees
    axis = None if letter is None else ("lat" if letter in "NS" else "lon")
    if abs(degrees) > (90 if axis == "lat" else 180):
        raise _coordinate_problem(original, " (ngoài phạm vi)", " (out of range)")
    return degrees, axis


def parse_coordinate(value: Cell, axis: str | None = None) -> float:
    """Read one latitude or longitude in decimal degrees, DMS or degrees + minutes.

    A hemisphere letter (before or after) makes S/W negative; ``axis`` ("lat"/"lon")
    rejects letters of the other axis and values beyond ±90 for latitudes.

    >>> parse_coordinate("106.65"), parse_coordinate("106,649447"), parse_coordinate(-8.5)
    (106.65, 106.649447, -8.5)
    >>> round(parse_coordinate('106°34\\'13.4"E'), 6), round(parse_coordinate("11°8′39″N"), 6)
    (106.570389, 11.144167)
    >>> parse_coordinate("N 10°56.5'"), parse_coordinate("33°52'S", axis="lat")
    (10.941666666666666, -33.86666666666667)
    >>> parse_coordinate("106°34'E", axis="lat")
    Traceback (most recent call last):
    ingest.errors.ValueProblem: Cannot read a coordinate from “106°34'E” (longitude given where a latitude was expected).
    """  # noqa: E501
    if axis not in (None, "lat", "lon"):
        raise ValueError(f"axis must be 'lat', 'lon' or None, not {axis!r}")
    if isinstance(value, bool) or value is None:
        raise _coordinate_problem(value)
    if isinstance(value, int | float):
        degrees, found = float(value), None
        if not math.isfinite(degrees) or abs(degrees) > 180:
            raise _coordinate_problem(value, " (ngoài phạm vi)", " (out of range)")
    elif isinstance(value, str):
        plain = _PLAIN_DEGREES.fullmatch(value)
        if plain is not None and abs(degrees := float(plain[1])) <= (90 if axis == "lat" else 180):
            return degrees  # plain decimal degrees, the usual cell: what _angle reads, sooner
        degrees, found = _angle(_normalise_angle_text(value), value)
    else:
        raise _coordinate_problem(value)
    if axis and found and axis != found:
        names = {"lat": ("vĩ độ", "latitude"), "lon": ("kinh độ", "longitude")}
        raise _coordinate_problem(
            value,
            f" (có {names[found][0]} ở chỗ cần {names[axis][0]})",
            f" ({names[found][1]} given where a {names[axis][1]} was expected)",
        )
    if axis == "lat" and abs(degrees) > 90:
        raise _coordinate_problem(value, " (ngoài phạm vi)", " (out of range)")
    return degrees


def _split_candidates(text: str) -> list[list[tuple[str, str]]]:
    """List the ways to cut a pair cell in two, grouped by separator, most explicit first."""
    strategies: list[list[tuple[str, str]]] = []
    for separator in (";", ","):
        if text.count(separator) == 1:
            first, second = text.split(separator)
            strategies.append([(first, second)])
    if len(comma_space := list(re.finditer(r",\s+", text))) == 1:
        strategies.append([(text[: comma_space[0].start()], text[comma_space[0].end() :])])
    cuts = {m.start() for m in re.finditer(r"\s+", text)}
    cuts |= {m.start() for m in re.finditer("[NSEW]", text)}
    cuts |= {m.end() for m in re.finditer("[NSEW]", text)}
    strategies.append([(text[:cut], text[cut:]) for cut in sorted(cuts) if 0 < cut < len(text)])
    return strategies


def _read_pair(first: str, second: str) -> tuple[float, float] | None:
    """Parse two halves of a pair cell into (lat, lon), or None if they do not fit."""
    try:
        (a, axis_a), (b, axis_b) = _angle(first.strip(), first), _angle(second.strip(), second)
    except ValueProblem:
        return None
    axes = {axis_a, axis_b} - {None}
    if len(axes) == 1:  # one letter given: the other half is the other axis
        other = "lat" if "lon" in axes else "lon"
        axis_a, axis_b = axis_a or other, axis_b or other
    if axis_a is not None and axis_a == axis_b:
        return None
    lat, lon = (b, a) if axis_a == "lon" else (a, b)
    return (lat, lon) if axis_a is None or abs(lat) <= 90 else None


def parse_latlon_pair(value: Cell) -> tuple[float, float]:
    """Read a "lat, lon" cell (separated by comma, semicolon or space) as (lat, lon).

    Decimal commas work with ``;`` or space separators.  Without hemisphere letters the
    order is taken as written (use :func:`fix_lat_lon` to catch swapped pairs); with
    letters the result is always (lat, lon).  A cell that splits in two valid ways is
    rejected rather than guessed.

    >>> parse_latlon_pair("10.9248, 106.6874"), parse_latlon_pair("10,9248; 106,6874")
    ((10.9248, 106.6874), (10.9248, 106.6874))
    >>> parse_latlon_pair("(10,9248 106,6874)")
    (10.9248, 106.6874)
    >>> tuple(round(v, 4) for v in parse_latlon_pair('106°34\\'13.4"E 11°08\\'39.0"N'))
    (11.1442, 106.5704)
    >>> parse_latlon_pair("10.9248")
    Traceback (most recent call last):
    ingest.errors.ValueProblem: Cannot read a coordinate from “10.9248” (expected “latitude, longitude”).
    """  # noqa: E501
    if isinstance(value, str) and value.strip():
        text = _normalise_angle_text(value).strip("()[]{} ")
        for candidates in _split_candidates(text):
            results = {pair for cut in candidates if (pair := _read_pair(*cut))}
            if len(results) == 1:
                return results.pop()
            if results:
                break  # ambiguous: several readings
    raise _coordinate_problem(value, " (cần “vĩ độ, kinh độ”)",
                              " (expected “latitude, longitude”)")


def _inside(lat: float, lon: float) -> bool:
    min_lon, min_lat, max_lon, max_lat = VIETNAM_BBOX
    return min_lat <= lat <= max_lat and min_lon <= lon <= max_lon


def fix_lat_lon(lat: float, lon: float) -> tuple[float, float, bool]:
    """Check a point lies in VIETNAM_BBOX, swapping lat/lon if only that fits.

    Returns ``(lat, lon, swapped)``; the caller should warn when ``swapped`` is True.

    >>> fix_lat_lon(10.98, 106.65), fix_lat_lon(106.65, 10.98)
    ((10.98, 106.65, False), (10.98, 106.65, True))
    >>> fix_lat_lon(0, 0)
    Traceback (most recent call last):
    ingest.errors.ValueProblem: Coordinates (lat 0, lon 0) are outside Vietnam.
    """
    if _inside(lat, lon):
        return lat, lon, False
    if _inside(lon, lat):
        return lon, lat, True
    raise _outside(lat, lon)


# --------------------------------------------------------------------------- VN-2000


def _in(value: float, bounds: tuple[float, float]) -> bool:
    return math.isfinite(value) and bounds[0] < value < bounds[1]


def looks_like_vn2000(a: float, b: float) -> bool:
    """Tell whether two numbers look like VN-2000 metres (a northing and an easting).

    >>> looks_like_vn2000(1216603.76, 598156.23), looks_like_vn2000(598156.23, 1216603.76)
    (True, True)
    >>> looks_like_vn2000(10.98, 106.65), looks_like_vn2000(1216603.76, 1216603.76)
    (False, False)
    """
    return (_in(a, _NORTHING) and _in(b, _EASTING)) or (_in(b, _NORTHING) and _in(a, _EASTING))


def _meridian(province_code: str | None, central_meridian: float | None) -> float:
    """Resolve the TM-3 central meridian from a province code or an explicit value."""
    if province_code is not None:
        code = str(province_code).strip()
        code = code.zfill(2) if code.isdigit() and len(code) == 1 else code
        if code not in PROVINCE_CENTRAL_MERIDIAN or (
            central_meridian is not None
            and central_meridian != PROVINCE_CENTRAL_MERIDIAN[code]
        ):
            raise ValueProblem(
                "unknown_vn2000_zone",
                f"Không xác định được kinh tuyến trục VN-2000 cho mã tỉnh “{quote_value(code)}”.",
                f"No VN-2000 central meridian known for province code “{quote_value(code)}”.",
            )
        return PROVINCE_CENTRAL_MERIDIAN[code]
    if central_meridian is None or not 100.0 <= central_meridian <= 120.0:
        raise ValueProblem(
            "unknown_vn2000_zone",
            "Cần mã tỉnh hoặc kinh tuyến trục (100°–120° Đông) để đổi tọa độ VN-2000.",
            "A province code or a central meridian (100°–120° E) is needed for VN-2000.",
        )
    return float(central_meridian)


def vn2000_crs(central_meridian: float) -> CRS:
    """Return the VN-2000 TM-3 CRS of a central meridian, the EPSG one when it exists.

    >>> vn2000_crs(105.75).to_epsg(), vn2000_crs(105 + 45 / 60).name
    (9210, 'VN-2000 / TM-3 105-45')
    >>> vn2000_crs(102.5).name
    'VN-2000 / TM-3 102.5'
    """
    epsg = _EPSG_BY_MERIDIAN.get(round(central_meridian, 6))
    if epsg is not None:
        return CRS.from_epsg(epsg)
    return ProjectedCRS(
        conversion=TransverseMercatorConversion(
            latitude_natural_origin=0, longitude_natural_origin=central_meridian,
            false_easting=500_000, false_northing=0, scale_factor_natural_origin=0.9999,
        ),
        geodetic_crs=CRS.from_epsg(4756),
        name=f"VN-2000 / TM-3 {central_meridian:g}",
    )


@functools.lru_cache(maxsize=64)
def _transformer(central_meridian: float, to_wgs84: bool) -> Transformer:
    grid = vn2000_crs(central_meridian)
    source, target = (grid, CRS.from_epsg(4326)) if to_wgs84 else (CRS.from_epsg(4326), grid)
    return Transformer.from_crs(source, target, always_xy=True)


def vn2000_to_wgs84(
    x_northing: float,
    y_easting: float,
    *,
    province_code: str | None = None,
    central_meridian: float | None = None,
) -> tuple[float, float]:
    """Convert VN-2000 TM-3 metres (survey order: X north, Y east) to WGS84 (lat, lon).

    X and Y given the other way round are accepted (see :func:`looks_like_vn2000`).

    >>> lat, lon = vn2000_to_wgs84(1216603.7577, 598156.2295, province_code="74")
    >>> round(lat, 7), round(lon, 7)
    (11.0, 106.65)
    >>> vn2000_to_wgs84(598156.2295, 1216603.7577, central_meridian=105.75) == (lat, lon)
    True
    >>> vn2000_to_wgs84(10.98, 106.65, province_code="74")
    Traceback (most recent call last):
    ingest.errors.ValueProblem: Cannot read a coordinate from “10.98, 106.65” (not VN-2000 metres: X 900,000–2,700,000, Y 100,000–900,000).
    """  # noqa: E501
    meridian = _meridian(province_code, central_meridian)
    northing, easting = float(x_northing), float(y_easting)
    if _in(easting, _NORTHING) and _in(northing, _EASTING):
        northing, easting = easting, northing
    elif not (_in(northing, _NORTHING) and _in(easting, _EASTING)):
        raise _coordinate_problem(
            f"{x_northing}, {y_easting}",
            " (không phải mét VN-2000: X từ 900.000 đến 2.700.000, Y từ 100.000 đến 900.000)",
            " (not VN-2000 metres: X 900,000–2,700,000, Y 100,000–900,000)",
        )
    lon, lat = _transformer(meridian, True).transform(easting, northing)
    if not (math.isfinite(lat) and math.isfinite(lon)) or not _inside(lat, lon):
        raise _outside(lat, lon)
    return lat, lon


def wgs84_to_vn2000(
    lat: float,
    lon: float,
    *,
    province_code: str | None = None,
    central_meridian: float | None = None,
) -> tuple[float, float]:
    """Convert WGS84 degrees to VN-2000 TM-3 metres in survey order (X north, Y east).

    >>> tuple(round(v, 3) for v in wgs84_to_vn2000(11.0, 106.65, province_code="74"))
    (1216603.758, 598156.23)
    """
    meridian = _meridian(province_code, central_meridian)
    easting, northing = _transformer(meridian, False).transform(lon, lat)
    return northing, easting


# --------------------------------------------------------------------------- WKT

MAX_WKT_CHARS = 5_000_000
#: GEOS validity problems that make_valid may repair; holes outside shells, nested shells,
#: too few points etc. are rejected because a repair would change the area's meaning.
_REPAIRABLE = ("Self-intersection", "Ring Self-intersection")


def _make_valid(geometry: Polygon | MultiPolygon) -> shapely.Geometry:
    """Repair with the 'structure' method (shapely >= 2.1), else GEOS's default."""
    try:
        return shapely.make_valid(geometry, method="structure")
    except TypeError:  # shapely 2.0 has no method argument
        return shapely.make_valid(geometry)


def _geometry_problem(value: object, why_vi: str, why_en: str) -> ValueProblem:
    shown = quote_value(value)
    return ValueProblem(
        "invalid_geometry",
        f"Vùng “{shown}” không hợp lệ: {why_vi}.",
        f"Area “{shown}” is not valid: {why_en}.",
    )


def _bbox_inside(bounds: tuple[float, float, float, float]) -> bool:
    min_x, min_y, max_x, max_y = bounds
    return _inside(min_y, min_x) and _inside(max_y, max_x)


def parse_wkt_polygon(value: Cell, *, repair: bool = True) -> Polygon | MultiPolygon:
    """Read a WKT POLYGON/MULTIPOLYGON (lon lat, optional ``SRID=4326;``) inside Vietnam.

    Self-intersections (bow-ties) are repaired with ``shapely.make_valid`` when the result
    is still an area; pass ``repair=False`` to reject them instead (e.g. to warn first).
    Other invalid shapes (holes outside shells, nested shells...) are always rejected.

    >>> parse_wkt_polygon("SRID=4326;POLYGON((106 11, 107 11, 107 12, 106 11))").area
    0.5
    >>> parse_wkt_polygon("POLYGON((106 11, 107 12, 107 11, 106 12, 106 11))").geom_type
    'MultiPolygon'
    >>> parse_wkt_polygon("POINT(106 11)")
    Traceback (most recent call last):
    ingest.errors.ValueProblem: Area “POINT(106 11)” is not valid: expected POLYGON or MULTIPOLYGON, got Point.
    """  # noqa: E501
    if not isinstance(value, str) or not value.strip():
        raise _geometry_problem(value, "ô trống", "the cell is empty")
    text = value.strip()
    if len(text) > MAX_WKT_CHARS:
        raise _geometry_problem(value, "quá dài", "too long")
    if match := re.match(r"SRID\s*=\s*(\d+)\s*;", text, re.I):
        if match[1] != "4326":
            raise _geometry_problem(value, f"chỉ nhận SRID 4326, không nhận {match[1]}",
                                    f"only SRID 4326 is accepted, not {match[1]}")
        text = text[match.end():]
    try:
        geometry = shapely.from_wkt(text)
    except shapely.errors.ShapelyError:
        raise _geometry_problem(value, "sai cú pháp WKT", "malformed WKT") from None
    if not isinstance(geometry, Polygon | MultiPolygon):
        raise _geometry_problem(value, f"cần POLYGON hoặc MULTIPOLYGON, nhận {geometry.geom_type}",
                                f"expected POLYGON or MULTIPOLYGON, got {geometry.geom_type}")
    if geometry.is_empty:
        raise _geometry_problem(value, "vùng rỗng", "the area is empty")
    geometry = shapely.force_2d(geometry)
    if not _bbox_inside(geometry.bounds):
        flipped = _bbox_inside(tuple(geometry.bounds[i] for i in (1, 0, 3, 2)))
        hint_vi = " (có vẻ ghi vĩ độ trước; WKT cần kinh độ trước)" if flipped else ""
        hint_en = " (looks like lat lon order; WKT needs lon lat)" if flipped else ""
        raise _geometry_problem(value, "tọa độ nằm ngoài Việt Nam" + hint_vi,
                                "coordinates outside Vietnam" + hint_en)
    if geometry.is_valid:
        return geometry
    reason = shapely.is_valid_reason(geometry)
    if repair and reason.startswith(_REPAIRABLE):
        fixed = _make_valid(geometry)
        if fixed.geom_type == "GeometryCollection":
            areas = [part for part in fixed.geoms if isinstance(part, Polygon | MultiPolygon)]
            fixed = shapely.union_all(areas)
        if isinstance(fixed, Polygon | MultiPolygon) and not fixed.is_empty and fixed.area > 0:
            return fixed
    where = re.search(r"\[(.*)\]", reason)
    raise _geometry_problem(
        value,
        "hình tự cắt hoặc sai cấu trúc" + (f" tại điểm {where[1]}" if where else ""),
        f"self-intersecting or malformed ({reason})",
    )
