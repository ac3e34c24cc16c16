"""Table-driven tests for boundaries.names against real Bình Dương 2021 / Nghệ An 2025 units."""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from pathlib import Path

import pytest

from boundaries.names import UnitName, disambiguate, fold, match_names, name_key, split_kind

DATA = Path(__file__).parents[2] / "data" / "boundaries"


def _features(rel: str) -> list[dict]:
    with (DATA / rel).open(encoding="utf-8") as fh:
        return [f["properties"] for f in json.load(fh)["features"]]


def _dedup(units: list[UnitName]) -> list[UnitName]:
    seen: dict[str, UnitName] = {}
    for u in units:
        seen.setdefault(u.code, u)
    return list(seen.values())


@cache
def datasets() -> dict[str, list[UnitName]]:
    bd = _features("vn2021/communes_74_binh_duong_c2011.geojson")
    bdd = _features("vn2021/74_binh_duong_districts.geojson")
    na = _features("vn2025/wards_40_nghe_an_2025.geojson")
    return {
        # communes with full GSO names ("Phường Tân Bình"); the file repeats 25957
        "bd": _dedup([UnitName(p["ward_code_gso"], p["ward_name_gso"], p["dist_code_gso"])
                      for p in bd]),
        "bdd": [UnitName(p["dist_code"], p["dist_name"], p["prov_code"]) for p in bdd],
        # Nghệ An 2025 in two shapes: full GSO name, and bare name + separate type column
        "na": [UnitName(p["ward_code_gso2025"], p["ward_name_gso"], "40") for p in na],
        "na_src": [UnitName(p["ward_code_gso2025"], p["ward_name_src"], "40", p["ward_type_src"])
                   for p in na],
    }


@cache
def bd_parents() -> dict[str, str]:
    return {p["dist_code"]: p["dist_name"]
            for p in _features("vn2021/74_binh_duong_districts.geojson")}


def resolve(query: str, hint: str | None, dataset: str) -> set[str]:
    found = match_names(query, datasets()[dataset])
    return {u.code for u in disambiguate(found, hint, bd_parents())}


TAN_BINH = {"25945", "25900"}  # Phường (Dĩ An 724) / Thị trấn (Bắc Tân Uyên 726)
TAN_DINH = {"25852", "25894"}  # Phường (Bến Cát 721) / Xã (Bắc Tân Uyên 726)
AN_BINH = {"25960", "25870"}  # Phường (Dĩ An 724) / Xã (Phú Giáo 722)
TAN_HIEP = {"25920", "25873"}  # Phường (Tân Uyên 723) / Xã (Phú Giáo 722)

