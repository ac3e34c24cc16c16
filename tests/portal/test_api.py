"""``/api/units``: the name matcher as JSON."""

from __future__ import annotations


def _codes(client, query: str) -> list[str]:
    response = client.get("/api/units", query_string=query)
    assert response.status_code == 200
    return sorted(u["code"] for u in response.json["units"])


def test_search_ignores_diacritics_case_and_type_words(client):
    assert _codes(client, {"q": "P. Hiệp Thành"}) == ["25741"]
    assert _codes(client, {"q": "phuong hiep thanh"}) == ["25741"]
    assert _codes(client, {"q": "TP Dĩ An"}) == ["724"]
    assert _codes(client, {"q": "Dĩ An"}) == ["25942", "724"]  # the city and its ward


def test_ambiguous_names_return_every_candidate_and_within_narrows(client):
    assert _codes(client, {"q": "Tân Bình"}) == ["25900", "25945"]
    assert _codes(client, {"q": "Tân Bình", "within": "724"}) == ["25945"]
    assert _codes(client, {"q": "Tân Bình", "parent": "Dĩ An"}) == ["25945"]


def test_other_sets_and_no_match(client):
    assert _codes(client, {"q": "An Chau", "set": "vn2025"}) == ["17479"]
    assert _codes(client, {"q": "Nowhere"}) == []


def test_a_blank_query_names_no_unit_so_finds_none(client):
    assert _codes(client, {"q": ""}) == _codes(client, {"q": "   "}) == []


def test_missing_query_is_a_400_in_both_languages(client):
    response = client.get("/api/units")
    assert response.status_code == 400
    assert response.json["error_vi"] and response.json["error_en"]


def test_search_takes_spellings_as_people_type_them(client):
    """Short type words, F. for Phường, Arabic for Roman numerals, a name qualified by its district."""
    assert _codes(client, {"q": "F.Hiệp Thành"}) == ["25741"]
    assert _codes(client, {"q": "P Hiệp Thành"}) == ["25741"]
    assert _codes(client, {"q": "xa An Son"}) == _codes(client, {"q": "Xã An Sơn"}) != []
    assert _codes(client, {"q": "Cây Trường 2"}) == _codes(client, {"q": "Xã Cây Trường II"}) != []
    assert _codes(client, {"q": "Hiệp Thành, Thủ Dầu Một"}) == ["25741"]
    assert _codes(client, {"q": "Tân Bình - DA"}) == ["25945"]
    assert _codes(client, {"q": "An Bình (Dĩ An)"}) == ["25960"]
