"""``epimap accounts``: create, disable and list officials' accounts; make sure an admin exists.

Passwords are read from standard input (``--password-stdin``) or prompted without echo; they
never appear on the command line, and only their argon2 hash is stored.
"""

from __future__ import annotations

import getpass
import sys

import click

from epimap.context import AppContext, cli_error, pass_app
from epimap.db import session_scope
from epimap.errors import EpimapError
from officials import accounts
from officials.audit import Where

DEFAULT_ADMIN = "admin@localhost"


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in a container
        return "cli"


@click.group("accounts")
def accounts_cli() -> None:
    """Officials' accounts for the console and the feed API."""


@accounts_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True)
@click.option("--scope", "scope_code", required=True, help="Code of the unit the account covers.")
@click.option("--set", "set_name", help="Boundary set (default: the configured one).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@pass_app
def create_command(app: AppContext, email: str, role: str, scope_code: str, set_name: str | None,
                   password_stdin: bool) -> None:
    """Create an account scoped to a unit (and everything inside it)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password / Mật khẩu", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(app.bind) as session:
            account = accounts.create_account(session, email, password, role,
                                              set_name or app.settings.default_set, scope_code,
                                              by=None, actor=_actor(), where=Where())
    except EpimapError as exc:
        raise cli_error(exc) from exc
    click.echo(f"created {account.email}: {account.role} of {account.boundary_set}/{account.scope_code}")


@accounts_cli.command("disable")
@click.argument("email")
@pass_app
def disable_command(app: AppContext, email: str) -> None:
    """Disable an account: its sessions end and its API tokens stop working."""
    try:
        with session_scope(app.bind) as session:
            account = accounts.disable_account(session, email, by=None, actor=_actor(), where=Where())
    except EpimapError as exc:
        raise cli_error(exc) from exc
    click.echo(f"disabled {account.email}")


@accounts_cli.command("list")
@pass_app
def list_command(app: AppContext) -> None:
    """List the accounts: e-mail, role, unit, state."""
    with session_scope(app.bind) as session:
        found = accounts.list_accounts(session)
    for account in found:
        state = f"disabled {account.disabled_at:%Y-%m-%d}" if account.disabled_at else "active"
        click.echo(f"{account.email}\t{account.role}\t{account.boundary_set}/{account.scope_code}\t{state}")
    if not found:
        click.echo("no accounts")


@accounts_cli.command("ensure-admin")
@pass_app
def ensure_admin_command(app: AppContext) -> None:
    """Create the first admin from EPIMAP_ADMIN_EMAIL / EPIMAP_ADMIN_PASSWORD unless it exists.

    Without EPIMAP_ADMIN_PASSWORD a random password is generated and printed once; only its hash
    is stored.  An existing account is never changed.
    """
    settings = app.settings
    email = settings.admin_email or DEFAULT_ADMIN
    password = settings.admin_password or accounts.generate_password()
    try:
        with session_scope(app.bind) as session:
            if accounts.get_account(session, email) is not None:
                click.echo(f"admin {email.lower()}: already exists")
                return
            account = accounts.create_account(session, email, password, "admin", settings.default_set,
                                              settings.default_unit, by=None, actor=_actor(), where=Where())
    except EpimapError as exc:
        raise cli_error(exc) from exc
    click.echo(f"created admin {account.email} ({account.boundary_set}/{account.scope_code});"
               " sign in at /quan-tri")
    if not settings.admin_password:
        click.echo(f"  password (shown only now): {password}")


def make_worker_command(extensions: tuple = (), what: str = "feed jobs") -> click.Command:
    """Return the ``epimap worker`` command, running the feed jobs and the extensions' tasks."""

    @click.command("worker")
    @click.option("--concurrency", default=1, show_default=True, help="Jobs run at once by this worker.")
    @click.option("--heartbeat", default=10.0, show_default=True, help="Seconds between heartbeats.")
    @click.option("--stalled-after", default=30.0, show_default=True,
                  help="A worker silent this many seconds is taken for dead; its job is retried or failed.")
    @click.option("--stalled-check", default=10.0, show_default=True,
                  help="Seconds between two looks for the jobs of dead workers.")
    @pass_app
    def worker_command(app: AppContext, concurrency: int, heartbeat: float, stalled_after: float,
                       stalled_check: float) -> None:
        """Run the jobs (previews, publications and the packages' scheduled tasks) until stopped."""
        import asyncio
        import logging

        from layers.catalog import load_catalog
        from officials.jobs import work

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        catalog = load_catalog(app.settings.catalog_file)
        click.echo(f"epimap worker: {what}, {concurrency} at a time (Ctrl-C stops after the current job)",
                   err=True)
        asyncio.run(work(app.settings, catalog, concurrency=concurrency, heartbeat=heartbeat,
                         stalled_after=stalled_after, stalled_check=stalled_check, extensions=extensions))

    return worker_command


worker_command = make_worker_command()