CASES: list[tuple[str, str | None, str, set[str]]] = [
    # --- Bình Dương 2021 communes: spelling variants -------------------------------
    ("Phường Hiệp Thành", None, "bd", {"25741"}),
    ("P. Hiệp Thành", None, "bd", {"25741"}),
    ("P.Hiệp Thành", None, "bd", {"25741"}),
    ("  PHƯỜNG   hiệp   THÀNH ", None, "bd", {"25741"}),
    ("phuong hiep thanh", None, "bd", {"25741"}),
    ("Hung Dinh", None, "bd", {"25978"}),
    ("Hưng Định", None, "bd", {"25978"}),
    ("Phường Định Hòa", None, "bd", {"25759"}),  # stored as old-style "Định Hoà"
    ("Định Hoà", None, "bd", {"25759"}),
    ("dinh hoa", None, "bd", {"25759"}),
    ("Xã Vĩnh Hòa", None, "bd", {"25882"}),  # stored "Vĩnh Hoà"
    ("VINH HOA", None, "bd", {"25882"}),
    ("Minh Hòa", None, "bd", {"25780"}),  # stored "Minh Hoà"
    ("Xã Minh Hoà", None, "bd", {"25780"}),
    ("Long Hòa", None, "bd", {"25792"}),
    ("Phú Hoà", "Thị xã Thủ Dầu Một", "bd", {"25750"}),  # stored "Phú Hòa", old parent kind
    ("Đông Hòa", None, "bd", {"25957"}),
    ("Dong Hoa", None, "bd", {"25957"}),
    ("Dat Cuoc", None, "bd", {"25907"}),
    ("X. Bạch Đằng", None, "bd", {"25930"}),
    ("xa bach dang", None, "bd", {"25930"}),
    ("Cây Trường II", None, "bd", {"25819"}),
    ("Xa Cay Truong ii", None, "bd", {"25819"}),
    ("Trừ Văn Thố", None, "bd", {"25816"}),
    ("TT Lái Thiêu", None, "bd", {"25966"}),
    ("TT. Dầu Tiếng", None, "bd", {"25777"}),
    # --- kind in the feed disagrees with the current GSO kind ----------------------
    ("Xã Lai Uyên", None, "bd", {"25822"}),  # now Thị trấn
    ("Thị trấn Mỹ Phước", None, "bd", {"25813"}),  # now Phường
    ("Xã Tân An", None, "bd", {"25765"}),  # now Phường
    ("thị trấn Tân Phước Khánh", None, "bd", {"25891"}),  # now Phường
    # --- genuinely ambiguous names (same name in two districts) --------------------
    ("Tân Bình", None, "bd", TAN_BINH),
    ("Tân Bình", "Dĩ An", "bd", {"25945"}),
    ("Tân Bình", "TX. Dĩ An", "bd", {"25945"}),
    ("tan binh", "Thành phố Dĩ An", "bd", {"25945"}),
    ("Tân Bình", "H. Bắc Tân Uyên", "bd", {"25900"}),
    ("Tân Bình", "Thuận An", "bd", TAN_BINH),  # hint filters everything out
    ("Tân Bình", "   ", "bd", TAN_BINH),
    ("Thị trấn Tân Bình", None, "bd", {"25900"}),
    ("Phường Tân Bình", None, "bd", {"25945"}),
    ("Xã Tân Bình", None, "bd", TAN_BINH),  # both were Xã in 2011, neither is now
    ("Xã Tân Bình", "Huyện Dĩ An", "bd", {"25945"}),
    ("Xã Tân Bình", "Huyện Tân Uyên", "bd", TAN_BINH),  # pre-split district name
    ("Tân Định", None, "bd", TAN_DINH),
    ("Phường Tân Định", None, "bd", {"25852"}),
    ("Xã Tân Định", None, "bd", {"25894"}),
    ("Tân Định", "TX. Bến Cát", "bd", {"25852"}),
    ("Tan Dinh", "Bac Tan Uyen", "bd", {"25894"}),
    ("An Bình", None, "bd", AN_BINH),
    ("P. An Bình", None, "bd", {"25960"}),
    ("An Bình", "Phú Giáo", "bd", {"25870"}),
    ("Tân Hiệp", None, "bd", TAN_HIEP),
    ("Xã Tân Hiệp", None, "bd", {"25873"}),
    ("TT. Tân Hiệp", None, "bd", TAN_HIEP),  # no candidate agrees: keep all
    ("Tân Hiệp", "Thị xã Tân Uyên", "bd", {"25920"}),
    # --- no match ------------------------------------------------------------------
    ("Phường 12", None, "bd", set()),
    ("Cây Trường", None, "bd", set()),
    ("Xã", None, "bd", set()),
    ("Tân Uyên", None, "bd", set()),
    ("", None, "bd", set()),
    # --- Bình Dương districts ------------------------------------------------------
    ("TX. Dĩ An", None, "bdd", {"724"}),
    ("TP Thủ Dầu Một", None, "bdd", {"718"}),
    ("Tp. Thu Dau Mot", None, "bdd", {"718"}),
    ("Thị xã Thủ Dầu Một", None, "bdd", {"718"}),
    ("H. Bàu Bàng", None, "bdd", {"719"}),
    ("huyen bau bang", None, "bdd", {"719"}),
    ("Huyện Bến Cát", None, "bdd", {"721"}),  # now Thị xã
    ("Tân Uyên", None, "bdd", {"723"}),
    ("Bac Tan Uyen", None, "bdd", {"726"}),
    ("Thành phố Thuận An", None, "bdd", {"725"}),
    # --- Nghệ An 2025 communes -----------------------------------------------------
    ("Xã An Châu", None, "na", {"17479"}),
    ("an chau", None, "na", {"17479"}),
    ("Anh Sơn", None, "na", {"17329"}),
    ("Anh Son Dong", None, "na", {"17365"}),
    ("P. Cửa Lò", None, "na", {"16732"}),
    ("Cua Lo", None, "na", {"16732"}),
    ("TX. Cửa Lò", None, "na", {"16732"}),  # former town
    ("Thái Hoà", None, "na", {"16939"}),
    ("Yên Hoà", None, "na", {"16909"}),
    ("Nhân Hoà", None, "na", {"17344"}),
    ("Quan Thành", None, "na", {"17569"}),  # "Quan" is a syllable, not "Quận"
    ("Quan Thanh", None, "na", {"17569"}),
    ("XÃ QUAN THÀNH", None, "na", {"17569"}),
    ("Keng Du", None, "na", {"16822"}),
    ("Đô Lương", None, "na", {"17662"}),
    ("Thị trấn Quỳ Hợp", None, "na", {"17035"}),  # now Xã
    ("Huyện Quỳnh Lưu", None, "na", {"17179"}),
    ("Hùng Châu", None, "na", {"17395"}),
    ("Hùng Chân", None, "na", {"16801"}),
    ("Hưng Nguyên", None, "na", {"18001"}),
    ("Hung Nguyen Nam", None, "na", {"18028"}),
    ("muong tip", None, "na", {"16858"}),
    ("Tuong Duong", None, "na", {"16876"}),
    ("Phường Hoàng Mai", None, "na", {"17110"}),
    ("Nghia Dan", None, "na", {"16941"}),
    ("Vinh", None, "na", set()),
]


