"""The ``epimap`` command: a thin click layer over the packages' libraries."""

from __future__ import annotations

import sys
from typing import Any

import click

from epimap import localdb
from epimap.context import AppContext, pass_app
from epimap.db import migrate, ping
from epimap.settings import load_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """Epidemic map portal: boundaries, feeds, layers and the web portal."""
    if ctx.obj is None:
        ctx.obj = AppContext(load_settings())


@main.group()
def db() -> None:
    """Manage the database: the local PostGIS cluster and the schema."""


def _local_cluster(app: AppContext) -> localdb.Cluster:
    if app.settings.database_url:
        raise click.ClickException("EPIMAP_DATABASE_URL is set: the local cluster is not used")
    return localdb.cluster_for(app.settings)


@db.command("up")
@pass_app
def db_up(app: AppContext) -> None:
    """Install, create and start the local PostGIS cluster under .var/ (idempotent)."""
    cluster = _local_cluster(app)
    try:
        localdb.up(cluster)
    except localdb.LocalDbError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"PostGIS is running on port {cluster.port} (socket {cluster.socket_dir})")


@db.command("down")
@pass_app
def db_down(app: AppContext) -> None:
    """Stop the local PostGIS cluster."""
    localdb.down(_local_cluster(app))
    click.echo("PostGIS stopped")


@db.command("status")
@pass_app
def db_status(app: AppContext) -> None:
    """Tell whether the database answers; exit 1 when it does not."""
    try:
        ok = ping(app.bind)
    except Exception as exc:  # noqa: BLE001 - any connection failure means "down"
        click.echo(f"down: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        sys.exit(1)
    click.echo(f"up: {app.settings.resolved_database_url()} (PostGIS {'yes' if ok else 'no'})")


@db.command("migrate")
@click.argument("revision", default="head")
@pass_app
def db_migrate(app: AppContext, revision: str) -> None:
    """Upgrade the schema with Alembic."""
    migrate(app.settings.resolved_database_url(), revision)
    click.echo(f"schema at {revision}")


def register(group: Any) -> None:
    """Add a package's command group to ``epimap``."""
    main.add_command(group)


def _register_packages() -> None:
    from boundaries.cli import boundaries_cli
    from epimap.demo import demo_cli
    from ingest.cli import ingest_command
    from layers.accounts_cli import accounts_cli
    from layers.cli import layers_cli

    for group in (boundaries_cli, demo_cli, ingest_command, layers_cli, accounts_cli):
        register(group)


_register_packages()
