"""Take a citizen's request in, from any door: validate, place, route, link duplicates, store."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from boundaries.queries import Unit, get_unit
from dispatch import store
from dispatch.photos import clean_photo
from dispatch.refs import new_ref, prefix_for
from dispatch.routing import Area, place_at, place_named, team_for
from epimap.errors import BadRequest
from ingest.errors import ValueProblem
from ingest.values import clean_text, parse_phone
from layers.catalog import Service
from officials.audit import Where, record

MAX_DESCRIPTION = 2000
DUPLICATE_WINDOW = timedelta(hours=6)
DUPLICATE_METRES = 30.0
SOURCES = ("web", "operator", "open311")


class InvalidRequest(BadRequest):
    """Some fields of a request are missing or wrong; ``fields`` names each with its reason."""

    code = "request_invalid"

    def __init__(self, fields: dict[str, tuple[str, str]]) -> None:
        self.fields = fields
        super().__init__("; ".join(vi for vi, _ in fields.values()),
                         "; ".join(en for _, en in fields.values()))


@dataclass(frozen=True)
class Intake:
    """A request as a door receives it, before validation (strings as typed)."""

    kind: str
    description: str
    phone: str | None = None
    name: str | None = None
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    commune: str | None = None  # a commune's name, however written, when there is no point
    photo: bytes | None = None
    source: str = "web"
    source_detail: str | None = None  # the operator's or partner app's name
    demo: bool = False
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Clean:
    """A validated request's fields."""

    service: Service
    description: str
    phone: str | None
    name: str | None
    address: str | None
    point: tuple[float, float] | None
    commune: str | None
    photo: bytes | None


def _text(value: str | None, limit: int, key: str, errors: dict[str, tuple[str, str]]) -> str | None:
    try:
        return clean_text(value, max_len=limit)
    except ValueProblem as exc:
        errors[key] = (exc.message("vi"), exc.message("en"))
        return None


def _point(intake: Intake, errors: dict[str, tuple[str, str]]) -> tuple[float, float] | None:
    if intake.lon is None and intake.lat is None:
        return None
    lon, lat = intake.lon, intake.lat
    if lon is None or lat is None or not (math.isfinite(lon) and math.isfinite(lat)) \
            or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        errors["location"] = ("Tọa độ không hợp lệ.", "The coordinates are not valid.")
        return None
    return lon, lat


def validate(intake: Intake, services: dict[str, Service]) -> Clean:
    """Return a request's clean fields, or raise InvalidRequest naming every wrong one."""
    errors: dict[str, tuple[str, str]] = {}
    service = services.get(intake.kind)
    if service is None:
        errors["kind"] = ("Chọn loại yêu cầu.", "Choose the kind of request.")
    description = _text(intake.description, MAX_DESCRIPTION, "description", errors)
    if description is None and "description" not in errors:
        errors["description"] = ("Mô tả yêu cầu của bạn.", "Describe your request.")
    phone = None
    try:
        phone = parse_phone(intake.phone)
    except ValueProblem as exc:
        errors["phone"] = (exc.message("vi"), exc.message("en"))
    if phone is None and "phone" not in errors and intake.source != "open311":
        errors["phone"] = ("Nhập số điện thoại để tổ hỗ trợ liên lạc.",
                           "Give a phone number the team can call.")
    point = _point(intake, errors)
    commune = _text(intake.commune, 200, "location", errors)
    if point is None and commune is None and "location" not in errors:
        errors["location"] = ("Chọn vị trí trên bản đồ hoặc nhập tên xã/phường.",
                              "Pick the place on the map or type the commune's name.")
    name, address = _text(intake.name, 120, "name", errors), _text(intake.address, 300, "address", errors)
    photo = None
    if intake.photo:
        try:
            photo = clean_photo(intake.photo)
        except BadRequest as exc:
            errors["photo"] = (exc.message("vi"), exc.message("en"))
    if errors or service is None or description is None:
        raise InvalidRequest(errors)
    return Clean(service, description, phone, name, address, point, commune, photo)


def place(session: Session, area: Area, clean: Clean) -> Unit:
    """Return the commune a request lies in: its point's, else the one it names."""
    if clean.point is not None:
        return place_at(session, area, *clean.point)
    return place_named(session, area, clean.commune or "")


