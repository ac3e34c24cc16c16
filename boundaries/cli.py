"""``epimap boundaries``: load boundary files and look units up by name."""

from __future__ import annotations

import json
from pathlib import Path

import click

from boundaries.crosswalk import FORMATS, load_crosswalk
from boundaries.load import BoundaryError, FieldMap, load_boundaries
from boundaries.population import estimate_populations
from boundaries.queries import find_units
from epimap.context import AppContext, pass_app
from epimap.db import session_scope


@click.group("boundaries")
def boundaries_cli() -> None:
    """Administrative boundaries: load sets and levels, find units."""


@boundaries_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--set", "set_name", required=True, help="Boundary set, e.g. vn2021 or vn2025.")
@click.option("--level", required=True, help="Level name, e.g. province, district, commune.")
@click.option("--code-field", required=True, help="Attribute holding the unit code.")
@click.option("--name-field", required=True, help="Attribute holding the unit name.")
@click.option("--kind-field", help="Attribute holding the unit type (Xã, Phường, ...).")
@click.option("--parent-field", help="Attribute holding the parent unit's code.")
@click.option("--population-field", help="Attribute holding the population.")
@click.option("--parent-level", help="Level above this one (default: the last loaded level).")
@click.option("--by-containment", is_flag=True, help="Link parents by area overlap, not by field.")
@click.option("--merge", is_flag=True,
              help="Replace or add only this file's units, keeping the level's others.")
@pass_app
def load_command(app: AppContext, path: Path, set_name: str, level: str, code_field: str,
                 name_field: str, kind_field: str | None, parent_field: str | None,
                 population_field: str | None, parent_level: str | None,
                 by_containment: bool, merge: bool) -> None:
    """Load the units of one level of a boundary set from PATH (replacing that level)."""
    fields = FieldMap(code=code_field, name=name_field, kind=kind_field, parent=parent_field,
                      population=population_field)
    try:
        result = load_boundaries(app.bind, path, set_name=set_name, level=level, fields=fields,
                                 parent_level=parent_level, by_containment=by_containment, merge=merge)
    except BoundaryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{result.units} {level} units loaded into {set_name}"
               + (f" (parents: {result.parent_level})" if result.parent_level else ""))
    if result.orphans:
        click.echo(f"warning: {len(result.orphans)} units have no parent: "
                   + ", ".join(result.orphans[:20]), err=True)


@boundaries_cli.command("estimate-population")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--set", "set_name", required=True, help="Boundary set whose units get estimates.")
@click.option("--level", required=True, help="Level of those units, e.g. commune.")
@click.option("--population-field", required=True, help="Attribute of PATH holding the population.")
@pass_app
def estimate_command(app: AppContext, path: Path, set_name: str, level: str, population_field: str) -> None:
    """Estimate populations by area from PATH's polygons, for units without a real figure."""
    try:
        result = estimate_populations(app.bind, path, set_name=set_name, level=level,
                                      population_field=population_field)
    except BoundaryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{result.estimated} {level} populations estimated in {set_name};"
               f" {result.kept} real figures kept; {result.without} without population;"
               f" {result.summed} units above given their units' sum")


@boundaries_cli.command("find")
@click.argument("query")
@click.option("--set", "set_name", default=None, help="Boundary set (default: the configured one).")
@click.option("--within", help="Code of the unit to search inside.")
@pass_app
def find_command(app: AppContext, query: str, set_name: str | None, within: str | None) -> None:
    """Print the units whose name matches QUERY, as JSON lines."""
    with session_scope(app.bind) as session:
        units = find_units(session, set_name or app.settings.default_set, query, within=within)
    for unit in units:
        click.echo(json.dumps(unit.as_dict(), ensure_ascii=False))
    if not units:
        raise click.ClickException(f"no unit named {query!r}")


@boundaries_cli.group("crosswalk")
def crosswalk_cli() -> None:
    """The old → new table of units (the 2025 reform's)."""


@crosswalk_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="gso: the GSO conversion table (CSV); dvhcvn: merges.json (default: by extension).")
@click.option("--old-set", default="vn2021", show_default=True, help="Boundary set of the old units.")
@click.option("--new-set", default="vn2025", show_default=True, help="Boundary set of the new units.")
@pass_app
def crosswalk_load_command(app: AppContext, path: Path, fmt: str | None, old_set: str, new_set: str) -> None:
    """Load the old → new rows of PATH, replacing those of the new units it lists."""
    try:
        result = load_crosswalk(app.bind, path, old_set=old_set, new_set=new_set, fmt=fmt)
    except BoundaryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{result.rows} crosswalk rows loaded: {result.new_units} {new_set} units"
               f" formed from {old_set} units")
    for line in result.skipped:
        click.echo(f"skipped {line}", err=True)
