"""Table-driven tests for the pure cell parsers in ingest.values and ingest.coords."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from pyproj import CRS, Geod, Transformer
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import TransverseMercatorConversion
from shapely.geometry import MultiPolygon, Polygon

from ingest.coords import (
    _EPSG_BY_MERIDIAN,
    PROVINCE_CENTRAL_MERIDIAN,
    VIETNAM_BBOX,
    fix_lat_lon,
    looks_like_vn2000,
    parse_coordinate,
    parse_latlon_pair,
    parse_wkt_polygon,
    vn2000_crs,
    vn2000_to_wgs84,
    wgs84_to_vn2000,
)
from ingest.errors import ValueProblem
from ingest.values import (
    clean_text,
    neutralise_formula,
    parse_date,
    parse_int,
    parse_number,
    parse_phone,
    phone_e164,
    quote_value,
)

GEOD = Geod(ellps="WGS84")
VIETNAMESE_LETTERS = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")


def problem(func: Callable[..., Any], *args: Any, **kwargs: Any) -> ValueProblem:
    """Call func expecting a ValueProblem and return it."""
    with pytest.raises(ValueProblem) as info:
        func(*args, **kwargs)
    return info.value


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance in metres between two (lat, lon) points."""
    return GEOD.inv(a[1], a[0], b[1], b[0])[2]


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  \u00a0 ", None),
        (float("nan"), None),
        ("2.000", 2000.0),
        ("15.000", 15000.0),
        ("1.234.567", 1234567.0),
        ("3,5", 3.5),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("12.5", 12.5),
        ("0.500", 0.5),
        ("1,234", 1.234),  # one comma is a Vietnamese decimal comma
        ("1,234,567", 1234567.0),
        ("-1.234,5", -1234.5),
        ("\u22123,5", -3.5),
        ("+7", 7.0),
        ("\u00a015.000\u00a0", 15000.0),
        ("1 234 567", 1234567.0),
        ("\u200b42", 42.0),
        ("1e3", 1000.0),
        (15, 15.0),
        (2.5, 2.5),
        (-0.0, 0.0),
    ],
)
def test_parse_number_good(value: Any, expected: float | None) -> None:
    assert parse_number(value) == expected


@pytest.mark.parametrize(
    ("value", "decimal", "expected"),
    [
        ("2.000", ".", 2.0),
        ("1,234", ".", 1234.0),
        ("1.234", ",", 1234.0),
        ("1,234", ",", 1.234),
        ("12,5", ",", 12.5),
    ],
)
def test_parse_number_explicit_decimal(value: str, decimal: str, expected: float) -> None:
    assert parse_number(value, decimal=decimal) == expected


@pytest.mark.parametrize(
    "value",
    [
        "12 người", "5 ca", "12%", "abc", "1.2.3", "1.23.456", "1,2,3", "1.234,567.8",
        "12 34", ".5", "5.", "- 5", "1,2.3,4", True, date(2021, 8, 1), float("inf"), [1],
    ],
)
def test_parse_number_bad(value: Any) -> None:
    err = problem(parse_number, value)
    assert err.code == "invalid_number"


def test_parse_number_rejects_unknown_decimal_mode() -> None:
    with pytest.raises(ValueError, match="decimal"):
        parse_number("1", decimal=";")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None), ("2.000", 2000), ("15.000", 15000), ("1.234.567", 1234567), (42, 42),
        (42.0, 42), ("2,0", 2), ("1e3", 1000), ("9007199254740993", 9007199254740993),
    ],
)
def test_parse_int_good(value: Any, expected: int | None) -> None:
    assert parse_int(value) == expected


