"""The bundled demo: Bình Dương in the 2021 three-level system, and Nghệ An in the 2025 system."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy import text

from boundaries.crosswalk import load_crosswalk
from boundaries.load import FieldMap, load_boundaries
from boundaries.population import estimate_populations
from epimap.context import AppContext, pass_app
from epimap.db import Bind, session_scope


@dataclass(frozen=True)
class BoundaryLoad:
    """One boundary file of the demo and how to read it."""

    file: str
    set_name: str
    level: str
    fields: FieldMap
    by_containment: bool = False
    merge: bool = False


COUNTRY = FieldMap(code="country_code", name="country_name", kind="country_type")
PROVINCES = FieldMap(code="prov_code", name="prov_name", kind="prov_type", parent="country_code")

BINH_DUONG_2021 = (
    # The country and its 63 provinces (simplified), then Bình Dương's own detailed outline.
    BoundaryLoad("boundaries/vn_country_odv.geojson", "vn2021", "country", COUNTRY),
    BoundaryLoad("boundaries/vn2021/provinces_63_odv.geojson", "vn2021", "province", PROVINCES),
    BoundaryLoad("boundaries/vn2021/74_binh_duong_province.geojson", "vn2021", "province",
                 FieldMap(code="prov_code", name="prov_name", kind="prov_type"), merge=True),
    BoundaryLoad("boundaries/vn2021/74_binh_duong_districts.geojson", "vn2021", "district",
                 FieldMap(code="dist_code", name="dist_name", kind="dist_type", parent="prov_code")),
    # The 2011 commune polygons carry their 2011 district; today's district is the one that
    # contains them, so parents are linked by containment.
    BoundaryLoad("boundaries/vn2021/communes_74_binh_duong_c2011.geojson", "vn2021", "commune",
                 FieldMap(code="ward_code_gso", name="ward_name_gso"), by_containment=True),
)

NGHE_AN_2025 = (
    BoundaryLoad("boundaries/vn_country_odv.geojson", "vn2025", "country", COUNTRY),
    BoundaryLoad("boundaries/vn2025/provinces_34_odv_2025.geojson", "vn2025", "province", PROVINCES),
    BoundaryLoad("boundaries/vn2025/40_nghe_an_province_2025.geojson", "vn2025", "province",
                 FieldMap(code="prov_code", name="prov_name", kind="prov_type"), merge=True),
    BoundaryLoad("boundaries/vn2025/wards_40_nghe_an_2025.geojson", "vn2025", "commune",
                 FieldMap(code="ward_code_gso2025", name="ward_name_gso", parent="prov_code",
                          population="population")),
)

# 2021 communes have no official population here: each gets the 2025 wards' populations shared by
# the area they overlap (marked estimated), so per-100,000 rates and risk levels work in both sets.
POPULATION_ESTIMATES = {
    "vn2021": ("boundaries/vn2025/wards_79_former_binh_duong_2025.geojson", "commune", "population"),
}

# The GSO's 2025 conversion table, cut to the rows of Nghệ An's wards and of the wards formed from
# Bình Dương's communes: a 2025 ward's page names its 2021 communes, a 2021 commune's where it went.
CROSSWALKS = {"vn2025": ("crosswalk/reform_2025_gso_nghe_an_binh_duong.csv", "vn2021")}

DEMOS = {"binh-duong": BINH_DUONG_2021, "nghe-an-2025": NGHE_AN_2025}

# The Bình Dương CDC's sample feeds, ingested after the boundaries (file -> layer).
BINH_DUONG_FEEDS = (
    ("feeds/binh_duong/xet_nghiem.xlsx", "testing_sites"),
    ("feeds/binh_duong/diem_tiem_chung.csv", "vaccination_sites"),
    ("feeds/binh_duong/chot_kiem_soat.csv", "checkpoints"),
    ("feeds/binh_duong/khu_cach_ly.xlsx", "quarantine_facilities"),
    ("feeds/binh_duong/vung_phong_toa.csv", "lockdown_zones"),
    ("feeds/binh_duong/so_ca_theo_xa.xlsx", "unit_stats"),
)
# The country's feeds, ingested with the country root as scope: (file, layer, metric).  The province
# feed covers the Bình Dương feeds' week, its Bình Dương rows the sums of that province's communes.
COUNTRY_FEEDS = (
    ("feeds/provinces/so_ca_theo_tinh_2021.csv", "unit_stats", "new_cases"),
)
COUNTRY_SCOPE = "VN"


def load_demo_feeds(bind: Bind, data_dir: Path, set_name: str = "vn2021", scope: str = "74") -> list[str]:
    """Ingest the demo's sample feeds; return one summary line per feed."""
    from ingest.layer_feed import ingest_layer_feed
    from ingest.pipeline import IngestOptions
    from layers.catalog import default_catalog

    catalog, lines = default_catalog(), []
    # The country's figures first: a later rollback of the province's own publication keeps them.
    feeds = [(file, layer, COUNTRY_SCOPE, metric) for file, layer, metric in COUNTRY_FEEDS]
    feeds += [(file, layer, scope, None) for file, layer in BINH_DUONG_FEEDS]
    for file, layer, code, metric in feeds:
        path = data_dir / file
        options = IngestOptions(set_name=set_name, scope_code=code, author="demo")
        report = ingest_layer_feed(bind, path, layer, catalog, options, metric)
        lines.append(f"{path.name} -> {layer}: {len(report.accepted)} accepted,"
                     f" {len(report.rejected)} rejected")
    return lines


