"""The ``epimap`` command: a thin click layer over the packages' libraries."""

from __future__ import annotations

import importlib
import sys

import click
import psycopg
from sqlalchemy.exc import InterfaceError, OperationalError

from epimap import localdb
from epimap.context import AppContext, pass_app
from epimap.db import migrate, ping
from epimap.settings import load_settings

# The packages' command groups, imported when named: ``epimap ingest`` loads no portal, map or
# boundary-loading code (the CLI started in 1.4 s, most of it imports).
PACKAGE_COMMANDS = {
    "accounts": "officials.cli:accounts_cli",
    "boundaries": "boundaries.cli:boundaries_cli",
    "demo": "epimap.demo:demo_cli",
    "ingest": "ingest.cli:ingest_command",
    "layers": "layers.cli:layers_cli",
    "requests": "dispatch.cli:requests_cli",
    "worker": "dispatch.cli:worker_command",  # the feed jobs and the requests' scheduled tasks
}


class _PackageGroup(click.Group):
    """A group that imports a package's commands the first time they are named."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *PACKAGE_COMMANDS})

    def invoke(self, ctx: click.Context) -> object:
        """Run a command; a database that cannot be reached or drops the connection is one line, exit 1."""
        try:
            return super().invoke(ctx)
        except (OperationalError, InterfaceError, psycopg.OperationalError) as exc:  # down or unreachable
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
            raise click.ClickException(
                "Mất kết nối tới cơ sở dữ liệu; không có gì được ghi. Kiểm tra PostGIS (epimap db status) rồi"
                f" chạy lại. / Lost the database connection; nothing was written. Check PostGIS (epimap db"
                f" status) and run it again. ({reason})") from exc

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in PACKAGE_COMMANDS and name not in self.commands:
            module, attribute = PACKAGE_COMMANDS[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)


@click.group(cls=_PackageGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
