"""The accounts service: argon2 hashes, roles and units checked in the service layer, tokens,
the audit trail of account changes, and the ``epimap accounts`` commands."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from epimap.db import session_scope
from officials import accounts, publishing, uploads
from officials.audit import Filters, events, record
from tests.portal.console.helpers import FAST_HASHER, HERE, PASSWORD, make_account


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", FAST_HASHER)


def test_passwords_are_argon2id_hashes(connection):
    make_account(connection, "a@test.vn", "viewer", "74")
    stored = connection.execute(text("SELECT password_hash FROM account")).scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with session_scope(connection) as session:
        assert accounts.sign_in(session, "A@test.vn", PASSWORD, HERE).email == "a@test.vn"


@pytest.mark.parametrize(
    ("email", "password", "role", "scope"),
    [
        ("not-an-email", PASSWORD, "viewer", "74"),
        ("a@test.vn", "short", "viewer", "74"),
        ("a@test.vn", PASSWORD, "superuser", "74"),
        ("a@test.vn", PASSWORD, "viewer", "99999"),
    ],
)
def test_invalid_accounts_are_refused(connection, email, password, role, scope):
    with session_scope(connection) as session, pytest.raises(accounts.Invalid):
        accounts.create_account(session, email, password, role, "vn2021", scope, by=None)


def test_an_admin_creates_and_disables_only_inside_its_unit(connection):
    district = make_account(connection, "admin718@test.vn", "admin", "718")
    editor = make_account(connection, "ed718@test.vn", "editor", "718")
    with session_scope(connection) as session:
        created = accounts.create_account(
            session, "p@test.vn", PASSWORD, "publisher", "vn2021", "25741", by=district, where=HERE
        )
        assert created.created_by == "admin718@test.vn"
        for scope in ("74", "724"):
            with pytest.raises(accounts.Denied):
                accounts.create_account(
                    session, "x@test.vn", PASSWORD, "viewer", "vn2021", scope, by=district
                )
        with pytest.raises(accounts.Denied):
            accounts.create_account(session, "y@test.vn", PASSWORD, "viewer", "vn2021", "718", by=editor)
        with pytest.raises(accounts.Conflict):
            accounts.create_account(session, "P@TEST.VN", PASSWORD, "viewer", "vn2021", "718", by=district)
        with pytest.raises(accounts.Invalid):
            accounts.disable_account(session, "admin718@test.vn", by=district)
        accounts.disable_account(session, "p@test.vn", by=district, where=HERE)
        assert [a.email for a in accounts.list_accounts(session, within=district)] == [
            "admin718@test.vn",
            "ed718@test.vn",
            "p@test.vn",
        ]
    rows = connection.execute(
        text(
            "SELECT actor, action, target, details ->> 'scope' FROM audit_event"
            " WHERE action LIKE 'account%' ORDER BY id"
        )
    ).all()
    assert [tuple(r) for r in rows][-2:] == [
        ("admin718@test.vn", "account_create", "account:p@test.vn", "25741"),
        ("admin718@test.vn", "account_disable", "account:p@test.vn", "25741"),
    ]


def test_units_and_covers(connection):
    with session_scope(connection) as session:
        assert accounts.covers(session, "vn2021", "74", "vn2021", "25741")
        assert accounts.covers(session, "vn2021", "718", "vn2021", "25741")
        assert not accounts.covers(session, "vn2021", "25741", "vn2021", "718")
        assert not accounts.covers(session, "vn2021", "724", "vn2021", "25741")
        assert not accounts.covers(session, "vn2025", "74", "vn2021", "74")
        within = accounts.units_within(session, "vn2021", "718")
        assert "718" in within and "25741" in within and "724" not in within and len(within) == 15


def test_service_checks_roles_and_units_whoever_calls(connection, tmp_path):
    viewer = make_account(connection, "v@test.vn", "viewer", "74")
    commune = make_account(connection, "p25741@test.vn", "publisher", "25741")
    settings = _settings(tmp_path)
    with pytest.raises(accounts.Denied):
        uploads.queue_preview(
            connection, settings, viewer, "checkpoints", open(__file__, "rb"), "x.csv", HERE
        )
    demo = connection.execute(text("SELECT max(id) FROM publication WHERE layer_id = 'checkpoints'")).scalar()
    with pytest.raises(accounts.Denied):  # the demo's publications are province-wide
        publishing.rollback_publication(connection, commune, "checkpoints", demo, HERE)
    site = connection.execute(
        text(
            "SELECT source_id FROM feature WHERE layer_id = 'testing_sites'"
            " AND valid_to_pub IS NULL AND units ->> 'district' = '724' LIMIT 1"
        )
    ).scalar()
    with pytest.raises(accounts.Denied):
        publishing.edit_feature(connection, commune, "testing_sites", site, {"hours": "24/7"}, HERE)
    with pytest.raises(accounts.Unauthenticated):
        accounts.require_role(None, "viewer")


def test_a_token_never_outranks_its_creator(connection):
    admin = make_account(connection, "a@test.vn", "admin", "74")
    with session_scope(connection) as session:
        _token, raw = accounts.create_token(session, admin, "CDC", "publisher", "718", HERE)
        principal = accounts.token_principal(session, raw)
        assert (principal.role, principal.scope_code, principal.token_id is not None) == (
            "publisher",
            "718",
            True,
        )
        session.execute(text("UPDATE account SET role = 'editor' WHERE email = 'a@test.vn'"))
        assert accounts.token_principal(session, raw).role == "editor"
        assert accounts.token_principal(session, raw + "x") is None
        assert accounts.token_principal(session, "") is None
        with pytest.raises(accounts.Invalid):
            accounts.create_token(session, admin, " ", "editor", None, HERE)


def test_audit_events_filter(connection):
    with session_scope(connection) as session:
        for n in range(3):
            record(
                session, f"actor{n}@test.vn", "upload", HERE, target=f"upload:{n}", details={"scope": "718"}
            )
        record(session, "other@test.vn", "sign_in", HERE, details={"scope": "724"})
        with pytest.raises(ValueError):
            record(session, "x", "delete_everything")
        found, more = events(session, Filters(action="upload", actor="actor"), page=1, page_size=2)
        assert [e.actor for e in found] == ["actor2@test.vn", "actor1@test.vn"] and more
        found, more = events(session, Filters(action="upload", actor="actor"), page=2, page_size=2)
        assert [e.actor for e in found] == ["actor0@test.vn"] and not more
        scoped, _ = events(session, Filters(scopes=("724",)))
        assert [e.actor for e in scoped] == ["other@test.vn"]
        assert events(session, Filters(actor="ACTOR1"))[0][0].ip == "203.0.113.7"


def _settings(tmp_path):
    from epimap.settings import load_settings

    return load_settings({"upload_dir": str(tmp_path / "up")})


# ---------------------------------------------------------------------------------------- CLI


@pytest.fixture
def cli(connection, settings):
    """Run ``epimap`` inside the test transaction, with standard input."""
    from click.testing import CliRunner

    from epimap.cli import main
    from epimap.context import AppContext

    def run(args, stdin=None, **overrides):
        from dataclasses import replace

        context = AppContext(replace(settings, **overrides), _bind=connection)
        return CliRunner().invoke(main, args, obj=context, input=stdin, catch_exceptions=False)

    return run


def test_cli_create_list_disable(cli, connection):
    result = cli(
        ["accounts", "create", "Can.Bo@SYT.vn", "--role", "editor", "--scope", "718", "--password-stdin"],
        PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "created can.bo@syt.vn: editor of vn2021/718" in result.output and PASSWORD not in result.output
    listed = cli(["accounts", "list"])
    assert "can.bo@syt.vn\teditor\tvn2021/718\tactive" in listed.output
    assert cli(["accounts", "disable", "can.bo@syt.vn"]).exit_code == 0
    assert "disabled" in cli(["accounts", "list"]).output
    actor = connection.execute(text("SELECT actor FROM audit_event WHERE action = 'account_create'"
                                    " AND target = 'account:can.bo@syt.vn'")).scalar_one()
    assert actor.startswith("cli")
    bad = cli(
        ["accounts", "create", "x@syt.vn", "--role", "viewer", "--scope", "1"],
        PASSWORD + "\n" + PASSWORD + "\n",
    )
    assert bad.exit_code != 0 and "Không có đơn vị" in bad.output


def test_cli_prompts_without_echo(cli):
    result = cli(
        ["accounts", "create", "p@syt.vn", "--role", "viewer", "--scope", "74"],
        PASSWORD + "\n" + PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output


def test_ensure_admin_generates_a_password_once(cli, connection):
    result = cli(["accounts", "ensure-admin"])
    assert result.exit_code == 0, result.output
    password = result.output.split("password (shown only now): ")[1].strip()
    stored = connection.execute(
        text("SELECT password_hash, role, scope_code FROM account WHERE email = 'admin@localhost'")
    ).one()
    assert stored.role == "admin" and stored.scope_code == "74" and password not in stored.password_hash
    with session_scope(connection) as session:
        assert accounts.sign_in(session, "admin@localhost", password, HERE).role == "admin"
    again = cli(["accounts", "ensure-admin"])
    assert "already exists" in again.output and "password" not in again.output


def test_ensure_admin_from_settings(cli, settings):
    result = cli(["accounts", "ensure-admin"], admin_email="Chief@SYT.vn", admin_password=PASSWORD)
    assert result.exit_code == 0 and "created admin chief@syt.vn" in result.output
    assert "password" not in result.output and PASSWORD not in result.output
    assert "admin_password" not in repr(settings) and "secret_key" not in repr(settings)
