"""Open311 through the ``georeport`` client from PyPI, as it is, against a real server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from georeport import GeoReport
from sqlalchemy import text

from epimap.db import session_scope
from officials import accounts
from tests.dispatch.helpers import SERVICES, file_request
from tests.portal.console.helpers import FAST_HASHER, HERE

EMAIL = "open311-client-test@test.vn"


@pytest.fixture(scope="module")
def filed(engine):
    """Two requests and an operator key of Thủ Dầu Một, committed for the server; removed afterwards."""
    now = datetime.now(UTC) - timedelta(minutes=10)
    food = file_request(engine, at=now, phone="0900000001", description="Cần gạo và mì gói")
    medical = file_request(engine, at=now, kind="medical", phone="0900000002", description="Sốt cao")
    with session_scope(engine) as session:
        account = accounts.create_account(session, EMAIL, accounts.generate_password(), "admin", "vn2021",
                                          "74", by=None, actor="test")
        _token, key = accounts.create_token(session, accounts.principal_of(account), "partner", "operator",
                                            "718", HERE)
    yield food, medical, key
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM service_request WHERE id = ANY(:i) OR source = 'open311'"),
                     {"i": [food.id, medical.id]})
        conn.execute(text("DELETE FROM api_token WHERE account_id ="
                          " (SELECT id FROM account WHERE email = :e)"), {"e": EMAIL})
        conn.execute(text("DELETE FROM account WHERE email = :e"), {"e": EMAIL})


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", FAST_HASHER)


@pytest.mark.parametrize("output", ["json", "xml"])
def test_the_client_lists_services_and_reads_a_definition(live_server, output):
    client = GeoReport(f"{live_server}/open311/v2", output_format=output)
    services = client.get_service_list()
    assert [s["service_code"] for s in services] == list(SERVICES)
    assert services[1]["service_name"] == "Y tế khẩn cấp"
    assert client.get_service_definition("medical")["service_code"] == "medical"


@pytest.mark.parametrize("output", ["json", "xml"])
def test_the_client_reads_requests_and_one_request(live_server, filed, output):
    food, medical, _key = filed
    client = GeoReport(f"{live_server}/open311/v2", output_format=output)
    listed = client.get_service_requests(service_request_id=f"{food.ref},{medical.ref}")
    assert {r["service_request_id"] for r in listed} == {food.ref, medical.ref}
    only_food = client.get_service_requests(service_code="food", status="open")
    only_food = only_food if isinstance(only_food, list) else [only_food]  # xmltodict: one item is a dict
    assert food.ref in {r["service_request_id"] for r in only_food}
    assert medical.ref not in {r["service_request_id"] for r in only_food}
    one = client.get_service_request(medical.ref)
    assert (one["service_request_id"], one["status"], one["service_code"]) == (medical.ref, "open", "medical")
    assert one["agency_responsible"] == "Tổ phản ứng nhanh Phường Hiệp Thành"
    assert one["description"] is None and "Sốt cao" not in str(one) and "0900000002" not in str(one)


def test_the_client_reports_a_missing_request_as_an_http_error(live_server):
    client = GeoReport(f"{live_server}/open311/v2")
    with pytest.raises(requests.HTTPError) as raised:
        client.get_service_request("BD-2222-00")
    assert raised.value.response.status_code == 404
    assert raised.value.response.json()[0]["code"] == 404


def test_a_partner_posts_with_its_key_and_the_client_reads_it_back(live_server, filed):
    _food, _medical, key = filed
    root = f"{live_server}/open311/v2"
    form = {"service_code": "f0_home", "description": "F0 cần thuốc", "address_string": "Phường Hiệp Thành",
            "phone": "0900000003"}
    assert requests.post(f"{root}/requests.json", data=form, timeout=10).status_code == 403
    created = requests.post(f"{root}/requests.json", data={**form, "api_key": key}, timeout=10)
    assert created.status_code == 201, created.text
    ref = created.json()[0]["service_request_id"]
    client = GeoReport(root, api_key=key)
    assert client.get_service_request(ref)["service_code"] == "f0_home"
