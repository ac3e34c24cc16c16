"""Signing in and out: sessions, the growing delay and the lockout after repeated failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from epimap.db import session_scope
from officials import accounts
from officials.audit import Where
from tests.portal.console.helpers import PASSWORD, csrf_of, make_account, sign_in

T0 = datetime(2021, 8, 20, 8, 0, tzinfo=UTC)


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(T0)
    monkeypatch.setattr(accounts, "now", clock)
    monkeypatch.setattr(accounts, "pause", clock.advance)  # a short delay waited out moves the clock
    return clock


def _try(client, email: str, password: str):
    token = csrf_of(client.get("/quan-tri/dang-nhap").get_data(as_text=True))
    return client.post(
        "/quan-tri/dang-nhap", data={"csrf_token": token, "email": email, "password": password}
    )


def test_sign_in_and_out(console, connection):
    make_account(connection, "Can.Bo@SoYTe.vn", "viewer", "718")
    assert console.get("/quan-tri/").headers["Location"].startswith("/quan-tri/dang-nhap?next=")
    response = _try(console, "  can.bo@soyte.vn ", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/quan-tri/"
    page = console.get("/quan-tri/").get_data(as_text=True)
    assert "can.bo@soyte.vn" in page and "Xem" in page
    csrf = csrf_of(page)
    assert console.post("/quan-tri/dang-xuat", data={"csrf_token": csrf}).status_code == 302
    assert console.get("/quan-tri/").status_code == 302
    actions = connection.execute(text("SELECT action FROM audit_event ORDER BY id")).scalars().all()
    assert actions[-2:] == ["sign_in", "sign_out"]
    ended = connection.execute(text("SELECT ended_at FROM account_session")).scalar()
    assert ended is not None


def test_a_stolen_cookie_dies_with_the_session(console_app, connection):
    make_account(connection, "a@test.vn", "admin", "74")
    client = console_app.test_client()
    csrf = sign_in(client, "a@test.vn")
    cookie = client.get_cookie("epimap_session").value
    client.post("/quan-tri/dang-xuat", data={"csrf_token": csrf})
    replay = console_app.test_client()
    replay.set_cookie("epimap_session", cookie)
    assert replay.get("/quan-tri/").status_code == 302


def test_disabling_an_account_ends_its_sessions(console_app, connection):
    make_account(connection, "ed@test.vn", "editor", "718")
    client = console_app.test_client()
    sign_in(client, "ed@test.vn")
    assert client.get("/quan-tri/").status_code == 200
    with session_scope(connection) as session:
        accounts.disable_account(session, "ed@test.vn", by=None, actor="test")
    assert client.get("/quan-tri/").status_code == 302
    assert _try(console_app.test_client(), "ed@test.vn", PASSWORD).status_code == 401


def test_wrong_password_and_unknown_email_look_alike(console, connection, clock):
    make_account(connection, "a@test.vn", "admin", "74")
    wrong = _try(console, "a@test.vn", "not the password")
    clock.advance(60)
    unknown = _try(console, "nobody@test.vn", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Email hoặc mật khẩu không đúng" in wrong.get_data(as_text=True)
    assert "Email hoặc mật khẩu không đúng" in unknown.get_data(as_text=True)
    rows = connection.execute(
        text(
            "SELECT actor, action, ip, details ->> 'why' FROM audit_event"
            " WHERE action = 'sign_in_failed' AND actor LIKE '%@test.vn' ORDER BY id"
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("a@test.vn", "sign_in_failed", "127.0.0.1", "password"),
        ("nobody@test.vn", "sign_in_failed", "127.0.0.1", "no_account"),
    ]


def test_the_delay_grows_then_the_account_locks(console, connection, clock):
    make_account(connection, "a@test.vn", "admin", "74")
    waits = []
    for _ in range(accounts.ACCOUNT_LOCK_AFTER):
        assert _try(console, "a@test.vn", "wrong password").status_code == 401
        with session_scope(connection) as session:
            state = accounts.throttle_state(session, "a@test.vn", "127.0.0.1")
        waits.append((round(state.wait_s), state.locked))
        if not state.locked and state.wait_s > accounts.WAITED_OUT_S:
            # Too soon: refused with 429 even with the right password, and it does not count;
            # the form's button waits by itself, counting down.
            early = _try(console, "a@test.vn", PASSWORD)
            assert early.status_code == 429 and int(early.headers["Retry-After"]) == round(state.wait_s)
            page = early.get_data(as_text=True)
            assert "giây" in page and f'data-retry-after="{round(state.wait_s)}"' in page
            assert "/static/console-wait.js" in page and 'value="a@test.vn"' in page
        if not state.locked:
            clock.advance(state.wait_s + 0.1)
    assert waits == [(1, False), (2, False), (4, False), (8, False), (900, True)]
    locked = _try(console, "a@test.vn", PASSWORD)
    assert locked.status_code == 429 and "phút" in locked.get_data(as_text=True)
    clock.advance(14 * 60)
    assert _try(console, "a@test.vn", PASSWORD).status_code == 429
    clock.advance(61)
    assert _try(console, "a@test.vn", PASSWORD).status_code == 302
    refused = connection.execute(
        text("SELECT count(*) FROM audit_event WHERE action = 'sign_in_refused' AND actor = 'a@test.vn'")
    ).scalar()
    assert refused == 4


def test_the_right_password_typed_at_once_after_a_wrong_one_signs_in(console, connection, clock):
    make_account(connection, "b@test.vn", "admin", "74")
    assert _try(console, "b@test.vn", "wrong password").status_code == 401
    at_once = _try(console, "b@test.vn", PASSWORD)  # the server waits out the 1 s itself
    assert at_once.status_code == 302, at_once.get_data(as_text=True)[:300]
    assert clock.now >= T0 + timedelta(seconds=1)


def test_a_success_resets_the_account_counter(connection, clock):
    make_account(connection, "a@test.vn", "admin", "74")
    where = Where(ip="198.51.100.1")
    with session_scope(connection) as session:
        for _ in range(3):
            with pytest.raises(accounts.Unauthenticated):
                accounts.sign_in(session, "a@test.vn", "nope", where)
            clock.advance(30)
        accounts.sign_in(session, "a@test.vn", PASSWORD, where)
        assert accounts.throttle_state(session, "a@test.vn", where.ip).wait_s == 0
        elsewhere = Where(ip="198.51.100.2")  # whose own and the account's failures are counted anew
        with pytest.raises(accounts.Unauthenticated):
            accounts.sign_in(session, "a@test.vn", "nope", elsewhere)
        assert accounts.throttle_state(session, "a@test.vn", elsewhere.ip).wait_s == pytest.approx(1)


def test_nobody_can_lock_an_official_out_of_their_account(connection, clock):
    make_account(connection, "admin@test.vn", "admin", "74")
    attacker, official = Where(ip="203.0.113.66"), Where(ip="198.51.100.7")
    with session_scope(connection) as session:
        for _ in range(accounts.ACCOUNT_LOCK_AFTER):
            clock.advance(accounts.throttle_state(session, "admin@test.vn", attacker.ip).wait_s + 0.1)
            with pytest.raises(accounts.Unauthenticated):
                accounts.sign_in(session, "admin@test.vn", "wrong password", attacker)
        locked_out = accounts.throttle_state(session, "admin@test.vn", attacker.ip)
        assert locked_out.locked and locked_out.wait_s > 14 * 60
        with pytest.raises(accounts.Throttled):
            accounts.sign_in(session, "admin@test.vn", PASSWORD, attacker)  # even the right password
        assert accounts.throttle_state(session, "admin@test.vn", official.ip).wait_s == 0
        assert accounts.sign_in(session, "admin@test.vn", PASSWORD, official).email == "admin@test.vn"


def test_many_clients_guessing_one_account_wait_out_its_failures(connection, clock):
    make_account(connection, "a@test.vn", "admin", "74")
    with session_scope(connection) as session:
        for n in range(4):
            with pytest.raises(accounts.Unauthenticated):
                accounts.sign_in(session, "a@test.vn", "wrong password", Where(ip=f"192.0.2.{n}"))
            clock.advance(1)
        # A fifth client's first try is free; once it has failed, it waits the account's delay.
        fifth = Where(ip="192.0.2.50")
        assert accounts.throttle_state(session, "a@test.vn", fifth.ip).wait_s == 0
        with pytest.raises(accounts.Unauthenticated):
            accounts.sign_in(session, "a@test.vn", "wrong password", fifth)
        state = accounts.throttle_state(session, "a@test.vn", fifth.ip)
        assert not state.locked and state.wait_s == pytest.approx(16)  # 5 failures: 2^4 s


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("aaaaaaaaaaaa", "dễ đoán"),
        ("password1234", "dễ đoán"),
        ("Ab3$xY9!qZ", "12 ký tự"),
        ("hiepthanhphuong", "dễ đoán"),  # the e-mail's words
    ],
)
def test_weak_or_short_passwords_are_refused(connection, password, why):
    with pytest.raises(accounts.Invalid) as refused:
        make_account(connection, "phuong.hiepthanh@test.vn", "viewer", "74", password=password)
    assert why in refused.value.message_vi and refused.value.message_en


def test_one_ip_guessing_many_accounts_is_locked(connection, clock):
    where = Where(ip="192.0.2.99")
    with session_scope(connection) as session:
        for n in range(accounts.IP_LOCK_AFTER):
            state = accounts.throttle_state(session, f"guess{n}@test.vn", where.ip)
            clock.advance(state.wait_s + 0.1)
            with pytest.raises(accounts.Unauthenticated):
                accounts.sign_in(session, f"guess{n}@test.vn", "password1", where)
        state = accounts.throttle_state(session, "someone.else@test.vn", where.ip)
        assert state.locked and state.wait_s > 14 * 60
        with pytest.raises(accounts.Throttled):
            accounts.sign_in(session, "someone.else@test.vn", "whatever", where)
        # Another IP is not affected.
        assert accounts.throttle_state(session, "someone.else@test.vn", "192.0.2.100").wait_s == 0


def test_next_is_kept_but_never_leaves_the_console(console, connection):
    make_account(connection, "a@test.vn", "admin", "74")
    token = csrf_of(console.get("/quan-tri/dang-nhap").get_data(as_text=True))
    for target, expected in (
        ("/quan-tri/nhat-ky?action=upload", "/quan-tri/nhat-ky?action=upload"),
        ("https://evil.example/quan-tri", "/quan-tri/"),
        ("//evil.example", "/quan-tri/"),
        ("/map/74", "/quan-tri/"),
    ):
        response = console.post(
            f"/quan-tri/dang-nhap?next={target}",
            data={"csrf_token": token, "email": "a@test.vn", "password": PASSWORD},
        )
        assert response.headers["Location"] == expected, target
        token = csrf_of(console.get("/quan-tri/").get_data(as_text=True))
        console.post("/quan-tri/dang-xuat", data={"csrf_token": token})
        token = csrf_of(console.get("/quan-tri/dang-nhap").get_data(as_text=True))
