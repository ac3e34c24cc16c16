"""``epimap layers``: check the catalogue, list a layer's history, roll back."""

from __future__ import annotations

from pathlib import Path

import click

from epimap.context import AppContext, cli_error, pass_app
from epimap.db import session_scope
from epimap.errors import Problem
from layers.catalog import CatalogError, Layer, load_catalog
from layers.store import history


@click.group("layers")
def layers_cli() -> None:
    """Layers: the catalogue, publications, rollback."""


def _layer(app: AppContext, layer_id: str) -> Layer:
    catalog = load_catalog(app.settings.catalog_file)
    layer = catalog.layer(layer_id)
    if layer is None:
        known = ", ".join(sorted(catalog.layers))
        raise click.ClickException(f"unknown layer {layer_id!r}; layers: {known}")
    return layer


@layers_cli.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@pass_app
def check_command(app: AppContext, path: Path | None) -> None:
    """Validate the layer catalogue (default: the configured one) and list its layers."""
    try:
        catalog = load_catalog(path or app.settings.catalog_file)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    for layer in catalog.layers.values():
        click.echo(f"{layer.id:24} {layer.kind.name:9} {'public' if layer.public else 'restricted':10}"
                   f" {layer.title_vi} / {layer.title_en}")
    click.echo(f"{len(catalog.layers)} layers, {len(catalog.metrics)} statistics: ok")


@layers_cli.command("history")
@click.argument("layer_id")
@pass_app
def history_command(app: AppContext, layer_id: str) -> None:
    """List a layer's publications, newest first."""
    with session_scope(app.bind) as session:
        publications = history(session, _layer(app, layer_id))
    if not publications:
        click.echo("no publication yet / chưa có lần xuất bản nào")
    for p in publications:
        click.echo(f"#{p.id:<6} {p.created_at:%Y-%m-%d %H:%M} {p.action:8} {p.author:12}"
                   f" +{p.added} ~{p.changed} -{p.removed} ={p.unchanged} !{p.rejected}"
                   f" {p.source_name or ''} {(p.source_sha256 or '')[:12]}"
                   + (f" restores #{p.restores_publication}" if p.restores_publication else "")
                   + (f" [{p.legal_ref}]" if p.legal_ref else ""))


@layers_cli.command("rollback")
@click.argument("layer_id")
@click.argument("publication", type=int)
@click.option("--author", default="cli", show_default=True)
@click.option("--note")
@pass_app
def rollback_command(app: AppContext, layer_id: str, publication: int, author: str,
                     note: str | None) -> None:
    """Restore LAYER to its state at PUBLICATION, as a new publication."""
    from layers.rollback import rollback

    try:
        new_id, change = rollback(app.bind, _layer(app, layer_id), publication, author=author, note=note)
    except Problem as exc:
        raise cli_error(exc) from exc
    click.echo(f"publication #{new_id} restores #{publication}: +{change.added} ~{change.changed}"
               f" -{change.removed} ={change.unchanged}")
