"""The feed API (``POST /api/layers/<layer>/feeds``) with bearer tokens of each role and unit."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from epimap.db import session_scope
from officials import accounts
from tests.jobs import job_outcome
from tests.portal.console.helpers import HERE, INSIDE, SCOPES, make_account, make_token, pharmacy_feed

TOKEN_ROLES = ("viewer", "editor", "publisher")
MATRIX = [(role, scope) for role in TOKEN_ROLES for scope in SCOPES]


def _post(client, token: str | None, path, layer: str = "pharmacies", query: str = "", **fields):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with open(path, "rb") as handle:
        accepted = client.post(
            f"/api/layers/{layer}/feeds{query}",
            headers=headers,
            data={"file": (handle, path.name), **fields},
            content_type="multipart/form-data",
        )
    return job_outcome(client, accepted, headers)


@pytest.mark.parametrize(("role", "scope"), MATRIX)
def test_dry_run_reports_rows_outside_the_unit(console, connection, spots, tmp_path, role, scope):
    token = make_token(connection, role, scope)
    response = _post(console, token, pharmacy_feed(tmp_path / "nha_thuoc.csv", spots))
    if role == "viewer":
        assert response.status_code == 403
        assert response.json["error_en"]
        return
    assert response.status_code == 200, response.json
    report = response.json
    assert report["dry_run"] is True and report["publication"] is None and report["upload"]
    accepted = {r["source_id"] for r in report["rows"] if r["status"] == "accepted"}
    assert accepted == {f"NT-{k}" for k in INSIDE[scope]}
    assert {r["reason"] for r in report["rows"] if r["status"] == "rejected"} <= {"out_of_scope"}
    assert report["counts"]["rejected"] == 3 - len(INSIDE[scope])
    assert (
        connection.execute(text("SELECT count(*) FROM feature WHERE layer_id = 'pharmacies'")).scalar() == 0
    )


@pytest.mark.parametrize(("role", "scope"), MATRIX)
def test_publish_inside_and_outside(console, connection, spots, tmp_path, role, scope):
    token = make_token(connection, role, scope)
    inside = _post(
        console,
        token,
        pharmacy_feed(tmp_path / "a.csv", spots, "A"),
        query="?publish=1",
        legal_ref="77/QĐ-SYT",
    )
    if role != "publisher":
        assert inside.status_code == 403
        assert connection.execute(text("SELECT count(*) FROM feed_upload")).scalar() == 0
        return
    assert inside.status_code == 200, inside.json
    assert inside.json["publication"] and inside.json["diff"]["added"] == 1
    row = connection.execute(
        text("SELECT scope_code, author, legal_ref FROM publication WHERE id = :p"),
        {"p": inside.json["publication"]},
    ).one()
    assert row.scope_code == scope and "(token #" in row.author and row.legal_ref == "77/QĐ-SYT"

    # A snapshot of the unit: A again, plus C (outside 718 and 25741).
    outside = _post(console, token, pharmacy_feed(tmp_path / "ac.csv", spots, "AC"), query="?publish=1")
    if "C" in INSIDE[scope]:
        assert outside.status_code == 200 and outside.json["publication"]
    else:
        assert outside.status_code == 422
        assert [r["reason"] for r in outside.json["report"]["rows"]] == [None, "out_of_scope"]
        assert outside.json["report"]["publication"] is None
    published = connection.execute(
        text("SELECT count(*) FROM feature WHERE layer_id = 'pharmacies' AND valid_to_pub IS NULL")
    ).scalar()
    assert published == (2 if "C" in INSIDE[scope] else 1)


def test_no_invalid_or_revoked_token_is_401(console, connection, spots, tmp_path):
    feed = pharmacy_feed(tmp_path / "a.csv", spots, "A")
    missing = _post(console, None, feed)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert _post(console, "epm_not-a-token", feed).status_code == 401
    assert (
        console.post("/api/layers/pharmacies/feeds", headers={"Authorization": "Basic eDp5"}).status_code
        == 401
    )
    token = make_token(connection, "publisher", "74")
    assert _post(console, token, feed).status_code == 200
    with session_scope(connection) as session:
        admin = accounts.principal_of(accounts.get_account(session, "token-maker-publisher-74@test.vn"))
        token_id = accounts.list_tokens(session, admin)[0].id
        accounts.revoke_token(session, admin, token_id, HERE)
    revoked = _post(console, token, feed)
    assert revoked.status_code == 401 and "revoked" in revoked.json["error_en"]


def test_token_of_a_disabled_account_stops_working(console, connection, spots, tmp_path):
    token = make_token(connection, "editor", "718")
    with session_scope(connection) as session:
        accounts.disable_account(session, "token-maker-editor-718@test.vn", by=None, actor="test")
    assert _post(console, token, pharmacy_feed(tmp_path / "a.csv", spots, "A")).status_code == 401


def test_unknown_layer_is_404_and_a_missing_file_400(console, connection, spots, tmp_path):
    token = make_token(connection, "editor", "74")
    response = _post(console, token, pharmacy_feed(tmp_path / "a.csv", spots, "A"), layer="nope")
    assert response.status_code == 404 and response.json["error_vi"]
    empty = console.post("/api/layers/pharmacies/feeds", headers={"Authorization": f"Bearer {token}"})
    assert empty.status_code == 400


def test_session_cookie_does_not_authorise_the_api(console, connection, spots, tmp_path):
    from tests.portal.console.helpers import sign_in

    make_account(connection, "pub@test.vn", "publisher", "74")
    sign_in(console, "pub@test.vn")
    assert _post(console, None, pharmacy_feed(tmp_path / "a.csv", spots, "A")).status_code == 401


def test_unreadable_file_is_422_with_the_reason(console, connection, tmp_path):
    token = make_token(connection, "editor", "74")
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    response = _post(console, token, path)
    assert response.status_code == 422 and response.json["code"] == "empty_file"
    action = connection.execute(text("SELECT action FROM audit_event ORDER BY id DESC LIMIT 1")).scalar()
    assert action == "upload_failed"


def test_a_token_is_stored_hashed_and_scoped_inside_its_creator(connection):
    district = make_account(connection, "admin718@test.vn", "admin", "718")
    with session_scope(connection) as session:
        token, raw = accounts.create_token(session, district, "CDC Thủ Dầu Một", "publisher", "25741", HERE)
        stored = session.execute(
            text("SELECT token_hash FROM api_token WHERE id = :i"), {"i": token.id}
        ).scalar()
        assert raw.startswith("epm_") and raw not in stored and len(stored) == 64
        with pytest.raises(accounts.Denied):
            accounts.create_token(session, district, "tỉnh", "publisher", "74", HERE)
    editor = make_account(connection, "editor718@test.vn", "editor", "718")
    with session_scope(connection) as session, pytest.raises(accounts.Denied):
        accounts.create_token(session, editor, "x", "editor", None, HERE)
