"""Hardening: CSRF, Content-Security-Policy and frame-ancestors, nosniff, cookies, the 413, the
secret key, and an audit log nobody can alter through the app."""

from __future__ import annotations

import re
import stat

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from epimap.settings import load_settings
from portal import create_app
from portal.security import secret_key
from tests.ingest.helpers import SAMPLES
from tests.portal.console.helpers import csrf_of, make_account, make_token, sign_in

SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def _csp(response) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))


# ----------------------------------------------------------------------------------------- CSRF


def test_sign_in_needs_the_form_token(console, connection):
    make_account(connection, "a@test.vn", "admin", "74")
    csrf_of(console.get("/quan-tri/dang-nhap").get_data(as_text=True))
    assert (
        console.post("/quan-tri/dang-nhap", data={"email": "a@test.vn", "password": "x" * 12}).status_code
        == 400
    )
    response = console.post("/quan-tri/dang-nhap", data={"email": "a@test.vn", "csrf_token": "forged"})
    assert response.status_code == 400
    assert "hết hạn" in response.get_data(as_text=True)


@pytest.mark.parametrize("sent", [None, "", "wrong-token"])
def test_state_changing_requests_without_the_right_token_are_refused(console, connection, sent):
    make_account(connection, "pub@test.vn", "admin", "74")
    sign_in(console, "pub@test.vn")
    data = {} if sent is None else {"csrf_token": sent}
    before = connection.execute(text("SELECT count(*) FROM publication")).scalar()
    for url, extra in (
        ("/quan-tri/lop/testing_sites/khoi-phuc", {"publication": "1"}),
        ("/quan-tri/tai-khoan", {"email": "x@test.vn", "role": "viewer"}),
        ("/quan-tri/khoa-api", {"name": "x", "role": "editor"}),
        ("/quan-tri/dang-xuat", {}),
    ):
        assert console.post(url, data={**data, **extra}).status_code == 400, url
    assert connection.execute(text("SELECT count(*) FROM publication")).scalar() == before
    assert connection.execute(text("SELECT count(*) FROM account")).scalar() == 1
    assert console.get("/quan-tri/").status_code == 200  # still signed in: the sign-out was refused