@pytest.mark.parametrize(("query", "hint", "dataset", "expected"), CASES)
def test_match_cases(query: str, hint: str | None, dataset: str, expected: set[str]) -> None:
    assert resolve(query, hint, dataset) == expected
    decomposed = unicodedata.normalize("NFD", query)
    assert resolve(decomposed, hint, dataset) == expected
    if dataset == "na":  # bare names with the kind in its own field behave the same
        assert resolve(query, hint, "na_src") == expected


def test_case_count() -> None:
    assert len(CASES) >= 40


def test_windows_1258_decomposed_query() -> None:
    # CP1258 keeps ư/ơ/â precomposed but writes tones as combining marks
    assert resolve("Phu\u031bo\u031b\u0300ng \u0110i\u0323nh Hoa\u0300", None, "bd") == {"25759"}


def parent_first(query: str, hint: str | None) -> set[str]:
    """Narrow by parent before letting the (possibly stale) kind word choose."""
    loose = match_names(split_kind(query)[1], datasets()["bd"])
    return {u.code for u in match_names(query, disambiguate(loose, hint, bd_parents()))}


@pytest.mark.parametrize(
    ("query", "hint", "code", "still_xa"),
    [
        ("Xã Tân Định", "Huyện Bến Cát", "25852", "25894"),  # now Phường in TX. Bến Cát
        ("Xã Tân Hiệp", "Huyện Tân Uyên", "25920", "25873"),  # now Phường in TX. Tân Uyên
        ("Xã An Bình", "Huyện Dĩ An", "25960", "25870"),  # now Phường in TP. Dĩ An
    ],
)
def test_parent_hint_outweighs_stale_kind(query: str, hint: str, code: str, still_xa: str) -> None:
    # kind preference alone picks the namesake that is still a Xã in another district
    assert [u.code for u in match_names(query, datasets()["bd"])] == [still_xa]
    assert parent_first(query, hint) == {code}


@pytest.mark.parametrize("p", _features("vn2021/communes_74_binh_duong_c2011.geojson"))
def test_source_names_round_trip(p: dict) -> None:
    # 2011 feed names + 2011 district names resolve to the 2021 GSO code
    codes = parent_first(p["commune_name_src"], p["district_name_src"])
    assert p["ward_code_gso"] in codes
    assert len(codes) <= 2


def test_all_nghe_an_names_are_unique_and_self_matching() -> None:
    for dataset in ("na", "na_src"):
        for u in datasets()[dataset]:
            assert [m.code for m in match_names(u.name, datasets()[dataset])] == [u.code]


