"""The SLA clock: a request nobody took in time is escalated to the team a level up."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.queries import get_unit
from dispatch import store
from dispatch.routing import Area, level_above
from layers.catalog import Service

ACTOR = "epimap (SLA)"


def overdue_ids(session: Session, area: Area, now: datetime) -> list[int]:
    """Return the new requests of an area's set whose clock has run out, oldest clock first."""
    return list(session.execute(text(
        "SELECT id FROM service_request WHERE status = 'new' AND assign_due_at < :now AND boundary_set = :s"
        " ORDER BY assign_due_at"), {"now": now, "s": area.boundary_set}).scalars())


def escalate_overdue(session: Session, area: Area, services: dict[str, Service], now: datetime) -> int:
    """Hand every overdue new request to the team a level up; return how many moved.

    At the area's top there is no level above: the request stays first in the top team's queue.
    """
    moved = 0
    for request_id in overdue_ids(session, area, now):
        request = store.get(session, request_id)
        commune = get_unit(session, request.boundary_set, request.commune_code) if request else None
        above = level_above(session, area, commune, request.team_code) if commune and request else None
        if request is None or above is None:
            continue
        minutes = services[request.kind].assign_within_minutes if request.kind in services else 60
        session.execute(text(
            "UPDATE service_request SET team_code = :t, escalations = escalations + 1, updated_at = :now,"
            " assign_due_at = :due WHERE id = :i AND status = 'new'"),
            {"t": above.code, "now": now, "due": now + timedelta(minutes=minutes), "i": request.id})
        store.add_event(session, request.id, ACTOR, "escalated", status="new", team_code=above.code,
                        note=f"quá hạn tiếp nhận / not taken in time ({minutes} min)", at=now)
        moved += 1
    return moved