def test_a_cross_site_origin_is_refused_even_with_the_token(console, connection):
    make_account(connection, "pub@test.vn", "admin", "74")
    csrf = sign_in(console, "pub@test.vn")
    response = console.post(
        "/quan-tri/khoa-api",
        data={"csrf_token": csrf, "name": "x", "role": "editor"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 400
    ok = console.post(
        "/quan-tri/khoa-api",
        data={"csrf_token": csrf, "name": "x", "role": "editor"},
        headers={"Origin": "http://localhost"},
    )
    assert ok.status_code == 201


# ----------------------------------------------------------------------------------------- headers


def test_every_response_is_hardened(console):
    for url in (
        "/map/718",
        "/quan-tri/dang-nhap",
        "/tiles/testing_sites.json",
        "/api/units?q=Hi%E1%BB%87p",
        "/static/epimap.css",
        "/no-such-page",
    ):
        response = console.get(url)
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"], url
        policy = _csp(response)
        assert policy["default-src"] == "'self'", url
        assert "'unsafe-inline'" not in policy["script-src"] and "*" not in policy["script-src"], url
        assert policy["object-src"] == "'none'"


def test_map_pages_run_only_nonced_inline_scripts(console):
    response = console.get("/map/718")
    nonce = re.search(r"'nonce-([^']+)'", _csp(response)["script-src"]).group(1)
    html = response.get_data(as_text=True)
    inline = [
        attrs for attrs in SCRIPT.findall(html) if "src=" not in attrs and "application/json" not in attrs
    ]
    assert inline, "the Folium map has inline scripts"
    assert all(f'nonce="{nonce}"' in attrs for attrs in inline)
    assert _csp(response)["frame-ancestors"] == "'self'"
    again = console.get("/map/718")
    assert _csp(again)["script-src"] != _csp(response)["script-src"]  # a fresh nonce every time


def test_console_is_never_framed_and_needs_no_inline_script(console, connection):
    make_account(connection, "a@test.vn", "admin", "74")
    pages = [console.get("/quan-tri/dang-nhap")]
    sign_in(console, "a@test.vn")
    for url in (
        "/quan-tri/",
        "/quan-tri/lop/checkpoints",
        "/quan-tri/khoa-api",
        "/quan-tri/tai-khoan",
        "/quan-tri/nhat-ky",
    ):
        pages.append(console.get(url))
    for response in pages:
        url = response.request.path
        assert response.status_code == 200, url
        assert _csp(response)["frame-ancestors"] == "'none'", url
        assert _csp(response)["script-src"] == "'self'", url
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
        html = response.get_data(as_text=True)
        assert all("src=" in attrs or "application/json" in attrs for attrs in SCRIPT.findall(html)), url
        assert not re.search(r"\son[a-z]+=", html), url  # no inline event handlers either


def test_session_cookie_flags(console_app, connection, database_url, tmp_path):
    make_account(connection, "a@test.vn", "admin", "74")
    client = console_app.test_client()
    sign_in(client, "a@test.vn")
    cookie = client.get_cookie("epimap_session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure
    secure = create_app(
        {
            "bind": connection,
            "database_url": database_url,
            "basemap_url": "",
            "secure_cookies": 1,
            "upload_dir": str(tmp_path),
        }
    )
    response = secure.test_client().get("/quan-tri/dang-nhap")
    assert "Secure" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]


def test_secret_key_from_the_setting_or_persisted_privately(tmp_path):
    assert secret_key(load_settings({"secret_key": "đặt sẵn", "var_dir": tmp_path})) == "đặt sẵn"
    settings = load_settings({"var_dir": tmp_path / "var"})
    first = secret_key(settings)
    assert len(first) >= 48 and secret_key(settings) == first  # every worker reads the same key
    mode = stat.S_IMODE((tmp_path / "var" / "secret_key").stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["secret_key"]


# ----------------------------------------------------------------------------------------- 413


def test_oversize_upload_is_a_bilingual_413(connection, database_url, tmp_path):
    app = create_app(
        {
            "bind": connection,
            "database_url": database_url,
            "basemap_url": "",
            "max_upload_mb": 1,
            "upload_dir": str(tmp_path / "up"),
            "api_rate_limit": "",
        }
    )
    client = app.test_client()
    make_account(connection, "ed@test.vn", "editor", "74")
    csrf = sign_in(client, "ed@test.vn")
    big = tmp_path / "big.csv"
    big.write_bytes(b"Ma,Ten\n" + b"x" * (2 * 2**20))
    with big.open("rb") as handle:
        response = client.post(
            "/quan-tri/tai-len",
            data={"csrf_token": csrf, "layer": "pharmacies", "file": (handle, "big.csv")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "Tệp quá lớn" in html and "1 MB" in html
    with big.open("rb") as handle:
        api = client.post(
            "/api/layers/pharmacies/feeds",
            headers={"Authorization": f"Bearer {make_token(connection, 'editor', '74')}"},
            data={"file": (handle, "big.csv")},
            content_type="multipart/form-data",
        )
    assert api.status_code == 413
    assert api.json["error_vi"].startswith("Tệp quá lớn") and "1 MB" in api.json["error_en"]
    assert not (tmp_path / "up").exists() or not any((tmp_path / "up").iterdir())


def test_uploads_are_stored_by_hash_privately_and_never_served(console, connection, tmp_path):
    make_account(connection, "ed@test.vn", "editor", "74")
    csrf = sign_in(console, "ed@test.vn")
    sample = SAMPLES / "chot_kiem_soat.csv"
    with sample.open("rb") as handle:
        console.post(
            "/quan-tri/tai-len",
            data={"csrf_token": csrf, "layer": "checkpoints", "file": (handle, "<b>chốt</b>.csv")},
            content_type="multipart/form-data",
        )
    stored = list((tmp_path / "uploads").iterdir())
    sha = connection.execute(text("SELECT sha256 FROM feed_upload")).scalar()
    assert [p.name for p in stored] == [sha]
    assert stat.S_IMODE(stored[0].stat().st_mode) == 0o600
    for url in (f"/quan-tri/uploads/{sha}", f"/static/{sha}", f"/quan-tri/tai-len/{sha}", f"/uploads/{sha}"):
        assert console.get(url).status_code == 404, url


# ----------------------------------------------------------------------------------------- audit log


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET actor = 'someone else'",
        "DELETE FROM audit_event",
        "DELETE FROM audit_event WHERE false",
        "TRUNCATE audit_event",
    ],
)
def test_audit_log_cannot_be_altered(connection, statement):
    connection.execute(text("INSERT INTO audit_event (actor, action) VALUES ('a@test.vn', 'sign_in')"))
    savepoint = connection.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text(statement))
    savepoint.rollback()
    assert (
        connection.execute(text("SELECT count(*) FROM audit_event WHERE actor = 'a@test.vn'")).scalar() == 1
    )


def test_no_route_can_modify_the_audit_log(console_app):
    rules = [r for r in console_app.url_map.iter_rules() if "nhat-ky" in r.rule or "audit" in r.rule]
    assert rules and all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in rules)
    import officials.audit

    source = open(officials.audit.__file__, encoding="utf-8").read()
    assert "UPDATE audit_event" not in source and "DELETE FROM audit_event" not in source
