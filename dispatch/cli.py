"""``epimap requests``: escalate overdue requests and purge old personal data by hand; the worker.

The worker (``epimap worker``) runs both by itself (:mod:`dispatch.jobs`); these commands are for
an operator's shell and for cron on machines without a worker.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from dispatch import jobs
from epimap.context import AppContext, pass_app
from layers.catalog import load_catalog
from officials.cli import make_worker_command

worker_command = make_worker_command((jobs.register,), "feed jobs, SLA escalation and the requests' purge")


def _now(raw: str | None) -> datetime:
    if not raw:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise click.BadParameter(f"{raw!r}: use ISO 8601, e.g. 2021-08-16T09:00:00+07:00") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@click.group("requests")
def requests_cli() -> None:
    """Citizens' requests: SLA escalation and the purge of personal data."""


@requests_cli.command("escalate")
@click.option("--now", "now_raw", help="Act as if it were this time (ISO 8601; default: now).")
@pass_app
def escalate_command(app: AppContext, now_raw: str | None) -> None:
    """Hand every new request past its SLA clock to the team a level up."""
    catalog = load_catalog(app.settings.catalog_file)
    moved = jobs.escalate(app.bind, app.settings, catalog, _now(now_raw))
    click.echo(f"đã chuyển lên cấp trên / escalated: {moved}")


@requests_cli.command("purge")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Days after closing to keep personal data (default: EPIMAP_REQUEST_RETENTION_DAYS).")
@click.option("--now", "now_raw", help="Act as if it were this time (ISO 8601; default: now).")
@pass_app
def purge_command(app: AppContext, days: int | None, now_raw: str | None) -> None:
    """Erase phone, name, address, point, photo and description of requests closed long ago."""
    purged = jobs.purge(app.bind, app.settings, _now(now_raw), days)
    kept = app.settings.request_retention_days if days is None else days
    click.echo(f"đã xóa dữ liệu cá nhân / purged: {purged} (closed over {kept} days ago)")
