"""``epimap ingest``: a thin command over the ingest library."""

from __future__ import annotations

from pathlib import Path

import click

from epimap.context import AppContext, cli_error, pass_app
from epimap.errors import Problem
from ingest.layer_feed import ingest_layer_feed
from ingest.pipeline import IngestOptions
from ingest.report_export import report_text, write_report_json
from layers.catalog import load_catalog

FORCIBLE = ("no_accepted_rows", "too_many_removed")  # refusals --force overrides


@click.command("ingest")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layer", required=True, help="Catalogue layer id (unit_stats: the statistics).")
@click.option("--scope", "scope_code", help="Unit the feed covers (default: the configured unit).")
@click.option("--set", "set_name", help="Boundary set (default: the configured one).")
@click.option("--sheet", help="Read only this sheet (name or 0-based index).")
@click.option("--metric", help="Statistic of a wide statistics table (e.g. new_cases).")
@click.option("--dry-run", is_flag=True, help="Report and diff, publish nothing.")
@click.option("--force", is_flag=True, help="Publish even if it removes most features or accepts none.")
@click.option("--author", default="cli", show_default=True)
@click.option("--note", help="A note kept with the publication.")
@click.option("--legal-ref", help="Legal reference, e.g. the decision number (số quyết định).")
@click.option("--report-json", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the full report (every data row) as JSON here.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--max-mb", type=click.FloatRange(min=0, min_open=True),
              help="Largest file accepted, in MB (default: the reader's limit, 50 MB).")
@pass_app
def ingest_command(app: AppContext, path: Path, layer: str, scope_code: str | None,
                   set_name: str | None, sheet: str | None, metric: str | None, dry_run: bool,
                   force: bool, author: str, note: str | None, legal_ref: str | None,
                   report_json: Path | None, lang: str, max_mb: float | None) -> None:
    """Read a CDC feed (CSV, TSV, TXT, XLSX, XLS), validate it and publish it as LAYER."""
    options = IngestOptions(
        set_name=set_name or app.settings.default_set, scope_code=scope_code or app.settings.default_unit,
        author=author, sheet=int(sheet) if sheet and sheet.isdigit() else sheet, dry_run=dry_run,
        force=force, note=note, legal_ref=legal_ref, progress=True,
        max_bytes=int(max_mb * 1024 * 1024) if max_mb else None)
    try:
        report = ingest_layer_feed(app.bind, path, layer, load_catalog(app.settings.catalog_file), options,
                                   metric)
    except Problem as exc:
        raise cli_error(exc) from exc
    click.echo(report_text(report, lang=lang))
    if report_json:
        write_report_json(report, report_json)
    if report.refused is not None:
        if report.refused.code in FORCIBLE:
            click.echo("Dùng --force nếu đúng ý. / Use --force if meant.", err=True)
        raise SystemExit(1)