@pytest.mark.parametrize("value", ["2,5", "12.5", 3.5, "1.5e0", "abc", True, "2,50"])
def test_parse_int_bad(value: Any) -> None:
    assert problem(parse_int, value).code == "invalid_number"


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("  ", None),
        ("01/08/2021", date(2021, 8, 1)),
        ("1/8/2021", date(2021, 8, 1)),
        ("01-08-2021", date(2021, 8, 1)),
        ("01.08.2021", date(2021, 8, 1)),
        ("2021-08-01", date(2021, 8, 1)),
        ("2021-08-01 10:30", date(2021, 8, 1)),
        ("2021-08-01T23:30:00+07:00", date(2021, 8, 1)),
        ("01/08/2021 00:00:00", date(2021, 8, 1)),
        ("29/02/2020", date(2020, 2, 29)),
        ("31/12/2021", date(2021, 12, 31)),
        (44409, date(2021, 8, 1)),
        (44409.99, date(2021, 8, 1)),
        (1, date(1900, 1, 1)),
        (59, date(1900, 2, 28)),
        (61, date(1900, 3, 1)),
        (datetime(2021, 8, 1, 23, 59), date(2021, 8, 1)),
        (date(2021, 8, 1), date(2021, 8, 1)),
    ],
)
def test_parse_date_good(value: Any, expected: date | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "31/02/2021", "32/08/2021", "29/02/2021", "08/31/2021", "00/08/2021", "2021-13-01",
        "01/08/21", "01/08-2021", "2021", "hôm qua", "01/08/2021 sáng", "1 tháng 8",
        0, -5, 60, 3_000_000, 20210801, float("inf"), True, [2021],
    ],
)
def test_parse_date_bad(value: Any) -> None:
    assert problem(parse_date, value).code == "invalid_date"


def test_parse_date_never_swaps_day_and_month() -> None:
    assert parse_date("02/03/2021") == date(2021, 3, 2)
    err = problem(parse_date, "12/25/2021")
    assert "ngày/tháng/năm" in err.message_vi and "day/month/year" in err.message_en


# --------------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        (912345678, "0912345678"),
        (912345678.0, "0912345678"),
        ("912345678", "0912345678"),
        ("912345678.0", "0912345678"),
        ("0912345678", "0912345678"),
        (2743822222, "02743822222"),
        ("2743822222", "02743822222"),
        ("+84 912 345 678", "0912345678"),
        ("+84 (0) 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0084912345678", "0912345678"),
        ("842743822222", "02743822222"),
        ("0912.345.678", "0912345678"),
        ("0912-345-678", "0912345678"),
        ("(0274) 3822 222", "02743822222"),
        ("02385257183", "02385257183"),
        ("1900 9095", "19009095"),
        ("19009095", "19009095"),
        ("1800 1091", "18001091"),
        ("1900 123 456", "1900123456"),
        ("115", "115"),
        (115, "115"),
        ("\u00a00358 123 456 ", "0358123456"),
    ],
)
def test_parse_phone_good(value: Any, expected: str | None) -> None:
    assert parse_phone(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "abc", "0912 345 678 / 0987 654 321", "0912345", "09123456789", "09127331636",
        "01662345678", "0112345678", "+1 202 555 0100", "+84 19009095", "+0084912345678",
        "84123", "0912345678 ext 12", "12a", 12.5, -912345678, True, date(2021, 8, 1), "116",
    ],
)
def test_parse_phone_bad(value: Any) -> None:
    assert problem(parse_phone, value).code == "invalid_phone"


@pytest.mark.parametrize(
    ("national", "expected"),
    [("0912345678", "+84912345678"), ("02743822222", "+842743822222")],
)
def test_phone_e164_good(national: str, expected: str) -> None:
    assert phone_e164(national) == expected


