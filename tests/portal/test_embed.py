"""Embed pages (no chrome, framable anywhere, no cookies, pinned publications) and oEmbed."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote

import pytest
from sqlalchemy import text

from tests.ingest.builders import changed_checkpoints
from tests.ingest.helpers import run


def _count_in(connection, layer_id: str, publication: int, district: str) -> int:
    return connection.execute(text(
        "SELECT count(*) FROM feature WHERE layer_id = :l AND valid_from_pub <= :p"
        " AND (valid_to_pub IS NULL OR valid_to_pub > :p) AND units ->> 'district' = :d"),
        {"l": layer_id, "p": publication, "d": district}).scalar()


def _publication(connection, layer_id: str) -> int:
    return connection.execute(text("SELECT max(id) FROM publication WHERE layer_id = :l"),
                              {"l": layer_id}).scalar()


def _overlays(page: str) -> dict[str, dict]:
    """Return the overlays' metadata written into a map page's script, by layer."""
    metas = re.search(r"epimap\.addLegend\([^,]+, (\[.*?\])\);", page).group(1)
    return {meta["id"]: meta for meta in json.loads(metas)}


def _tile_publications(page: str) -> dict[str, int]:
    return {layer: int(pub) for layer, pub in re.findall(r"'/tiles/([a-z_]+)/(\d+)/\{z\}", page)}


def _shown(page: str) -> set[str]:
    """Return the layers a map page adds to the map at start (the others wait in the layer switcher)."""
    grids = dict(re.findall(r"var (vector_grid_protobuf_\w+) = L.vectorGrid.protobuf\(\s*'/tiles/([a-z_]+)/",
                            page))
    return {grids[name] for name in re.findall(r"(vector_grid_protobuf_\w+)\.addTo\(", page)} - {"boundaries"}


def test_embed_is_the_unit_map_without_the_portal_around_it(client):
    response = client.get("/embed/718")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "topbar" not in page and "unit-panel" not in page and "<h1>" not in page
    assert "/tiles/boundaries/vn2021/commune/{z}/{x}/{y}.mvt" in page
    assert "Phường Phú Cường" in page
    assert set(_overlays(page)) == set(_overlays(client.get("/map/718").get_data(as_text=True)))
    source = re.search(r'<a class="embed-source" href="([^"]+)" target="_blank" rel="noopener">([^<]+)</a>',
                       page)
    assert source.group(1) == "http://localhost/map/718"
    # The source names the issuing authority (EPIMAP_SOURCE_AUTHORITY) before the portal.
    assert re.fullmatch(r"Nguồn: CDC Bình Dương · epimap · cập nhật \d\d/\d\d/\d{4} \d\d:\d\d",
                        source.group(2))
    assert 'data-attribution="Nguồn: CDC Bình Dương · epimap · CC BY 4.0"' in page
    assert "/static/embed.js" in page and "/static/share.css" in page


def test_embed_headers_framable_anywhere_cached_and_no_cookie(client):
    response = client.get("/embed/718?lang=en")
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert "X-Frame-Options" not in response.headers
    assert "Set-Cookie" not in response.headers
    policy = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors *" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy)
    page = response.get_data(as_text=True)
    if nonce:  # every inline script may run under the policy
        inline = re.findall(r"<script(?![^>]*src=)[^>]*>", page)
        assert inline and all(f'nonce="{nonce.group(1)}"' in tag for tag in inline)
    assert 'lang="en"' in page and "Source: CDC Bình Dương · epimap · updated" in page
    # The unit page still remembers an explicit language; the embed's language is only its URL's.
    assert "lang=en" in client.get("/map/718?lang=en").headers["Set-Cookie"]
    assert 'lang="vi"' in client.get("/embed/718").get_data(as_text=True)


def test_embed_of_a_unit_in_another_set_links_back_with_its_statistic(client):
    page = client.get("/embed/vn2025/40?stat=cases_per_100k&lang=en").get_data(as_text=True)
    assert 'href="http://localhost/map/vn2025/40?stat=cases_per_100k&amp;lang=en"' in page
    assert '"/embed/vn2025/__CODE__?stat=cases_per_100k\\u0026lang=en"' in page  # children open as embeds


def test_layers_choose_the_overlays_and_show_them_all(client):
    page = client.get("/embed/718?layers=checkpoints,pharmacies,testing_sites").get_data(as_text=True)
    assert set(_overlays(page)) == {"checkpoints", "testing_sites"}  # pharmacies has no publication
    assert _shown(page) == {"checkpoints", "testing_sites"}
    assert _shown(client.get("/embed/718").get_data(as_text=True)) == {"testing_sites", "lockdown_zones"}
    none = client.get("/embed/718?layers=").get_data(as_text=True)
    assert "addLegend" not in none and "/tiles/boundaries/" in none


def test_pinned_embed_keeps_its_publication_after_a_new_one(client, connection, tmp_path):
    old = _publication(connection, "checkpoints")
    pinned_url = f"/embed/718?layers=checkpoints,testing_sites&pub=checkpoints:{old},testing_sites:" \
        f"{_publication(connection, 'testing_sites')}&date=2021-08-10"
    before = client.get(pinned_url)
    assert before.headers["Cache-Control"] == "public, max-age=86400"
    report = run(connection, changed_checkpoints(tmp_path / "chot.csv"), "checkpoints")
    new = report.publication
    assert new and new != old
    pinned = client.get(pinned_url).get_data(as_text=True)
    live = client.get("/embed/718?layers=checkpoints,testing_sites").get_data(as_text=True)
    assert _tile_publications(pinned)["checkpoints"] == old
    # The legend counts what lies in the unit shown (Thủ Dầu Một), not the province's 25 and 24.
    assert _overlays(pinned)["checkpoints"]["count"] == _count_in(connection, "checkpoints", old, "718")
    assert _tile_publications(live)["checkpoints"] == new
    assert _overlays(live)["checkpoints"]["count"] == _count_in(connection, "checkpoints", new, "718")
    assert _overlays(pinned) == _overlays(before.get_data(as_text=True))
    partly = client.get(f"/embed/718?pub=checkpoints:{old}&date=2021-08-10")
    assert partly.headers["Cache-Control"] == "public, max-age=60"  # the other layers are live
    undated = client.get(f"/embed/718?layers=checkpoints&pub=checkpoints:{old}")
    assert undated.headers["Cache-Control"] == "public, max-age=60"  # the figures follow the latest day


@pytest.mark.parametrize(("query", "status"), [
    ("pub=checkpoints:abc", 400),
    ("pub=checkpoints", 400),
    ("pub=checkpoints:{checkpoints},checkpoints:{checkpoints}", 400),
    ("pub=no_such_layer:1", 404),
    ("pub=home_isolation:1", 404),
    ("pub=checkpoints:999999", 404),
    ("layers=no_such_layer", 400),
    ("layers=home_isolation", 400),
    ("layers=testing_sites&pub=checkpoints:{checkpoints}", 400),
    ("stat=nope", 400),
    ("date=31/12/2021", 400),
])
def test_bad_embed_parameters(client, connection, query, status):
    query = query.format(checkpoints=_publication(connection, "checkpoints"))
    assert client.get(f"/embed/718?{query}").status_code == status


def test_publication_of_another_layer_is_not_pinned(client, connection):
    other = _publication(connection, "testing_sites")
    response = client.get(f"/embed/718?pub=checkpoints:{other}")
    assert response.status_code == 404
    assert client.get("/embed/99999").status_code == 404
    assert client.get("/embed/nosuchset/74").status_code == 404


# ------------------------------------------------------------------------------ oEmbed


def _oembed(client, url: str, **params: str):
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in {"url": url, **params}.items())
    return client.get(f"/oembed?{query}")


def test_oembed_describes_a_map_page_as_a_rich_iframe(client):
    response = _oembed(client, "http://localhost/map/718?stat=cases_per_100k", format="json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert (body["width"], body["height"]) == (800, 600)
    assert body["title"] == "Thành phố Thủ Dầu Một · epimap"
    assert body["provider_name"] == "epimap" and body["provider_url"] == "http://localhost/"
    assert body["html"] == ('<iframe src="http://localhost/embed/718?stat=cases_per_100k" width="800"'
                            ' height="600" style="border:0" loading="lazy"'
                            ' title="Thành phố Thủ Dầu Một · epimap"></iframe>')
    assert body["thumbnail_url"] == "http://localhost/snapshot/718.png?stat=cases_per_100k"
    assert (body["thumbnail_width"], body["thumbnail_height"]) == (960, 720)
    assert client.get(body["thumbnail_url"]).status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response.headers


def test_oembed_respects_max_sizes_and_pinned_embeds(client, connection):
    body = _oembed(client, "http://localhost/map/vn2025/40", maxwidth="500", maxheight="300").get_json()
    assert (body["width"], body["height"]) == (500, 300)
    assert 'width="500" height="300"' in body["html"] and "thumbnail_url" not in body
    assert 'src="http://localhost/embed/vn2025/40"' in body["html"]
    pub = _publication(connection, "checkpoints")
    url = f"http://localhost/embed/718?layers=checkpoints&pub=checkpoints:{pub}&lang=en"
    assert _oembed(client, url).get_json()["cache_age"] == 60  # the figures' day is not fixed
    body = _oembed(client, url + "&date=2021-08-10").get_json()
    assert body["cache_age"] == 86400
    assert f"/embed/718?layers=checkpoints&amp;date=2021-08-10&amp;pub=checkpoints:{pub}&amp;lang=en" \
        in body["html"]
    home = _oembed(client, "http://localhost/").get_json()
    assert "/embed/74" in home["html"]


@pytest.mark.parametrize(("params", "status"), [
    ({"url": "http://localhost/map/718", "format": "xml"}, 501),
    ({"url": "http://example.org/map/718"}, 404),
    ({"url": "javascript:alert(1)"}, 404),
    ({"url": "http://localhost/tim-diem"}, 404),
    ({"url": "http://localhost/tiles/testing_sites.json"}, 404),
    ({"url": "http://localhost/map/99999"}, 404),
    ({"url": "http://localhost/nowhere"}, 404),
    ({"url": "http://localhost/map/718?stat=nope"}, 400),
    ({"url": "http://localhost/map/718", "maxwidth": "wide"}, 400),
    ({"url": "http://localhost/map/718", "maxwidth": "10001"}, 400),  # the document's maximum
    ({"url": ""}, 404),  # names none of our pages, as any other URL
    ({"url": "  "}, 404),
    ({}, 400),  # url is required
])
def test_oembed_errors(client, params, status):
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    response = client.get(f"/oembed?{query}")
    assert response.status_code == status
    assert response.get_json()["status"] == status


def test_map_pages_announce_their_oembed(client):
    page = client.get("/map/718?lang=en").get_data(as_text=True)
    link = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', page)
    assert link
    response = client.get(html.unescape(link.group(1)).removeprefix("http://localhost"))
    assert response.status_code == 200
    assert "/embed/718?lang=en" in response.get_json()["html"]


def test_unit_page_offers_embedding_and_downloads(client, connection):
    page = client.get("/map/718").get_data(as_text=True)
    assert '<dialog id="embed-dialog"' in page and "Nhúng bản đồ" in page
    assert 'data-embed-url="http://localhost/embed/718"' in page
    pub = _publication(connection, "testing_sites")
    assert f'value="testing_sites" data-publication="{pub}" checked' in page
    assert "/download/testing_sites.csv?unit=718" in page
    assert "/download/lockdown_zones.geojson?unit=718" in page
    assert "/snapshot/718.png?" in page
    text_view = client.get("/map/vn2021/718/van-ban").get_data(as_text=True)
    assert "/download/testing_sites.xlsx?unit=718" in text_view and "<script" not in text_view
    other_set = client.get("/map/vn2025/40").get_data(as_text=True)
    assert "Chưa có lớp dữ liệu" not in other_set and "unit=40&amp;set=vn2025" in other_set


def test_oembed_describes_the_text_view_too(client):
    for path in ("/map/vn2021/718/van-ban", "/map/vn2021/718/text?lang=en"):
        response = _oembed(client, f"http://localhost{path}")
        assert response.status_code == 200, path
        assert 'src="http://localhost/embed/718' in response.get_json()["html"]
    page = client.get("/map/vn2021/718/van-ban").get_data(as_text=True)
    assert 'type="application/json+oembed"' in page


@pytest.mark.parametrize("path", ["/map/718?stat=cases_per_100k", "/map/vn2021/718/van-ban"])
def test_map_pages_carry_open_graph_and_twitter_cards_with_the_map_image(client, path):
    page = client.get(path).get_data(as_text=True)
    meta = dict(re.findall(r'<meta (?:property|name)="((?:og|twitter):[a-z:_]+)" content="([^"]*)"', page))
    assert meta["og:title"] == meta["twitter:title"] == "Thành phố Thủ Dầu Một"
    assert meta["og:type"] == "website" and meta["twitter:card"] == "summary_large_image"
    image = html.unescape(meta["og:image"])
    assert image == html.unescape(meta["twitter:image"])
    assert image.startswith("http://localhost/snapshot/718.png")
    assert (meta["og:image:width"], meta["og:image:height"]) == ("960", "720")
    assert "CDC Bình Dương" in meta["og:description"]
    picture = client.get(image.removeprefix("http://localhost"))
    assert picture.status_code == 200 and picture.mimetype == "image/png"
