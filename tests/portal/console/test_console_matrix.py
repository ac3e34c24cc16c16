"""The role × unit matrix through the console: province 74, district 718 and commune 25741 accounts
of each role, against features inside and outside their area (uploads, publishing, edits, rollbacks,
restricted layers)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from epimap.db import session_scope
from officials import publishing
from tests.portal.console.helpers import (
    HERE,
    INSIDE,
    ROLES,
    SCOPES,
    make_account,
    pharmacy_feed,
    roll_back,
    sign_in,
)

MATRIX = [(role, scope) for role in ROLES for scope in SCOPES]
RANK = {role: i for i, role in enumerate(ROLES)}


def _client(console, connection, role: str, scope: str):
    email = f"{role}.{scope}@soyte.binhduong.gov.vn"
    make_account(connection, email, role, scope)
    return sign_in(console, email)


def _latest_upload(connection) -> int:
    return connection.execute(text("SELECT max(id) FROM feed_upload")).scalar_one()


@pytest.mark.parametrize(("role", "scope"), MATRIX)
def test_upload_preview_and_publish(console, connection, spots, tmp_path, role, scope):
    csrf = _client(console, connection, role, scope)
    feed = pharmacy_feed(tmp_path / "nha_thuoc.csv", spots)
    with feed.open("rb") as handle:
        response = console.post(
            "/quan-tri/tai-len",
            data={"csrf_token": csrf, "layer": "pharmacies", "file": (handle, "nha_thuoc.csv")},
            content_type="multipart/form-data",
        )
    if role == "viewer":
        assert response.status_code == 403
        return
    assert response.status_code == 302
    upload_id = _latest_upload(connection)
    assert response.headers["Location"].endswith(f"/quan-tri/tai-len/{upload_id}")
    upload = _upload(connection, upload_id)
    assert (upload.boundary_set, upload.scope_code) == ("vn2021", scope)
    reasons = {row["source_id"] or row["row"]: row["reason"] for row in upload.report["rows"]}
    accepted = {r["source_id"] for r in upload.report["rows"] if r["status"] == "accepted"}
    assert accepted == {f"NT-{k}" for k in INSIDE[scope]}
    outside = [r for r in upload.report["rows"] if r["status"] == "rejected"]
    assert len(outside) == 3 - len(INSIDE[scope])
    assert all(r["reason"] == "out_of_scope" for r in outside), reasons
    page = console.get(f"/quan-tri/tai-len/{upload_id}")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count("out_of_scope") == len(outside)

    response = console.post(
        f"/quan-tri/tai-len/{upload_id}/xuat-ban", data={"csrf_token": csrf, "legal_ref": "12/QĐ-SYT"}
    )
    if RANK[role] < RANK["publisher"]:
        assert response.status_code == 403
        assert _upload(connection, upload_id).status == "previewed"
        return
    assert response.status_code == 302
    publication = connection.execute(
        text(
            "SELECT id, scope_code, added, removed, legal_ref, author FROM publication"
            " WHERE layer_id = 'pharmacies' ORDER BY id DESC LIMIT 1"
        )
    ).one()
    assert (publication.scope_code, publication.added, publication.removed) == (scope, len(INSIDE[scope]), 0)
    assert publication.legal_ref == "12/QĐ-SYT"
    assert publication.author == f"{role}.{scope}@soyte.binhduong.gov.vn"
    units = (
        connection.execute(
            text(
                "SELECT units ->> 'commune' FROM feature WHERE layer_id = 'pharmacies'"
                " AND valid_to_pub IS NULL"
            )
        )
        .scalars()
        .all()
    )
    assert sorted(units) == sorted(spots[k].commune for k in INSIDE[scope])


@pytest.mark.parametrize(("role", "scope"), MATRIX)
def test_edit_inside_and_outside(console, connection, spots, role, scope):
    csrf = _client(console, connection, role, scope)
    for key, place in spots.items():
        url = f"/quan-tri/lop/testing_sites/sua?id={place.site}"
        before = connection.execute(text("SELECT max(id) FROM publication")).scalar_one()
        response = console.post(
            url, data={"csrf_token": csrf, "attr_hours": f"06:00-18:00 ({key})", "note": "đổi giờ"}
        )
        allowed = RANK[role] >= RANK["publisher"] and key in INSIDE[scope]
        assert response.status_code == (302 if allowed else 403), (key, response.status_code)
        after = connection.execute(
            text(
                "SELECT id, action, changed, added, removed, scope_code FROM publication"
                " ORDER BY id DESC LIMIT 1"
            )
        ).one()
        if allowed:
            assert (after.action, after.changed, after.added, after.removed) == ("edit", 1, 0, 0)
            assert after.scope_code == scope
            hours = connection.execute(
                text(
                    "SELECT props ->> 'hours' FROM feature WHERE layer_id = 'testing_sites'"
                    " AND source_id = :s"
                    " AND valid_to_pub IS NULL"
                ),
                {"s": place.site},
            ).scalar_one()
            assert hours == f"06:00-18:00 ({key})"
        else:
            assert after.id == before


@pytest.fixture
def scoped_publications(connection, spots):
    """Three edit publications of testing_sites, by publishers of 74, 718 and 25741."""
    made = {}
    for scope in SCOPES:
        publisher = make_account(connection, f"pub-{scope}@test.vn", "publisher", scope)
        made[scope], _ = publishing.edit_feature(
            connection, publisher, "testing_sites", spots["A"].site, {"hours": f"giờ {scope}"}, HERE
        )
    return made


@pytest.mark.parametrize(("role", "scope"), MATRIX)
def test_rollback_only_inside(console, connection, scoped_publications, role, scope):
    csrf = _client(console, connection, role, scope)
    page = console.get("/quan-tri/lop/testing_sites").get_data(as_text=True)
    for target_scope, publication in scoped_publications.items():
        allowed = (
            RANK[role] >= RANK["publisher"]
            and target_scope in {"74": SCOPES, "718": ("718", "25741"), "25741": ("25741",)}[scope]
        )
        newest = publication == max(scoped_publications.values())  # rolling back to it changes nothing
        assert (f'/khoi-phuc/{publication}"' in page) == (allowed and not newest)
        response = roll_back(console, csrf, "testing_sites", publication)
        assert response.status_code == (302 if allowed else 403), (target_scope, response.status_code)
        if allowed:
            latest = connection.execute(
                text(
                    "SELECT action, restores_publication, scope_code FROM publication"
                    " ORDER BY id DESC LIMIT 1"
                )
            ).one()
            assert tuple(latest) == ("rollback", publication, target_scope)


@pytest.mark.parametrize(("role", "scope"), MATRIX)
def test_restricted_layer_tiles_for_every_signed_in_official(console_app, connection, role, scope):
    anonymous = console_app.test_client()
    assert anonymous.get("/tiles/home_isolation.json").status_code == 404
    assert anonymous.get("/tiles/home_isolation/1/10/815/483.mvt").status_code == 404
    client = console_app.test_client()
    _client(client, connection, role, scope)
    response = client.get("/tiles/home_isolation.json")
    assert response.status_code == 200
    assert (
        "private" in response.headers["Cache-Control"] and "public" not in response.headers["Cache-Control"]
    )
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Cookie" in response.headers["Vary"]
    assert "public" in client.get("/tiles/testing_sites.json").headers["Cache-Control"]


def _upload(connection, upload_id: int) -> publishing.Upload:
    with session_scope(connection) as session:
        return publishing.get_upload(session, upload_id)
