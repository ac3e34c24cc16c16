"""Open311 GeoReport v2: shapes in JSON and XML, keys and their units, filters, privacy, errors."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import text

from dispatch import store
from epimap.db import session_scope
from officials import accounts
from tests.dispatch.helpers import SERVICES, file_request
from tests.portal.console.helpers import FAST_HASHER, make_account, make_token, places, sign_in

ROOT = "/open311/v2"
REF = r"^[A-Z]{1,4}-[2-9A-Z]{4}-[0-9]{2}$"
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code",
                  "description", "agency_responsible", "service_notice", "requested_datetime",
                  "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
                  "media_url"}
SECRET = {"phone": "0987654321", "name": "Nguyễn Văn Bí Mật", "address": "Số 12 hẻm 34 đường Bí Mật",
          "description": "Cụ bà sống một mình cần thuốc huyết áp"}


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", FAST_HASHER)


@pytest.fixture
def spots(connection):
    return places(connection)


def _filed(connection, spot, **fields):
    values = {"phone": SECRET["phone"], "name": SECRET["name"], "address": SECRET["address"],
              "description": SECRET["description"], "lon": spot.lon, "lat": spot.lat, "commune": None}
    return file_request(connection, at=datetime.now(UTC) - timedelta(minutes=5), **{**values, **fields})


def _xml(response) -> ElementTree.Element:
    assert response.mimetype == "text/xml"
    return ElementTree.fromstring(response.get_data())


def _errors(response, fmt: str) -> list[dict]:
    if fmt == "json":
        body = response.get_json()
        assert isinstance(body, list)
        return body
    root = _xml(response)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"] * len(root)
    return [{"code": int(e.findtext("code")), "description": e.findtext("description")} for e in root]


def test_services_list_every_catalogue_kind_in_json_and_xml(client):
    listed = client.get(f"{ROOT}/services.json").get_json()
    assert [s["service_code"] for s in listed] == list(SERVICES)
    food = listed[0]
    assert food == {"service_code": "food", "service_name": "Thực phẩm, nhu yếu phẩm",
                    "description": SERVICES["food"].description_vi, "metadata": False, "type": "realtime",
                    "keywords": "food, commune", "group": "Yêu cầu hỗ trợ của người dân"}
    root = _xml(client.get(f"{ROOT}/services.xml?lang=en"))
    assert root.tag == "services" and len(root) == len(SERVICES)
    first = root.find("service")
    assert [c.tag for c in first] == list(food)
    assert (first.findtext("service_name"), first.findtext("metadata")) == ("Food and essentials", "false")


def test_a_service_definition_and_an_unknown_one(client):
    definition = client.get(f"{ROOT}/services/medical.json").get_json()
    assert definition == {"service_code": "medical", "attributes": []}
    root = _xml(client.get(f"{ROOT}/services/medical.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "medical"
    for fmt in ("json", "xml"):
        response = client.get(f"{ROOT}/services/nope.{fmt}")
        assert response.status_code == 404
        assert [e["code"] for e in _errors(response, fmt)] == [404]


def test_discovery_names_the_endpoint_and_its_formats(client):
    found = client.get(f"{ROOT}/discovery.json").get_json()
    endpoint = found["endpoints"][0]
    assert endpoint["url"].endswith("/open311/v2") and endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    assert found["key_service"].endswith("/quan-tri/khoa-api")
    root = _xml(client.get(f"{ROOT}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["application/json", "text/xml"]


def _post(client, fmt="json", **form):
    return client.post(f"{ROOT}/requests.{fmt}", data=form)


def _count(connection) -> int:
    return connection.execute(text("SELECT count(*) FROM service_request")).scalar_one()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_needs_a_live_key_of_the_operator_role(client, connection, spots, fmt):
    form = {"service_code": "food", "description": "Cần gạo", "lat": spots["A"].lat, "long": spots["A"].lon,
            "phone": "0912345678"}
    before = _count(connection)
    for key in (None, "epm_not-a-key", make_token(connection, "viewer", "74")):
        response = _post(client, fmt, **form, **({"api_key": key} if key else {}))
        assert response.status_code == 403, response.get_data(as_text=True)
        assert _errors(response, fmt)[0]["code"] == 403
    assert _count(connection) == before


def test_post_with_a_key_files_the_request_and_answers_its_code(client, connection, spots):
    key = make_token(connection, "operator", "718")
    response = _post(client, api_key=key, service_code="medical", description="Sốt cao, khó thở",
                     lat=spots["A"].lat, long=spots["A"].lon, first_name="Lan", last_name="Trần",
                     phone="0912 345 678", email="lan@example.vn", media_url="https://example.vn/a.jpg")
    assert response.status_code == 201, response.get_data(as_text=True)
    [answer] = response.get_json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["account_id"] is None and re.match(REF, answer["service_request_id"])
    assert "30 phút" in answer["service_notice"] and "Tổ phản ứng nhanh" in answer["service_notice"]
    with session_scope(connection) as session:
        stored = store.get_by_ref(session, answer["service_request_id"])
    assert (stored.kind, stored.commune_code, stored.source, stored.name, stored.phone, stored.has_photo) == \
        ("medical", spots["A"].commune, "open311", "Lan Trần", "0912345678", False)
    assert response.headers["Cache-Control"] == "private, no-store"


def test_post_by_commune_name_and_in_xml(client, connection):
    key = make_token(connection, "operator", "74")
    response = _post(client, "xml", api_key=key, service_code="food", description="Hết gạo",
                     address_string="Phường Hiệp Thành", phone="0912345678")
    assert response.status_code == 201
    root = _xml(response)
    assert root.tag == "service_requests" and root.find("request/account_id").text is None
    with session_scope(connection) as session:
        stored = store.get_by_ref(session, root.findtext("request/service_request_id"))
    assert (stored.commune_code, stored.address) == ("25741", "Phường Hiệp Thành")


def test_a_key_of_another_unit_is_refused_and_nothing_is_stored(client, connection, spots):
    key = make_token(connection, "operator", "25741")
    before = _count(connection)
    response = _post(client, api_key=key, service_code="food", description="Cần gạo", lat=spots["B"].lat,
                     long=spots["B"].lon, phone="0912345678")
    assert response.status_code == 403
    assert "outside" in _errors(client.post(f"{ROOT}/requests.json?lang=en", data={
        "api_key": key, "service_code": "food", "description": "x", "lat": spots["C"].lat,
        "long": spots["C"].lon, "phone": "0912345678"}), "json")[0]["description"]
    assert _count(connection) == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_wrong_fields_are_400_one_error_each(client, connection, fmt):
    key = make_token(connection, "operator", "74")
    response = _post(client, fmt, api_key=key, service_code="nope", description="", lat="abc", long="106.6")
    assert response.status_code == 400
    assert [e["code"] for e in _errors(response, fmt)] == [400]
    response = _post(client, fmt, api_key=key, service_code="nope", description="", phone="12")
    errors = _errors(response, fmt)
    assert response.status_code == 400 and len(errors) >= 3
    assert {e["description"].split(":")[0] for e in errors} >= {"kind", "description", "phone"}


def test_public_reads_show_nothing_personal(client, connection, spots):
    filed = _filed(connection, spots["A"])
    unit = connection.execute(text("SELECT name, ST_X(label_point) AS lon, ST_Y(label_point) AS lat"
                                   " FROM admin_unit WHERE boundary_set = 'vn2021' AND code = :c"),
                              {"c": spots["A"].commune}).one()
    for url in (f"{ROOT}/requests.json", f"{ROOT}/requests.xml", f"{ROOT}/requests/{filed.ref}.json",
                f"{ROOT}/requests/{filed.ref}.xml"):
        response = client.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and filed.ref in body
        for secret in (*SECRET.values(), "0987", str(spots["A"].lat), str(spots["A"].lon)):
            assert secret not in body, (url, secret)
        assert response.headers["Cache-Control"].startswith("public")
    [one] = client.get(f"{ROOT}/requests/{filed.ref}.json").get_json()
    assert set(one) == REQUEST_FIELDS
    assert (one["address"], one["lat"], one["long"], one["description"], one["media_url"]) == \
        (unit.name, unit.lat, unit.lon, None, None)
    assert (one["status"], one["service_code"]) == ("open", "food")
    assert one["agency_responsible"] == f"Tổ phản ứng nhanh {unit.name}"


def test_a_key_in_scope_reads_the_whole_request_and_another_unit_does_not(client, connection, spots):
    filed = _filed(connection, spots["A"])
    inside, outside = make_token(connection, "viewer", "718"), make_token(connection, "viewer", "724")
    [full] = client.get(f"{ROOT}/requests/{filed.ref}.json?api_key={inside}").get_json()
    assert (full["description"], full["lat"], full["long"]) == (SECRET["description"], filed.lat, filed.lon)
    assert SECRET["address"] in full["address"]
    response = client.get(f"{ROOT}/requests/{filed.ref}.json?api_key={outside}")
    assert response.headers["Cache-Control"] == "private, no-store"
    [seen] = response.get_json()
    assert seen["description"] is None and SECRET["address"] not in json.dumps(seen, ensure_ascii=False)
    assert client.get(f"{ROOT}/requests.json?api_key=epm_wrong").status_code == 403


def test_filters_by_ids_service_status_and_dates(client, connection, spots):
    food = _filed(connection, spots["A"])
    medical = _filed(connection, spots["B"], kind="medical", phone="0911111111")
    connection.execute(text("UPDATE service_request SET status = 'resolved' WHERE id = :i"),
                       {"i": medical.id})

    def refs(query: str) -> list[str]:
        response = client.get(f"{ROOT}/requests.json?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return [r["service_request_id"] for r in response.get_json()]

    assert set(refs(f"service_request_id={food.ref},{medical.ref.lower()}")) == {food.ref, medical.ref}
    assert medical.ref not in refs("service_code=food") and food.ref in refs("service_code=food")
    assert set(refs("service_code=food,medical")) >= {food.ref, medical.ref}
    assert medical.ref in refs("status=closed") and food.ref not in refs("status=closed")
    assert food.ref in refs("status=open") and medical.ref not in refs("status=open")
    assert refs("start_date=2021-08-01T00:00:00Z&end_date=2021-08-31T00:00:00Z") == []
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert {food.ref, medical.ref} <= set(refs(f"start_date={yesterday}"))


@pytest.mark.parametrize("query", ["status=pending", "start_date=yesterday",
                                   "start_date=2021-01-01T00:00:00Z&end_date=2021-08-01T00:00:00Z"])
def test_bad_filters_are_400_in_the_spec_format(client, query):
    for fmt in ("json", "xml"):
        response = client.get(f"{ROOT}/requests.{fmt}?{query}")
        assert response.status_code == 400
        assert _errors(response, fmt)[0]["code"] == 400


def test_an_unknown_request_is_404_in_both_formats(client):
    for fmt in ("json", "xml"):
        response = client.get(f"{ROOT}/requests/BD-2222-00.{fmt}")
        assert response.status_code == 404 and _errors(response, fmt)[0]["code"] == 404
    assert client.get(f"{ROOT}/nothing-here.xml").status_code == 404
    assert _xml(client.get(f"{ROOT}/nothing-here.xml")).tag == "errors"


def test_the_token_page_offers_operator_keys_for_open311(client, connection):
    make_account(connection, "publisher-open311@test.vn", "publisher", "74")
    sign_in(client, "publisher-open311@test.vn")
    page = client.get("/quan-tri/khoa-api").get_data(as_text=True)
    assert '<option value="operator">' in page and "Open311" in page and "/open311/v2/requests.json" in page
