"""Spellings as people write them: type words, numbers, Roman numerals, names qualified by district."""

from __future__ import annotations

import csv
import json
import unicodedata
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boundaries.names import UnitName, find_names, name_key, split_kind

ROOT = Path(__file__).parents[2]
DATA = ROOT / "data" / "boundaries"


def _props(rel: str) -> list[dict]:
    return [f["properties"] for f in json.loads((DATA / rel).read_text(encoding="utf-8"))["features"]]


@cache
def bundled_sets() -> dict[str, tuple[list[UnitName], dict[str, str]]]:
    """Return every bundled boundary set's units (all levels) and the names of their parents."""
    bd: dict[str, UnitName] = {"74": UnitName("74", "Tỉnh Bình Dương")}
    for p in _props("vn2021/74_binh_duong_districts.geojson"):
        bd[p["dist_code"]] = UnitName(p["dist_code"], p["dist_name"], "74")
    for p in _props("vn2021/communes_74_binh_duong_c2011.geojson"):
        code = p["ward_code_gso"]
        bd.setdefault(code, UnitName(code, p["ward_name_gso"], p["dist_code_gso"]))
    na = {"40": UnitName("40", "Tỉnh Nghệ An")}
    for p in _props("vn2025/wards_40_nghe_an_2025.geojson"):
        na[p["ward_code_gso2025"]] = UnitName(p["ward_code_gso2025"], p["ward_name_gso"], "40")
    out = {}
    for name, units in (("vn2021", bd), ("vn2025", na)):
        out[name] = (list(units.values()), {u.code: u.name for u in units.values()})
    return out


def first(query: str, set_name: str = "vn2021") -> str | None:
    units, parents = bundled_sets()[set_name]
    found = find_names(query, units, parents)
    return found[0].code if found else None


# Table tests: each form people write, against the bundled units.
@pytest.mark.parametrize(("query", "code"), [
    # Phường: full, plain, P./P/F./f.
    ("Phường Hiệp Thành", "25741"), ("phuong hiep thanh", "25741"), ("P.Hiệp Thành", "25741"),
    ("P. Hiệp Thành", "25741"), ("P Hiệp Thành", "25741"), ("F.Hiệp Thành", "25741"),
    ("f.hiep thanh", "25741"), ("PHƯỜNG HIỆP THÀNH", "25741"),
    # Xã: full, plain, X./X
    ("Xã An Sơn", "Xã An Sơn"), ("xa an son", "Xã An Sơn"), ("X.An Sơn", "Xã An Sơn"),
    ("X An Sơn", "Xã An Sơn"), ("xa An Sơn", "Xã An Sơn"),
    # Thị trấn: full, plain, TT./TT
    ("Thị trấn Lai Uyên", "Thị trấn Lai Uyên"), ("thi tran lai uyen", "Thị trấn Lai Uyên"),
    ("TT.Lai Uyên", "Thị trấn Lai Uyên"), ("TT Lai Uyen", "Thị trấn Lai Uyên"),
    # the kind decides between namesakes: Phường / Thị trấn Tân Bình, Phường / Xã Tân Định
    ("F. Tân Bình", "25945"), ("tt tan binh", "25900"), ("P Tân Định", "25852"), ("X Tân Định", "25894"),
    # Quận, Huyện, Thành phố, Thị xã
    ("H. Bàu Bàng", "719"), ("huyen bau bang", "719"), ("H Bàu Bàng", "719"), ("TP. Thủ Dầu Một", "718"),
    ("tp thu dau mot", "718"), ("Tp.Dĩ An", "724"), ("TX. Bến Cát", "721"), ("thi xa ben cat", "721"),
    # Roman and Arabic numbers
    ("Xã Cây Trường 2", "Xã Cây Trường II"), ("Cây Trường 2", "Xã Cây Trường II"),
    ("X. Cây Trường II", "Xã Cây Trường II"), ("xa cay truong 2", "Xã Cây Trường II"),
    # qualified by district: comma, dash, parentheses, abbreviations
    ("Hiệp Thành, Thủ Dầu Một", "25741"), ("Hiệp Thành - TDM", "25741"), ("Hiệp Thành (TP.TDM)", "25741"),
    ("An Bình, Dĩ An", "25960"), ("An Bình - Phú Giáo", "25870"), ("xa an binh, H. Phu Giao", "25870"),
    ("Tân Hiệp - TU", "25920"), ("Tân Hiệp, PG", "25873"), ("Tân Bình, BTU, Bình Dương", "25900"),
    ("Tân Định - Bến Cát", "25852"), ("P. Tân Bình, Tp Dĩ An", "25945"),
])
def test_spellings_2021(query: str, code: str) -> None:
    assert first(query) == (code if code.isdecimal() else _code_of(code))


def _code_of(name: str, set_name: str = "vn2021") -> str:
    return next(u.code for u in bundled_sets()[set_name][0] if u.name == name)


