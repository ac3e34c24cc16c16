"""Requests as stored: read one, list a scope's queue, read its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

STATUSES = ("new", "assigned", "in_progress", "resolved", "closed")
OPEN_STATUSES = ("new", "assigned", "in_progress")
COLUMNS = (
    "r.id, r.ref, r.kind, r.description, r.status, r.boundary_set, r.commune_code, r.team_code,"
    " r.assignee, r.source, r.source_detail, r.phone, r.name, r.address,"
    " ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat, r.photo IS NOT NULL AS has_photo, r.created_at,"
    " r.updated_at, r.assign_due_at, r.assigned_at, r.resolved_at, r.closed_at, r.escalations,"
    " r.duplicate_of, r.demo, r.purged_at"
)


@dataclass(frozen=True)
class Request:
    """One citizen's request, personal fields included (show them only to officials in scope)."""

    id: int
    ref: str
    kind: str
    description: str
    status: str
    boundary_set: str
    commune_code: str
    team_code: str
    assignee: str | None
    source: str
    source_detail: str | None
    phone: str | None
    name: str | None
    address: str | None
    lon: float | None
    lat: float | None
    has_photo: bool
    created_at: datetime
    updated_at: datetime
    assign_due_at: datetime | None
    assigned_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    escalations: int
    duplicate_of: int | None
    demo: bool
    purged_at: datetime | None

    def overdue(self, now: datetime) -> bool:
        """Tell whether the request waits for a team past its SLA clock."""
        return self.status == "new" and self.assign_due_at is not None and self.assign_due_at < now


@dataclass(frozen=True)
class Event:
    """One change in a request's history."""

    at: datetime
    actor: str
    action: str
    status: str | None
    team_code: str | None
    note: str | None
    public: bool


def get(session: Session, request_id: int) -> Request | None:
    """Return a request by id, or None."""
    row = session.execute(text(f"SELECT {COLUMNS} FROM service_request r WHERE r.id = :i"),  # noqa: S608
                          {"i": request_id}).mappings().first()
    return Request(**row) if row else None


def get_by_ref(session: Session, ref: str) -> Request | None:
    """Return a request by its reference code, or None."""
    row = session.execute(text(f"SELECT {COLUMNS} FROM service_request r WHERE r.ref = :r"),  # noqa: S608
                          {"r": ref}).mappings().first()
    return Request(**row) if row else None


def history(session: Session, request_id: int, *, public_only: bool = False) -> list[Event]:
    """Return a request's events, oldest first; the citizen sees only the public ones."""
    rows = session.execute(text(
        "SELECT at, actor, action, status, team_code, note, public FROM service_request_event"
        " WHERE request_id = :i AND (public OR NOT :p) ORDER BY at, id"), {"i": request_id, "p": public_only})
    return [Event(**r) for r in rows.mappings()]