def test_order_is_stable_and_iterables_accepted() -> None:
    units = datasets()["bd"]
    forward = [u.code for u in match_names("Tân Bình", iter(units))]
    backward = [u.code for u in match_names("Tân Bình", reversed(units))]
    assert forward == ["25900", "25945"] and backward == ["25945", "25900"]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("Phường", {"25945"}), ("TT", {"25900"}), ("thi tran", {"25900"}), ("Xã", TAN_BINH)],
)
def test_explicit_kind_argument(kind: str, expected: set[str]) -> None:
    assert {u.code for u in match_names("Tân Bình", datasets()["bd"], kind=kind)} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hưng Dũng", "hung dung"),
        ("  ĐỊNH  Hoà ", "dinh hoa"),
        ("Thủ Dầu Một", "thu dau mot"),
        ("Bắc Tân-Uyên,  (cũ)", "bac tan uyen cu"),
        (unicodedata.normalize("NFD", "Đất Cuốc"), "dat cuoc"),
        ("Thuỷ", "thuy"),
        ("Cây Trường II", "cay truong ii"),
        ("", ""),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Tỉnh Bình Dương", ("Tỉnh", "Bình Dương")),
        ("Thành phố Dĩ An", ("Thành phố", "Dĩ An")),
        ("TP. Thủ Dầu Một", ("Thành phố", "Thủ Dầu Một")),
        ("TP Thủ Dầu Một", ("Thành phố", "Thủ Dầu Một")),
        ("Tp.Thuận An", ("Thành phố", "Thuận An")),
        ("Huyện Bàu Bàng", ("Huyện", "Bàu Bàng")),
        ("H. Bàu Bàng", ("Huyện", "Bàu Bàng")),
        ("Hưng Định", (None, "Hưng Định")),
        ("Quận 1", ("Quận", "1")),
        ("Q.1", ("Quận", "1")),
        ("Thị xã Bến Cát", ("Thị xã", "Bến Cát")),
        ("TX. Dĩ An", ("Thị xã", "Dĩ An")),
        ("TX Tân Uyên", ("Thị xã", "Tân Uyên")),
        ("Xã Lai Uyên", ("Xã", "Lai Uyên")),
        ("X. Bạch Đằng", ("Xã", "Bạch Đằng")),
        ("Xã", (None, "Xã")),
        ("Phường Hiệp Thành", ("Phường", "Hiệp Thành")),
        ("P. Hiệp Thành", ("Phường", "Hiệp Thành")),
        ("Phường 12", ("Phường", "12")),
        ("P.12", ("Phường", "12")),
        ("Thị trấn Dầu Tiếng", ("Thị trấn", "Dầu Tiếng")),
        ("TT. Lái Thiêu", ("Thị trấn", "Lái Thiêu")),
        ("TT Lái Thiêu", ("Thị trấn", "Lái Thiêu")),
        ("thị trấn Tân Phước Khánh", ("Thị trấn", "Tân Phước Khánh")),
        ("PHUONG HIEP THANH", ("Phường", "HIEP THANH")),
        ("Đặc khu Phú Quốc", ("Đặc khu", "Phú Quốc")),
        ("Quan Thành", (None, "Quan Thành")),
        ("Thị xã", (None, "Thị xã")),
    ],
)
def test_split_kind(name: str, expected: tuple[str | None, str]) -> None:
    assert split_kind(name) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [("Hoà", "Hòa"), ("Thuỷ", "Thủy"), ("Khoẻ", "Khỏe"), ("Phường Định Hoà", "P. Định Hòa"),
     ("Thị xã Dĩ An", "Thành phố Dĩ An"), ("Phường 01", "P.1")],
)
def test_name_key_equivalences(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_name_key_writes_roman_numerals_in_digits() -> None:
    assert name_key("Xã Cây Trường II") == name_key("Cây Trường 2") == "cay truong 2"
    assert name_key("Vi Xuyên") == "vi xuyen"  # a first word is a name, not a numeral


ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "x": "10"}


def _reference_key(name: str) -> str:
    """Return the key of a name without a kind word, from fold alone (no table shortcuts)."""
    words = [w.lstrip("0") or "0" if w.isdecimal() else w for w in fold(name).split()]
    return " ".join(ROMAN.get(w, w) if i else w for i, w in enumerate(words))


@pytest.mark.parametrize("name", [
    "Điểm lấy mẫu Thới Hòa số 1", "Trạm Y tế (cũ) – khu 3/2", "Nhà thuốc «An Bình» #07",
    "Bệnh viện 30-4, số 00", "Chợ Bến_Cát × 2", "Cơ sở ½ Đồng Nai; 0", "Ấp 1.5 Tân Định",
    "Ñandú ß Ørsted Æble", "Café  ­ soft hyphen", "0012 Tân Uyên 010", "Trạm  \t Y tế\u00a0Dĩ An",
])
def test_name_key_without_kind_equals_folded_words(name: str) -> None:
    assert split_kind(name)[0] is None
    assert name_key(name) == _reference_key(name)


def test_name_key_of_every_latin_character_equals_folded_words() -> None:
    for code in [*range(0x20, 0x250), *range(0x1E00, 0x1F00)]:
        name = f"An {chr(code)}b 0{chr(code)}1"
        assert name_key(name) == _reference_key(name), hex(code)