@pytest.mark.parametrize("national", ["19009095", "115", "912345678", "+84912345678", ""])
def test_phone_e164_bad(national: str) -> None:
    assert problem(phone_e164, national).code == "invalid_phone"


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        (" \t\r\n\u00a0", None),
        ("\u200b", None),
        ("  Phường\u00a0 Bến   Nghé\n ", "Phường Bến Nghé"),
        ("Ha\u0300 Nô\u0323i", "Hà Nội"),  # NFD (or cp1258 decoded) to NFC
        ("=1+1", "=1+1"),
        ("+84 912", "+84 912"),
        ("-5", "-5"),
        ("@SUM(A1)", "@SUM(A1)"),
        ("\t=cmd", "=cmd"),
        ("a\x00b", "a b"),
        (12.0, "12"),
        (12.5, "12.5"),
        (7, "7"),
        (date(2021, 8, 1), "2021-08-01"),
        (datetime(2021, 8, 1, 7, 30), "2021-08-01 07:30:00"),
    ],
)
def test_clean_text_good(value: Any, expected: str | None) -> None:
    assert clean_text(value) == expected


def test_clean_text_length_limit() -> None:
    assert clean_text("x" * 500) == "x" * 500
    err = problem(clean_text, "x" * 501)
    assert err.code == "text_too_long"
    assert "501" in err.message_vi and "500" in err.message_en
    assert clean_text("abc", max_len=3) == "abc"
    assert problem(clean_text, "abcd", max_len=3).code == "text_too_long"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("-5", "'-5"),
        ("+84912345678", "'+84912345678"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Bình Dương", "Bình Dương"),
        ("a=b", "a=b"),
        ("5", "5"),
        ("", ""),
    ],
)
def test_neutralise_formula(text: str, expected: str) -> None:
    assert neutralise_formula(text) == expected


def test_quote_value_truncates_and_flattens() -> None:
    assert quote_value("x" * 60) == "x" * 49 + "…"
    assert quote_value("a\nb\x00c") == "a b c"
    assert quote_value(None) == ""


# --------------------------------------------------------------------------- messages

BAD_CELLS: list[tuple[Callable[..., Any], Any, str]] = [
    (parse_number, "12 người", "invalid_number"),
    (parse_int, "2,5", "invalid_number"),
    (parse_date, "31/02/2021", "invalid_date"),
    (parse_date, "hôm qua", "invalid_date"),
    (parse_phone, "0912 abc", "invalid_phone"),
    (parse_coordinate, "106°75'E", "invalid_coordinate"),
    (parse_latlon_pair, "10.9248", "invalid_coordinate"),
    (parse_wkt_polygon, "POLYGON((106.6 11.0, 106.7 11.0))", "invalid_geometry"),
]


@pytest.mark.parametrize(("func", "value", "code"), BAD_CELLS)
def test_problem_messages_are_bilingual_and_name_the_value(
    func: Callable[..., Any], value: Any, code: str
) -> None:
    err = problem(func, value)
    assert err.code == code
    assert str(value) in err.message_vi and str(value) in err.message_en
    assert VIETNAMESE_LETTERS & set(err.message_vi.lower()), err.message_vi
    assert err.as_dict() == {"code": code, "message_vi": err.message_vi,
                             "message_en": err.message_en}
    assert isinstance(err, ValueError)


@pytest.mark.parametrize(
    "func", [parse_number, parse_date, parse_phone, parse_coordinate, parse_wkt_polygon]
)
def test_long_values_are_truncated_in_messages(func: Callable[..., Any]) -> None:
    err = problem(func, "z" * 300)
    assert "z" * 49 + "…" in err.message_en and "z" * 51 not in err.message_vi


# --------------------------------------------------------------------------- coordinates