@dataclass(frozen=True)
class QueueFilter:
    """Which requests a queue shows: a scope (unit codes), statuses, a kind, a phone."""

    boundary_set: str
    codes: tuple[str, ...]  # the scope's units: requests placed in or handled by one of them
    statuses: tuple[str, ...] = OPEN_STATUSES
    kind: str | None = None
    phone: str | None = None
    ids: tuple[int, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None


def queue(session: Session, where: QueueFilter, now: datetime, limit: int = 100,
          offset: int = 0) -> list[Request]:
    """Return a scope's requests, overdue ones first, then by their SLA clock and age."""
    rows = session.execute(text(
        f"SELECT {COLUMNS} FROM service_request r"  # noqa: S608
        " WHERE r.boundary_set = :s AND (r.team_code = ANY(:codes) OR r.commune_code = ANY(:codes))"
        " AND r.status = ANY(:statuses) AND (CAST(:kind AS text) IS NULL OR r.kind = :kind)"
        " AND (CAST(:phone AS text) IS NULL OR r.phone = :phone)"
        " AND (CAST(:ids AS bigint[]) IS NULL OR r.id = ANY(:ids))"
        " AND (CAST(:since AS timestamptz) IS NULL OR r.created_at >= :since)"
        " AND (CAST(:until AS timestamptz) IS NULL OR r.created_at < :until)"
        " ORDER BY (r.status = 'new' AND r.assign_due_at < :now) DESC,"
        " r.status IN ('resolved', 'closed'), r.assign_due_at NULLS LAST, r.created_at, r.id"
        " LIMIT :limit OFFSET :offset"),
        {"s": where.boundary_set, "codes": list(where.codes), "statuses": list(where.statuses),
         "kind": where.kind, "phone": where.phone, "ids": list(where.ids) if where.ids is not None else None,
         "since": where.since, "until": where.until, "now": now, "limit": limit, "offset": offset})
    return [Request(**r) for r in rows.mappings()]


def by_phone(session: Session, boundary_set: str, codes: tuple[str, ...], phone: str,
             limit: int = 20) -> list[Request]:
    """Return a caller's earlier requests inside a scope, newest first (an operator's first look)."""
    rows = session.execute(text(
        f"SELECT {COLUMNS} FROM service_request r WHERE r.phone = :p AND r.boundary_set = :s"  # noqa: S608
        " AND (r.team_code = ANY(:codes) OR r.commune_code = ANY(:codes))"
        " ORDER BY r.created_at DESC LIMIT :limit"),
        {"p": phone, "s": boundary_set, "codes": list(codes), "limit": limit})
    return [Request(**r) for r in rows.mappings()]


def photo(session: Session, request_id: int) -> bytes | None:
    """Return a request's photo (JPEG), or None."""
    return session.execute(text("SELECT photo FROM service_request WHERE id = :i"),
                           {"i": request_id}).scalar()


def add_event(session: Session, request_id: int, actor: str, action: str, *, status: str | None = None,
              team_code: str | None = None, note: str | None = None, public: bool = False,
              at: datetime | None = None) -> None:
    """Append one event to a request's history."""
    session.execute(text(
        "INSERT INTO service_request_event (request_id, at, actor, action, status, team_code, note, public)"
        " VALUES (:i, coalesce(:at, now()), :a, :action, :st, :t, :n, :p)"),
        {"i": request_id, "at": at, "a": actor, "action": action, "st": status, "t": team_code, "n": note,
         "p": public})


def counts(session: Session, boundary_set: str, codes: tuple[str, ...], now: datetime,
           kind: str | None = None) -> dict[str, int]:
    """Return a scope's requests per status, plus ``overdue`` (new ones past their SLA clock)."""
    rows = session.execute(text(
        "SELECT r.status, count(*) AS n, count(*) FILTER (WHERE r.status = 'new' AND r.assign_due_at < :now)"
        " AS late FROM service_request r"
        " WHERE r.boundary_set = :s AND (r.team_code = ANY(:codes) OR r.commune_code = ANY(:codes))"
        " AND (CAST(:kind AS text) IS NULL OR r.kind = :kind) GROUP BY r.status"),
        {"s": boundary_set, "codes": list(codes), "kind": kind, "now": now}).mappings()
    found = {status: 0 for status in STATUSES} | {"overdue": 0}
    for row in rows:
        found[row["status"]] = row["n"]
        found["overdue"] += row["late"]
    return found


def duplicates_of(session: Session, request_id: int) -> list[tuple[int, str]]:
    """Return the (id, ref) of the requests linked as repeating this one, oldest first."""
    rows = session.execute(text("SELECT id, ref FROM service_request WHERE duplicate_of = :i ORDER BY id"),
                           {"i": request_id})
    return [(row.id, row.ref) for row in rows]


def unit_names(session: Session, boundary_set: str, codes: set[str]) -> dict[str, str]:
    """Return the names of some units (the teams and communes a page of requests names), in one query."""
    rows = session.execute(text(
        "SELECT code, name FROM admin_unit WHERE boundary_set = :s AND code = ANY(:c)"),
        {"s": boundary_set, "c": sorted(codes)})
    return {row.code: row.name for row in rows}
