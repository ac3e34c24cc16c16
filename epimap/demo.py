"""The bundled demo: Bình Dương in the 2021 three-level system, and Nghệ An in the 2025 system."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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


DEMO_REQUESTS, DEMO_SEED = 300, 20210816
DEMO_TEAM = "Tổ phản ứng nhanh (dữ liệu mẫu)"
# What people asked for, per kind, and how often (Bình Dương's 1022 line, summer 2021: food first).
REQUEST_KINDS = {
    "food": (40, ("Gia đình {n} người hết gạo, cần hỗ trợ lương thực",
                  "Phòng trọ {n} công nhân cần mì, gạo, rau")),
    "f0_home": (25, ("F0 điều trị tại nhà, sốt {t} độ, cần thuốc", "Hộ có {n} F0, cần túi thuốc và tư vấn")),
    "medical": (15, ("Cụ ông {n}0 tuổi khó thở, cần xe cấp cứu", "Sản phụ chuyển dạ, khu phong tỏa")),
    "violation": (10, ("Tụ tập đông người ở đầu hẻm {n}", "Quán mở cửa trái quy định, số {n}")),
    "other": (10, ("Cần giấy đi đường cho người chăm bệnh", "Hỏi lịch tiêm chủng khu phố {n}")),
}
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi")
GIVEN = ("Văn An", "Thị Bình", "Minh Châu", "Thị Dung", "Quốc Huy", "Thị Lan", "Văn Phúc", "Thu Trang")
STREETS = ("Đại lộ Bình Dương", "Cách Mạng Tháng Tám", "Phú Lợi", "Huỳnh Văn Lũy", "Nguyễn Văn Tiết")


def load_demo_requests(bind: Bind, count: int = DEMO_REQUESTS, now: datetime | None = None,
                       seed: int = DEMO_SEED, prefix: str = "") -> int:
    """Load a day of made-up requests in Bình Dương, in every status, once; return how many.

    Each is taken in by ``dispatch.intake.take`` and worked by ``dispatch.workflow`` at made-up
    times up to ``now``; requests still new past their clock are escalated.  All are ``demo``.
    """
    from dispatch.intake import take
    from dispatch.routing import Area
    from dispatch.sla import escalate_overdue
    from layers.catalog import default_catalog

    now, rng, area = now or datetime.now(UTC), random.Random(seed), Area("vn2021", "74")  # noqa: S311
    services = default_catalog().services
    with session_scope(bind) as session:
        if session.execute(text("SELECT EXISTS (SELECT 1 FROM service_request WHERE demo)")).scalar():
            return 0
        places = _demo_places(session, area, seed)
        phones = [f"09{rng.randrange(10**8):08d}" for _ in range(int(count * 0.9))]  # some call twice
        kinds = [k for k, (weight, _) in REQUEST_KINDS.items() for _ in range(weight) if k in services]
        for _ in range(count):
            intake, at = _demo_intake(rng, kinds, places, phones, now)
            taken = take(session, area, services, intake, actor="demo", now=at, prefix=prefix)
            _work_demo(session, area, services[intake.kind], taken.id, at, now, rng)
        escalate_overdue(session, area, services, now)
    return count


def _demo_intake(rng: random.Random, kinds: list[str], places: list[tuple[float, float]], phones: list[str],
                 now: datetime):
    """Return one made-up request of the last day, and when it came in."""
    from dispatch.intake import Intake

    kind, (lon, lat) = rng.choice(kinds), rng.choice(places)
    description = rng.choice(REQUEST_KINDS[kind][1]).format(n=rng.randint(2, 9), t=rng.choice(("38,5", "39")))
    at = now - timedelta(hours=24) + timedelta(seconds=rng.uniform(0, 86400 - 600))
    return Intake(kind=kind, description=description, phone=rng.choice(phones), lon=lon, lat=lat,
                  name=f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}", demo=True,
                  address=f"Số {rng.randint(1, 300)} {rng.choice(STREETS)}",
                  source=rng.choice(("web", "web", "operator", "open311"))), at


def _demo_places(session, area, seed: int) -> list[tuple[float, float]]:
    """Return two random points in each commune of the demo province."""
    return [(r.x, r.y) for r in session.execute(text(
        "SELECT ST_X(p.geom) AS x, ST_Y(p.geom) AS y FROM admin_unit c JOIN admin_unit d"
        " ON d.boundary_set = c.boundary_set AND d.code = c.parent_code,"
        " LATERAL ST_Dump(ST_GeneratePoints(c.geom, 2, :seed)) p"
        " WHERE c.boundary_set = :s AND c.level = 'commune' AND d.parent_code = :top"
        " ORDER BY c.code, p.path"),
        {"s": area.boundary_set, "top": area.code, "seed": seed})]


def _work_demo(session, area, service, request_id: int, at: datetime, now: datetime,
               rng: random.Random) -> None:
    """Take a demo request as far through the workflow as its made-up times allow before ``now``."""
    from dispatch import workflow
    from officials.accounts import Principal

    team = Principal(0, "to-phan-ung-nhanh@demo.epimap", "operator", area.boundary_set, area.code)
    if rng.random() < 0.12:
        return  # nobody has taken it yet
    if service.level == "commune" and rng.random() < 0.04:
        at += timedelta(minutes=rng.randint(5, 20))
        workflow.refer(session, team, request_id, "up", "Vượt khả năng của tổ xã/phường", area, service, at)
    steps = (("assigned", rng.uniform(0.1, 1.2) * service.assign_within_minutes, False),
             ("in_progress", rng.uniform(5, 90), rng.random() < 0.5),
             ("resolved", rng.uniform(20, 600), True), ("closed", rng.uniform(30, 240), False))
    for status, minutes, tell in steps:
        at += timedelta(minutes=minutes)
        if at > now or rng.random() < 0.1:
            return
        if tell:
            note = "Tổ đang đến hỗ trợ." if status == "in_progress" else "Đã hỗ trợ xong, cảm ơn bạn."
            workflow.comment(session, team, request_id, note, public=True, now=at)
        workflow.move(session, team, request_id, status, at, assignee=DEMO_TEAM)


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
@click.option("--requests", type=click.IntRange(0, 5000), default=DEMO_REQUESTS, show_default=True,
              help="Made-up citizens' requests of the last day (once; 0: none).")
@pass_app
def load_command(app: AppContext, if_absent: bool, names: tuple[str, ...], requests: int) -> None:
    """Load the demo boundaries, ingest its sample feeds, and a day of made-up citizens' requests."""
    for name in names:
        loads = DEMOS[name]
        if if_absent and has_units(app.bind, loads[0].set_name):
            click.echo(f"demo {name}: already loaded")
        else:
            units = load_demo_boundaries(app.bind, app.settings.data_dir, loads)
            click.echo(f"demo {name}: {units} units loaded")
            if name == "binh-duong":
                for line in load_demo_feeds(app.bind, app.settings.data_dir):
                    click.echo(f"  {line}")
        if name == "binh-duong" and requests:
            loaded = load_demo_requests(app.bind, requests, prefix=app.settings.request_prefix)
            click.echo(f"demo {name}: {loaded} citizens' requests loaded" if loaded
                       else f"demo {name}: citizens' requests already loaded")