@pytest.mark.parametrize(
    ("value", "axis", "expected"),
    [
        ("106.65", None, 106.65),
        ("106,649447", None, 106.649447),
        (106.65, "lon", 106.65),
        (11, "lat", 11.0),
        ("-8.5", None, -8.5),
        ('106°34\'13.4"E', "lon", 106 + 34 / 60 + 13.4 / 3600),
        ("N 11°08'39.0\"", "lat", 11 + 8 / 60 + 39 / 3600),
        ("11°8′39″N", "lat", 11 + 8 / 60 + 39 / 3600),
        ("11°08'39.0''N", None, 11 + 8 / 60 + 39 / 3600),
        ("11°08’39,0”N", None, 11 + 8 / 60 + 39 / 3600),
        ("11º08'39\" n", None, 11 + 8 / 60 + 39 / 3600),
        ("10°56.5'N", "lat", 10 + 56.5 / 60),
        ("10° 56' N", None, 10 + 56 / 60),
        ("106°", None, 106.0),
        ("106.65°E", None, 106.65),
        ("33°52'S", "lat", -(33 + 52 / 60)),
        ("W 74°00'21\"", "lon", -(74 + 21 / 3600)),
        ("\u221210.5", None, -10.5),
    ],
)
def test_parse_coordinate_good(value: Any, axis: str | None, expected: float) -> None:
    assert parse_coordinate(value, axis) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("value", "axis"),
    [
        ("", None), (None, None), ("abc", None), ("106°75'E", None), ("106°34'75\"E", None),
        ("10.5°30'", None), ("N 10.5 S", None), ("-10.5S", None), ("95N", None),
        ("106°34'E", "lat"), ("11°08'N", "lon"), ("106.65", "lat"), (200, None),
        (float("nan"), None), (True, None), ("106 34 13", None), ("10.5, 106.6", None),
        (date(2021, 8, 1), None),
    ],
)
def test_parse_coordinate_bad(value: Any, axis: str | None) -> None:
    assert problem(parse_coordinate, value, axis).code == "invalid_coordinate"


def test_parse_coordinate_rejects_unknown_axis() -> None:
    with pytest.raises(ValueError, match="axis"):
        parse_coordinate("10", axis="x")


DMS_LAT = 11 + 8 / 60 + 39 / 3600
DMS_LON = 106 + 34 / 60 + 13.4 / 3600


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.9248, 106.6874", (10.9248, 106.6874)),
        ("10.924827,106.687377", (10.924827, 106.687377)),
        ("10.9248 ; 106.6874", (10.9248, 106.6874)),
        ("10.9248 106.6874", (10.9248, 106.6874)),
        ("10,9248; 106,6874", (10.9248, 106.6874)),
        ("10,9248 106,6874", (10.9248, 106.6874)),
        ("10,9248, 106,6874", (10.9248, 106.6874)),
        ("(10.9248, 106.6874)", (10.9248, 106.6874)),
        ("[10,9248 106,6874]", (10.9248, 106.6874)),
        ("106.6874, 10.9248", (106.6874, 10.9248)),  # as written: fix_lat_lon swaps it
        ('11°08\'39.0"N 106°34\'13.4"E', (DMS_LAT, DMS_LON)),
        ('11°08\'39.0"N, 106°34\'13.4"E', (DMS_LAT, DMS_LON)),
        ('11°08\'39,0"N; 106°34\'13,4"E', (DMS_LAT, DMS_LON)),
        ('11°08\'39.0"N106°34\'13.4"E', (DMS_LAT, DMS_LON)),
        ('N 11°08\'39.0" E 106°34\'13.4"', (DMS_LAT, DMS_LON)),
        ('106°34\'13.4"E 11°08\'39.0"N', (DMS_LAT, DMS_LON)),
        ("10.5 N 106.7 E", (10.5, 106.7)),
        ("106.7E 10.5", (10.5, 106.7)),
    ],
)
def test_parse_latlon_pair_good(value: str, expected: tuple[float, float]) -> None:
    assert parse_latlon_pair(value) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "value",
    [
        "", None, "10.9248", "10,5,106,6", "1 2 3", "10.5 106.7 5", "10.5N 11.2N",
        "106E 107E", "abc, def", "10.9248;106.6874;5", 10.9248, "200 300",
    ],
)
def test_parse_latlon_pair_bad(value: Any) -> None:
    assert problem(parse_latlon_pair, value).code == "invalid_coordinate"


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        (10.98, 106.65, (10.98, 106.65, False)),
        (106.65, 10.98, (10.98, 106.65, True)),
        (21.03, 105.85, (21.03, 105.85, False)),
        (8.6, 104.7, (8.6, 104.7, False)),  # Cà Mau cape
        (16.5, 112.0, (16.5, 112.0, False)),  # Hoàng Sa
        (8.65, 111.9, (8.65, 111.9, False)),  # Trường Sa
    ],
)
def test_fix_lat_lon_good(lat: float, lon: float, expected: tuple[float, float, bool]) -> None:
    assert fix_lat_lon(lat, lon) == expected


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(0, 0), (0.0, 106.65), (-10.98, 106.65), (48.85, 2.35), (10.98, -106.65), (30.0, 106.0),
     (math.nan, 106.65)],
)
def test_fix_lat_lon_bad(lat: float, lon: float) -> None:
    assert problem(fix_lat_lon, lat, lon).code == "outside_vietnam"