def load_demo_boundaries(bind: Bind, data_dir: Path, loads: tuple[BoundaryLoad, ...]) -> int:
    """Load every boundary file of a demo, estimated populations and crosswalk; return the units loaded."""
    total = 0
    for item in loads:
        result = load_boundaries(bind, data_dir / item.file, set_name=item.set_name,
                                 level=item.level, fields=item.fields,
                                 by_containment=item.by_containment, merge=item.merge)
        total += result.units
    if loads and loads[0].set_name in POPULATION_ESTIMATES:
        file, level, field = POPULATION_ESTIMATES[loads[0].set_name]
        estimate_populations(bind, data_dir / file, set_name=loads[0].set_name, level=level,
                             population_field=field)
    if loads and loads[0].set_name in CROSSWALKS:
        file, old_set = CROSSWALKS[loads[0].set_name]
        load_crosswalk(bind, data_dir / file, old_set=old_set, new_set=loads[0].set_name, fmt="gso")
    return total


def has_units(bind: Bind, set_name: str) -> bool:
    """Tell whether a boundary set already has units."""
    with session_scope(bind) as session:
        return bool(session.execute(
            text("SELECT EXISTS (SELECT 1 FROM admin_unit WHERE boundary_set = :s)"),
            {"s": set_name}).scalar())


@click.group("demo")
def demo_cli() -> None:
    """The bundled demo data."""


@demo_cli.command("load")
@click.option("--if-absent", is_flag=True, help="Do nothing when the demo is already loaded.")
@click.option("--name", "names", multiple=True, type=click.Choice(sorted(DEMOS)),
              default=("binh-duong",), show_default=True)
@pass_app
def load_command(app: AppContext, if_absent: bool, names: tuple[str, ...]) -> None:
    """Load the demo boundaries and ingest its sample feeds."""
    for name in names:
        loads = DEMOS[name]
        if if_absent and has_units(app.bind, loads[0].set_name):
            click.echo(f"demo {name}: already loaded")
            continue
        units = load_demo_boundaries(app.bind, app.settings.data_dir, loads)
        click.echo(f"demo {name}: {units} units loaded")
        if name == "binh-duong":
            for line in load_demo_feeds(app.bind, app.settings.data_dir):
                click.echo(f"  {line}")
