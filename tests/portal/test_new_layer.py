"""A new point layer is a catalogue entry only: tiles, finder, nearby API and downloads serve it as is."""

from __future__ import annotations

import csv
import io

import mapbox_vector_tile
import pytest
import yaml

from ingest.pipeline import IngestOptions, ingest_feed
from layers.catalog import CATALOG_FILE, load_catalog
from portal import create_app
from tests.ingest.builders import write_csv
from tests.portal.console.helpers import places
from tests.portal.test_tiles import tile_of

CLINICS = {
    "title": {"vi": "Trạm y tế lưu động", "en": "Mobile clinics"},
    "kind": "point", "searchable": True, "finder_key": "clinic", "public": True,
    "icon": "truck-medical", "color": "#0e9384", "cluster_below_zoom": 12,
    "attributes": [
        {"name": "name", "type": "text", "required": True, "aliases": ["ten tram*", "name*"],
         "label": {"vi": "Tên trạm", "en": "Name"}},
        {"name": "hours", "type": "text", "aliases": ["gio lam viec", "hours"],
         "label": {"vi": "Giờ làm việc", "en": "Hours"}},
    ],
}


@pytest.fixture
def clinics(tmp_path, connection, database_url):
    """A catalogue with one more layer, a feed of two clinics published into it, and the app."""
    data = yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))
    data["layers"]["mobile_clinics"] = CLINICS
    catalog_file = tmp_path / "catalog.yml"
    catalog_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    spots = places(connection)
    feed = write_csv(tmp_path / "tram_luu_dong.csv", ["Mã", "Tên trạm", "Giờ làm việc", "Vĩ độ", "Kinh độ"], [
        ["LD-1", "Trạm lưu động Hiệp Thành", "00:00-24:00", spots["A"].lat, spots["A"].lon],
        ["LD-2", "Trạm lưu động Tân Đông Hiệp", "00:00-24:00", spots["C"].lat, spots["C"].lon],
    ])
    report = ingest_feed(connection, feed, "mobile_clinics", load_catalog(catalog_file),
                         IngestOptions(set_name="vn2021", scope_code="74"))
    assert report.publication and len(report.accepted) == 2
    app = create_app({"bind": connection, "database_url": database_url, "basemap_url": "",
                      "catalog_file": str(catalog_file), "api_rate_limit": ""})
    return app.test_client(), report.publication, spots


def test_its_tiles_and_tilejson(clinics):
    client, publication, spots = clinics
    tilejson = client.get("/tiles/mobile_clinics.json").get_json()
    assert (tilejson["publication"], tilejson["features"]) == (publication, 2)
    x, y = tile_of(spots["A"].lon, spots["A"].lat, 15)
    tile = client.get(f"/tiles/mobile_clinics/{publication}/15/{x}/{y}.mvt")
    assert tile.status_code == 200
    features = mapbox_vector_tile.decode(tile.data)["mobile_clinics"]["features"]
    names = [f["properties"]["name"] for f in features]
    assert names == ["Trạm lưu động Hiệp Thành"]


def test_the_nearby_api_and_the_finder_search_it(clinics):
    client, _, spots = clinics
    here = f"lat={spots['A'].lat}&lon={spots['A'].lon}"
    body = client.get(f"/api/nearby?layer=mobile_clinics&{here}").get_json()
    assert [f["id"] for f in body["features"]] == ["LD-1", "LD-2"]
    assert body["features"][0]["properties"]["distance_m"] < 1
    page = client.get(f"/tim-diem?kind=clinic&code={spots['A'].commune}").get_data(as_text=True)
    assert 'value="clinic"' in page and "Trạm lưu động Hiệp Thành" in page


def test_its_downloads(clinics):
    client, publication, _ = clinics
    response = client.get("/download/mobile_clinics.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    data = [row for row in rows if row and not row[0].startswith("#")]
    assert data[0][:3] == ["Mã / ID", "Tên trạm / Name", "Giờ làm việc / Hours"]
    assert sorted(row[1] for row in data[1:]) == ["Trạm lưu động Hiệp Thành", "Trạm lưu động Tân Đông Hiệp"]
    geojson = client.get("/download/mobile_clinics.geojson").get_json()
    assert geojson["metadata"]["publication"] == publication and len(geojson["features"]) == 2


def test_the_bundled_portal_does_not_know_it(client):
    assert client.get("/tiles/mobile_clinics.json").status_code == 404
    assert client.get("/api/nearby?layer=mobile_clinics&lat=11&lon=106.6").status_code == 400