def test_vietnam_bbox_is_min_lon_min_lat_max_lon_max_lat() -> None:
    assert VIETNAM_BBOX == (102.1, 8.1, 117.9, 23.4)


# --------------------------------------------------------------------------- VN-2000

BINH_DUONG = (11.0, 106.65)
#: pyproj 3.7 / PROJ 9.5, EPSG:4326 -> EPSG:9210 via "VN-2000 to WGS 84 (2)".
BINH_DUONG_VN2000 = (1216603.758, 598156.230)  # (X northing, Y easting)


def test_province_table_covers_the_63_provinces() -> None:
    assert len(PROVINCE_CENTRAL_MERIDIAN) == 63
    assert all(len(code) == 2 and code.isdigit() for code in PROVINCE_CENTRAL_MERIDIAN)
    assert set(PROVINCE_CENTRAL_MERIDIAN.values()) <= set(_EPSG_BY_MERIDIAN)


@pytest.mark.parametrize(
    ("code", "meridian"),
    [("01", 105.0), ("74", 105.75), ("79", 105.75), ("40", 104.75), ("22", 107.75),
     ("48", 107.75), ("92", 105.0), ("12", 103.0), ("91", 104.5), ("56", 108.25)],
)
def test_province_central_meridians(code: str, meridian: float) -> None:
    assert PROVINCE_CENTRAL_MERIDIAN[code] == meridian


@pytest.mark.parametrize(("meridian", "epsg"), sorted(_EPSG_BY_MERIDIAN.items()))
def test_epsg_table_matches_pyproj(meridian: float, epsg: int) -> None:
    crs = CRS.from_epsg(epsg)
    assert crs.name.startswith("VN-2000 / TM-3")
    assert crs.geodetic_crs is not None and crs.geodetic_crs.to_epsg() == 4756
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    assert params["Longitude of natural origin"] == pytest.approx(meridian)
    assert params["Scale factor at natural origin"] == pytest.approx(0.9999)
    assert params["False easting"] == 500_000 and params["False northing"] == 0
    assert vn2000_crs(meridian).to_epsg() == epsg


def test_binh_duong_uses_epsg_9210_at_105_45() -> None:
    assert vn2000_crs(PROVINCE_CENTRAL_MERIDIAN["74"]).to_epsg() == 9210
    assert CRS.from_epsg(9210).name == "VN-2000 / TM-3 105-45"


def test_vn2000_round_trip_binh_duong() -> None:
    x, y = wgs84_to_vn2000(*BINH_DUONG, province_code="74")
    lat, lon = vn2000_to_wgs84(x, y, province_code="74")
    assert metres((lat, lon), BINH_DUONG) < 0.01


def test_vn2000_matches_pyproj_epsg_9210_directly() -> None:
    to_grid = Transformer.from_crs("EPSG:4326", "EPSG:9210", always_xy=True)
    easting, northing = to_grid.transform(BINH_DUONG[1], BINH_DUONG[0])
    assert (northing, easting) == pytest.approx(BINH_DUONG_VN2000, abs=0.01)
    assert wgs84_to_vn2000(*BINH_DUONG, central_meridian=105.75) == pytest.approx(
        (northing, easting), abs=0.001
    )
    lat, lon = vn2000_to_wgs84(northing, easting, province_code="74")
    assert metres((lat, lon), BINH_DUONG) < 0.01