@pytest.mark.parametrize(("a", "b"), [
    ("Phường 1", "P.01"), ("Phường 1", "phường 01"), ("P1", "F.1"), ("Quận 3", "Q.03"), ("Q3", "quan 3"),
    ("Cây Trường II", "Cây Trường 2"), ("Phường IV", "P.4"), ("Thôn XII", "Thôn 12"),
])
def test_numbers_written_either_way(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(("query", "name"), [
    ("Vinh Phu, Nghe An", "Phường Vinh Phú"), ("P. Vinh Phú", "Phường Vinh Phú"),
    ("f.vinh phu", "Phường Vinh Phú"), ("X An Châu", "Xã An Châu"), ("xa an chau", "Xã An Châu"),
])
def test_spellings_2025(query: str, name: str) -> None:
    assert first(query, "vn2025") == _code_of(name, "vn2025")


def test_held_out_spellings_of_binh_duong_are_all_found() -> None:
    """The list in data/held_out_spellings_74.csv (bench/spellings.py reports its hit rate)."""
    with (Path(__file__).parent / "data" / "held_out_spellings_74.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) > 300
    missed = [r["spelling"] for r in rows if first(r["spelling"]) != r["code"]]
    assert missed == []


# Property test: every generated variant of every bundled unit finds that unit first.
def _plain(text: str) -> str:
    s = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in s if not unicodedata.combining(c))


KIND_FORMS = {
    "Phường": ["Phường ", "phường ", "Phuong ", "phuong ", "P.", "P. ", "P ", "p.", "F.", "f.", "F ",
               "PHƯỜNG "],
    "Xã": ["Xã ", "xã ", "Xa ", "xa ", "X.", "X. ", "X ", "x.", "XÃ "],
    "Thị trấn": ["Thị trấn ", "thị trấn ", "Thi tran ", "thi tran ", "TT.", "TT. ", "TT ", "tt "],
    "Quận": ["Quận ", "quan ", "Q.", "Q. "],
    "Huyện": ["Huyện ", "huyen ", "H.", "H. ", "H "],
    "Thành phố": ["Thành phố ", "thanh pho ", "TP.", "TP. ", "TP ", "tp ", "Tp."],
    "Thị xã": ["Thị xã ", "thi xa ", "TX.", "TX. ", "TX ", "tx "],
    "Tỉnh": ["Tỉnh ", "tinh "],
}
ROMAN_TO_ARABIC = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5"}


def _district_forms(name: str) -> list[str]:
    kind, bare = split_kind(name)
    initials = "".join(w[0] for w in _plain(bare).split()).upper()
    return [bare, _plain(bare), name, *([initials] if len(bare.split()) > 1 else [])]


@st.composite
def variants(draw: st.DrawFn) -> tuple[str, str, str]:
    set_name = draw(st.sampled_from(sorted(bundled_sets())))
    units, parents = bundled_sets()[set_name]
    unit = draw(st.sampled_from(units))
    kind, bare = split_kind(unit.name)
    words = bare.split()
    if words[-1] in ROMAN_TO_ARABIC and draw(st.booleans()):
        words[-1] = ROMAN_TO_ARABIC[words[-1]]
    if words[-1].isdecimal() and draw(st.booleans()):
        words[-1] = words[-1].zfill(2)
    bare = " ".join(words)
    if draw(st.booleans()):
        bare = _plain(bare)
    bare = draw(st.sampled_from([bare, bare.lower(), bare.upper()]))
    prefix = draw(st.sampled_from(KIND_FORMS[kind])) if kind else ""
    query = prefix + bare
    sep = draw(st.sampled_from([", ", ",", " - ", " (", "-"]))
    if unit.parent_code in parents and parents[unit.parent_code]:
        parent = draw(st.sampled_from(_district_forms(parents[unit.parent_code])))
        if draw(st.booleans()) or not _unique(set_name, unit):
            query += sep + parent + (")" if sep == " (" else "")
    return set_name, unit.code, query


def _unique(set_name: str, unit: UnitName) -> bool:
    """Tell whether the unit's kind and name are its own in the set (else only its district tells)."""
    units, _ = bundled_sets()[set_name]
    return sum(name_key(u.name) == name_key(unit.name) and split_kind(u.name)[0] == split_kind(unit.name)[0]
               for u in units) == 1


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(variants())
def test_every_variant_finds_its_unit_first(case: tuple[str, str, str]) -> None:
    set_name, code, query = case
    assert first(query, set_name) == code, query


@pytest.mark.parametrize("set_name", ["vn2021", "vn2025"])
def test_every_unit_of_every_bundled_set_finds_itself_in_every_kind_form(set_name: str) -> None:
    units, parents = bundled_sets()[set_name]
    missed = []
    for i, unit in enumerate(units):
        kind, bare = split_kind(unit.name)
        forms = KIND_FORMS[kind] if kind else [""]
        for prefix in {forms[0], forms[i % len(forms)], forms[(i + 3) % len(forms)]}:  # rotating
            for name in {bare, _plain(bare).lower()}:
                query = prefix + name
                if not _unique(set_name, unit):
                    query += ", " + parents[unit.parent_code]
                if first(query, set_name) != unit.code:
                    missed.append(query)
    assert missed == []
