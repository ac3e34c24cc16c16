"""Work a request: assign, start, resolve, close, refer up or down, comment; each change is history.

Every function takes the acting :class:`~officials.accounts.Principal`, checks its role (operator
or above) and that the request lies in its unit (placed in it, or handled by a team inside it),
records an event on the request and a line in the audit log.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.queries import get_unit
from dispatch import store
from dispatch.routing import Area, level_above, level_below
from epimap.errors import BadRequest, NotFound
from layers.catalog import Service
from officials.accounts import Conflict, Principal, covers, require_role
from officials.audit import Where, record

# The statuses a request may move to from each status.
MOVES = {
    "new": ("assigned", "in_progress", "resolved", "closed"),
    "assigned": ("assigned", "in_progress", "resolved", "closed"),
    "in_progress": ("resolved", "closed"),
    "resolved": ("in_progress", "closed"),
    "closed": (),
}
MAX_NOTE = 2000


def visible(session: Session, principal: Principal, request: store.Request) -> bool:
    """Tell whether a request lies in the principal's unit (placed in it, or its team is inside it)."""
    return any(covers(session, principal.boundary_set, principal.scope_code, request.boundary_set, code)
               for code in (request.commune_code, request.team_code))


def readable(session: Session, principal: Principal | None, request_id: int) -> store.Request:
    """Return a request an official in scope may read; 404 for anyone else (its existence included)."""
    require_role(principal, "viewer")
    assert principal is not None
    request = store.get(session, request_id)
    if request is None or not visible(session, principal, request):
        raise NotFound("Không có yêu cầu này trong phạm vi của bạn.", "No such request in your area.")
    return request


def _workable(session: Session, principal: Principal | None,
              request_id: int) -> tuple[Principal, store.Request]:
    require_role(principal, "operator")
    assert principal is not None
    return principal, readable(session, principal, request_id)


def _note(note: str | None, *, needed: bool = False) -> str | None:
    note = " ".join((note or "").split())[:MAX_NOTE] or None
    if needed and note is None:
        raise BadRequest("Ghi rõ lý do.", "Give a reason.")
    return note


def _audit(session: Session, principal: Principal, request: store.Request, where: Where | None,
           **details: object) -> None:
    record(session, principal.actor, "request_update", where, target=request.ref,
           details=principal.audit_details(request_scope=request.team_code, **details))


def move(session: Session, principal: Principal | None, request_id: int, status: str, now: datetime, *,
         assignee: str | None = None, note: str | None = None, public: bool = True,
         where: Where | None = None) -> store.Request:
    """Move a request to a status (``assigned`` needs an assignee: a team or a person's name)."""
    principal, request = _workable(session, principal, request_id)
    if status not in MOVES.get(request.status, ()):
        raise Conflict(f"Không thể chuyển yêu cầu từ “{request.status}” sang “{status}”.",
                       f"A request cannot move from '{request.status}' to '{status}'.")
    assignee = _note(assignee)
    if status == "assigned" and assignee is None:
        raise BadRequest("Ghi tên tổ hoặc người được giao.", "Name the team or person it is assigned to.")
    session.execute(text(
        "UPDATE service_request SET status = :st, updated_at = :now,"
        " assignee = coalesce(:who, assignee),"
        " assigned_at = CASE WHEN :st <> 'new' THEN coalesce(assigned_at, :now) ELSE assigned_at END,"
        " resolved_at = CASE WHEN :st = 'resolved' THEN :now WHEN :st = 'in_progress' THEN NULL"
        "               ELSE resolved_at END,"
        " closed_at = CASE WHEN :st = 'closed' THEN :now ELSE closed_at END WHERE id = :i"),
        {"st": status, "now": now, "who": assignee, "i": request.id})
    store.add_event(session, request.id, principal.actor, "assigned" if status == "assigned" else "status",
                    status=status, note=_note(note) or assignee, public=public, at=now)
    _audit(session, principal, request, where, status=status)
    return store.get(session, request.id)  # type: ignore[return-value]


def refer(session: Session, principal: Principal | None, request_id: int, direction: str, reason: str | None,
          area: Area, service: Service, now: datetime, *, where: Where | None = None) -> store.Request:
    """Hand a request to the team a level up or down, with a reason; its SLA clock starts again."""
    principal, request = _workable(session, principal, request_id)
    reason = _note(reason, needed=True)
    if request.status in ("resolved", "closed"):
        raise Conflict("Yêu cầu đã giải quyết xong.", "The request is already dealt with.")
    commune = get_unit(session, request.boundary_set, request.commune_code)
    if commune is None:
        raise NotFound()
    step = level_above if direction == "up" else level_below
    target = step(session, area, commune, request.team_code)
    if target is None:
        raise Conflict("Không có cấp nào để chuyển tới.", "There is no level to refer it to.")
    session.execute(text(
        "UPDATE service_request SET team_code = :t, status = 'new', assignee = NULL, updated_at = :now,"
        " assign_due_at = :due WHERE id = :i"),
        {"t": target.code, "now": now, "due": now + timedelta(minutes=service.assign_within_minutes),
         "i": request.id})
    store.add_event(session, request.id, principal.actor, "referred", status="new", team_code=target.code,
                    note=reason, public=True, at=now)
    _audit(session, principal, request, where, referred_to=target.code)
    return store.get(session, request.id)  # type: ignore[return-value]


def comment(session: Session, principal: Principal | None, request_id: int, note: str | None, *,
            public: bool, now: datetime, where: Where | None = None) -> None:
    """Add a comment: ``public`` ones are shown to the citizen, the others only to officials."""
    principal, request = _workable(session, principal, request_id)
    store.add_event(session, request.id, principal.actor, "comment", note=_note(note, needed=True),
                    public=public, at=now)
    session.execute(text("UPDATE service_request SET updated_at = :now WHERE id = :i"),
                    {"now": now, "i": request.id})
    _audit(session, principal, request, where, comment_public=public)