def test_vn2000_accepts_y_x_order() -> None:
    x, y = BINH_DUONG_VN2000
    assert vn2000_to_wgs84(y, x, province_code="74") == vn2000_to_wgs84(x, y, province_code="74")


# Bình Dương CDC sample data/feeds/binh_duong/khu_cach_ly.xlsx ("KTT 9210"): X, Y and the
# expected WGS84 position from its .expected.json (tolerance 5 m).
@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (1223836.28, 588877.82, (11.065624, 106.565275)),
        (1215068.34, 597899.21, (10.986127, 106.647606)),
        (1241919.93, 593969.43, (11.228974, 106.612356)),
    ],
)
def test_vn2000_against_binh_duong_sample(
    x: float, y: float, expected: tuple[float, float]
) -> None:
    assert metres(vn2000_to_wgs84(x, y, province_code="74"), expected) < 5


def test_custom_meridian_matches_epsg_construction() -> None:
    # A meridian without an EPSG code is built on EPSG:4756 exactly like the EPSG zones.
    derived = ProjectedCRS(
        conversion=TransverseMercatorConversion(
            latitude_natural_origin=0, longitude_natural_origin=105.75, false_easting=500_000,
            false_northing=0, scale_factor_natural_origin=0.9999,
        ),
        geodetic_crs=CRS.from_epsg(4756),
    )
    ours = Transformer.from_crs(derived, "EPSG:4326", always_xy=True)
    epsg = Transformer.from_crs("EPSG:9210", "EPSG:4326", always_xy=True)
    x, y = BINH_DUONG_VN2000
    assert ours.transform(y, x) == pytest.approx(epsg.transform(y, x), abs=1e-9)
    assert vn2000_crs(102.5).to_epsg() is None
    x2, y2 = wgs84_to_vn2000(21.3, 102.6, central_meridian=102.5)
    assert metres(vn2000_to_wgs84(x2, y2, central_meridian=102.5), (21.3, 102.6)) < 0.01


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({}, "unknown_vn2000_zone"),
        ({"province_code": "99"}, "unknown_vn2000_zone"),
        ({"province_code": "Bình Dương"}, "unknown_vn2000_zone"),
        ({"province_code": "74", "central_meridian": 107.75}, "unknown_vn2000_zone"),
        ({"central_meridian": 45.0}, "unknown_vn2000_zone"),
    ],
)
def test_vn2000_zone_problems(kwargs: dict[str, Any], code: str) -> None:
    assert problem(vn2000_to_wgs84, *BINH_DUONG_VN2000, **kwargs).code == code


@pytest.mark.parametrize(
    ("x", "y", "code"),
    [
        (10.98, 106.65, "invalid_coordinate"),
        (1216603.758, 1216603.758, "invalid_coordinate"),
        (598156.23, 598156.23, "invalid_coordinate"),
        (math.nan, 598156.23, "invalid_coordinate"),
        (2_650_000.0, 150_000.0, "outside_vietnam"),
    ],
)
def test_vn2000_bad_values(x: float, y: float, code: str) -> None:
    assert problem(vn2000_to_wgs84, x, y, province_code="74").code == code


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (1216603.76, 598156.23, True),
        (598156.23, 1216603.76, True),
        (2_500_000.0, 450_000.0, True),
        (10.98, 106.65, False),
        (1216603.76, 1216603.76, False),
        (598156.23, 598156.23, False),
        (850_000.0, 598156.23, False),
        (1216603.76, 950_000.0, False),
        (math.nan, 598156.23, False),
    ],
)
def test_looks_like_vn2000(a: float, b: float, expected: bool) -> None:
    assert looks_like_vn2000(a, b) is expected


# --------------------------------------------------------------------------- WKT

