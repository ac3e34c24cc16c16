"""Absolute URLs come from EPIMAP_PUBLIC_URL, never from the Host header; other hosts are refused."""

from __future__ import annotations

import pytest

from portal import create_app

PUBLIC = "https://bando.example.gov.vn"


@pytest.fixture
def public_client(connection, database_url):
    app = create_app({"bind": connection, "database_url": database_url, "basemap_url": "",
                      "public_url": PUBLIC, "api_rate_limit": ""})
    return app.test_client()


def test_tilejson_oembed_and_downloads_name_the_public_url(public_client):
    tilejson = public_client.get("/tiles/testing_sites.json", base_url=PUBLIC).get_json()
    assert tilejson["tiles"][0].startswith(f"{PUBLIC}/tiles/testing_sites/")
    oembed = public_client.get(f"/oembed?url={PUBLIC}/map/718", base_url=PUBLIC).get_json()
    assert oembed["provider_url"] == f"{PUBLIC}/" and f"{PUBLIC}/embed/" in oembed["html"]
    geojson = public_client.get("/download/testing_sites.geojson", base_url=PUBLIC).get_json()
    assert geojson["metadata"]["url"].startswith(f"{PUBLIC}/download/testing_sites.geojson?pub=")
    assert geojson["metadata"]["source"] == f"{PUBLIC}/"


def test_urls_keep_the_public_scheme_behind_a_tls_proxy(public_client):
    behind = "http://bando.example.gov.vn"  # the proxy in front ended TLS
    tilejson = public_client.get("/tiles/testing_sites.json", base_url=behind).get_json()
    assert tilejson["tiles"][0].startswith(f"{PUBLIC}/tiles/")
    geojson = public_client.get("/download/testing_sites.geojson", base_url=behind).get_json()
    assert geojson["metadata"]["url"].startswith(f"{PUBLIC}/download/")
    items = public_client.get("/ogc/collections/testing_sites/items?limit=1", base_url=behind).get_json()
    assert all(link["href"].startswith(f"{PUBLIC}/ogc/") for link in items["links"])


@pytest.mark.parametrize("url", ["/tiles/testing_sites.json", "/oembed?url=https://evil.example/map/718",
                                 "/download/testing_sites.csv", "/map/718"])
def test_a_forged_host_is_refused(public_client, url):
    response = public_client.get(url, base_url="https://evil.example")
    assert response.status_code == 400
    assert "evil.example" not in response.get_data(as_text=True)


def test_without_a_public_url_the_local_host_is_used(client):
    tilejson = client.get("/tiles/testing_sites.json").get_json()
    assert tilejson["tiles"][0].startswith("http://localhost/tiles/testing_sites/")


def test_a_public_url_must_be_http(database_url):
    with pytest.raises(ValueError, match="EPIMAP_PUBLIC_URL"):
        create_app({"database_url": database_url, "public_url": "bando.example.gov.vn"})
