"""Bad input at the edge: a NUL character anywhere in a URL, query or form is a 400, never a 500."""

from __future__ import annotations

import pytest

from tests.portal.console.helpers import csrf_of

NUL_URLS = [
    "/map/74%00", "/map/vn2021%00/74", "/map/vn2021/74%00/van-ban", "/api/units?q=Hi%00p",
    "/api/units?q=Hiep&within=7%004", "/api/nearby?layer=testing_sites%00&lat=11&lon=106.6",
    "/tiles/testing_sites%00.json", "/tiles/boundaries/vn2021%00/district/8/203/121.mvt",
    "/download/testing_sites.csv?unit=74%00", "/ogc/collections/testing_sites/items?name=a%00",
    "/ogc/collections/testing_sites/items/a%00", "/embed/74?layers=testing_sites%00",
    "/snapshot/74.png?stat=new%00_cases", "/tim-diem?q=Hi%00p", "/oembed?url=%00",
    "/?lang=vi%00", "/quan-tri/dang-nhap?next=%00",
]


@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_anywhere_in_a_url_is_a_bilingual_400(client, url):
    response = client.get(url)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    body = response.get_data(as_text=True)
    assert "NUL" in body


def test_a_nul_in_a_console_form_is_a_400(client):
    token = csrf_of(client.get("/quan-tri/dang-nhap").get_data(as_text=True))
    response = client.post("/quan-tri/dang-nhap",
                           data={"csrf_token": token, "email": "a\x00@b.vn", "password": "x" * 12})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/ogc?lang=fr", "/api/units?q=An&lang=", "/map/74?lang=EN",
                                 "/download/testing_sites.csv?lang=xx"])
def test_a_language_the_portal_does_not_speak_is_a_bilingual_400(client, url):
    response = client.get(url, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "lang" in response.json["error_vi"] and "lang" in response.json["error_en"]


@pytest.mark.parametrize("url", ["/api/units?q=An", "/healthz", "/ogc/collections",
                                 "/tiles/testing_sites.json", "/embed/74"])
def test_a_method_not_allowed_is_a_405_naming_the_allowed_ones(client, url):
    response = client.open(url, method="TRACE")
    assert response.status_code == 405
    assert {"GET", "HEAD", "OPTIONS"} <= {m.strip() for m in response.headers["Allow"].split(",")}