SQUARE = "POLYGON((106.6 11.0, 106.7 11.0, 106.7 11.1, 106.6 11.1, 106.6 11.0))"


@pytest.mark.parametrize(
    ("value", "kind", "area"),
    [
        (SQUARE, Polygon, 0.01),
        ("SRID=4326;" + SQUARE, Polygon, 0.01),
        (" srid = 4326 ; " + SQUARE.lower(), Polygon, 0.01),
        ("POLYGON Z((106.6 11 5, 106.7 11 5, 106.7 11.1 5, 106.6 11 5))", Polygon, 0.005),
        ("MULTIPOLYGON(((106.6 11, 106.7 11, 106.7 11.1, 106.6 11)),"
         "((108 14, 108.1 14, 108.1 14.1, 108 14)))", MultiPolygon, 0.01),
        ("POLYGON((106.6 11, 106.7 11, 106.7 11.1, 106.6 11.1, 106.6 11),"
         "(106.62 11.02, 106.64 11.02, 106.64 11.04, 106.62 11.04, 106.62 11.02))",
         Polygon, 0.0096),
        # bow-tie: repaired into two triangles
        ("POLYGON((106.6 11, 106.7 11.1, 106.7 11, 106.6 11.1, 106.6 11))", MultiPolygon, 0.005),
    ],
)
def test_parse_wkt_polygon_good(value: str, kind: type, area: float) -> None:
    geometry = parse_wkt_polygon(value)
    assert isinstance(geometry, kind) and geometry.is_valid and not geometry.has_z
    assert geometry.area == pytest.approx(area)


@pytest.mark.parametrize(
    "value",
    [
        None, "", "   ", 42,
        "POLYGON((106.6 11.0, 106.7 11.0))",  # sample vung_phong_toa.csv row 10
        "POLYGON((106 11, 107 11",
        "not wkt",
        "POLYGON EMPTY",
        "POINT(106.6 11)",
        "LINESTRING(106.6 11, 106.7 11.1)",
        "GEOMETRYCOLLECTION(POLYGON((106.6 11, 106.7 11, 106.7 11.1, 106.6 11)))",
        "SRID=3857;" + SQUARE,
        "POLYGON((11.0 106.6, 11.0 106.7, 11.1 106.7, 11.0 106.6))",  # lat lon order
        "POLYGON((2.3 48.8, 2.4 48.8, 2.4 48.9, 2.3 48.8))",
        "POLYGON((0 0, 1 0, 1 1, 0 0))",
        # hole outside its shell: make_valid would invent an extra area
        "POLYGON((106.6 11, 106.7 11, 106.7 11.1, 106.6 11.1, 106.6 11),"
        "(105 10, 105.5 10, 105.5 10.5, 105 10))",
        # shell and hole identical: nothing left
        "POLYGON((106.6 11, 106.7 11, 106.7 11.1, 106.6 11),(106.6 11, 106.7 11, 106.7 11.1, "
        "106.6 11))",
        "POLYGON((106.6 11, 106.7 11, 106.6 11, 106.6 11))",
    ],
)
def test_parse_wkt_polygon_bad(value: Any) -> None:
    assert problem(parse_wkt_polygon, value).code == "invalid_geometry"


def test_parse_wkt_polygon_without_repair_rejects_bow_tie() -> None:
    bow_tie = "POLYGON((106.6 11, 106.7 11.1, 106.7 11, 106.6 11.1, 106.6 11))"
    err = problem(parse_wkt_polygon, bow_tie, repair=False)
    assert err.code == "invalid_geometry"
    assert "106.65 11.05" in err.message_vi and "Self-intersection" in err.message_en


def test_parse_wkt_polygon_hints_at_lat_lon_order() -> None:
    err = problem(parse_wkt_polygon, "POLYGON((11.0 106.6, 11.0 106.7, 11.1 106.7, 11.0 106.6))")
    assert "kinh độ trước" in err.message_vi and "lon lat" in err.message_en