def ref_prefix(session: Session, area: Area, configured: str = "") -> str:
    """Return the reference codes' prefix: the configured one, else the area's initials."""
    if configured:
        return configured.upper()[:4]
    top = get_unit(session, area.boundary_set, area.code)
    return prefix_for(top.name) if top else "YC"


def find_duplicate(session: Session, clean: Clean, commune: Unit, now: datetime) -> int | None:
    """Return the open request this one repeats: same phone and kind, or same kind and place, lately."""
    return session.execute(text(
        "SELECT coalesce(duplicate_of, id) FROM service_request"
        " WHERE kind = :k AND status IN ('new', 'assigned', 'in_progress') AND created_at > :since"
        " AND boundary_set = :s AND ((CAST(:p AS text) IS NOT NULL AND phone = :p)"
        " OR (CAST(:x AS float8) IS NOT NULL AND commune_code = :c AND geom IS NOT NULL"
        "     AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, :m)))"
        " ORDER BY created_at LIMIT 1"),
        {"k": clean.service.code, "since": now - DUPLICATE_WINDOW, "s": commune.boundary_set,
         "p": clean.phone, "c": commune.code, "x": clean.point[0] if clean.point else None,
         "y": clean.point[1] if clean.point else None, "m": DUPLICATE_METRES}).scalar()


def _insert(session: Session, values: dict, prefix: str) -> tuple[int, str]:
    for _ in range(8):
        ref = new_ref(prefix)
        try:
            with session.begin_nested():
                new_id = session.execute(text(
                    "INSERT INTO service_request (ref, kind, description, boundary_set, commune_code,"
                    " team_code, source, source_detail, phone, name, address, geom, photo, created_at,"
                    " updated_at, assign_due_at, duplicate_of, demo)"
                    " VALUES (:ref, :kind, :description, :s, :commune, :team, :source, :detail, :phone,"
                    " :name, :address,"
                    " CASE WHEN CAST(:x AS float8) IS NULL THEN NULL"
                    "      ELSE ST_SetSRID(ST_MakePoint(:x, :y), 4326) END,"
                    " :photo, :now, :now, :due, :dup, :demo) RETURNING id"),
                    {**values, "ref": ref}).scalar_one()
            return new_id, ref
        except IntegrityError as exc:
            if "service_request_ref_key" not in str(exc.orig):
                raise
    raise RuntimeError("no free reference code after 8 draws")


def take(session: Session, area: Area, services: dict[str, Service], intake: Intake, *, actor: str,
         now: datetime, prefix: str = "", where: Where | None = None) -> store.Request:
    """Validate, place and route a request, link it to the one it repeats, store it; return it."""
    if intake.source not in SOURCES:
        raise ValueError(f"unknown source {intake.source!r}")
    clean = validate(intake, services)
    commune = place(session, area, clean)
    team = team_for(session, area, commune, clean.service)
    duplicate = find_duplicate(session, clean, commune, now)
    x, y = clean.point if clean.point else (None, None)
    new_id, ref = _insert(session, {
        "kind": clean.service.code, "description": clean.description, "s": area.boundary_set,
        "commune": commune.code, "team": team.code, "source": intake.source, "detail": intake.source_detail,
        "phone": clean.phone, "name": clean.name, "address": clean.address, "x": x, "y": y,
        "photo": clean.photo, "now": now, "due": now + timedelta(minutes=clean.service.assign_within_minutes),
        "dup": duplicate, "demo": intake.demo}, ref_prefix(session, area, prefix))
    store.add_event(session, new_id, actor, "created", status="new", team_code=team.code, public=True, at=now)
    if duplicate is not None:
        store.add_event(session, new_id, actor, "linked", note=f"#{duplicate}", at=now)
        store.add_event(session, duplicate, actor, "linked", note=f"#{new_id}", at=now)
    record(session, actor, "request_create", where, target=ref,
           details={"kind": clean.service.code, "team": team.code, "source": intake.source,
                    "scope_set": area.boundary_set, "scope": team.code})
    request = store.get(session, new_id)
    assert request is not None
    return request
