"""Reading the dispatch pages' filters and forms, and the few labels their templates need.

Values are trimmed and bounded here; what they mean (scope, role, allowed moves) is checked by
:mod:`dispatch.workflow` and :mod:`dispatch.intake`, whichever door a request comes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import request

from dispatch import store
from dispatch.intake import Intake
from ingest.errors import ValueProblem
from ingest.values import parse_phone
from layers.catalog import Service
from officials.accounts import Invalid
from portal.console.forms import field
from portal.i18n import translate

PAGE_SIZE = 50
EXPORT_ROWS = 20_000
STATUS_CHOICES = ("open", *store.STATUSES, "all")


@dataclass(frozen=True)
class QueueArgs:
    """The queue page's filters: a status choice, a kind, a page."""

    status: str
    kind: str | None
    page: int

    @property
    def statuses(self) -> tuple[str, ...]:
        """Return the statuses the choice stands for."""
        if self.status == "open":
            return store.OPEN_STATUSES
        return store.STATUSES if self.status == "all" else (self.status,)

    def query(self, **more: object) -> dict[str, object]:
        """Return the filters as URL parameters (for links to other pages and the export)."""
        return {"status": self.status, **({"kind": self.kind} if self.kind else {}), **more}


def queue_args(services: dict[str, Service]) -> QueueArgs:
    """Read the queue's filters from the URL; unknown values fall back to the defaults."""
    status = (request.args.get("status") or "open").strip()
    kind = (request.args.get("kind") or "").strip() or None
    raw_page = (request.args.get("page") or "1").strip()
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 10_000 else 1
    return QueueArgs(status if status in STATUS_CHOICES else "open", kind if kind in services else None, page)


def caller_phone(raw: str | None) -> str | None:
    """Return a typed phone number in its national form, or raise a bilingual 400."""
    try:
        return parse_phone((raw or "").strip()[:40])
    except ValueProblem as exc:
        raise Invalid(exc.message("vi"), exc.message("en")) from None


def call_intake(operator: str) -> Intake:
    """Return the call form as an intake taken by an operator."""
    return Intake(kind=field("kind", 40), description=field("description", 2000), phone=field("phone", 40),
                  name=field("name", 120) or None, address=field("address", 300) or None,
                  commune=field("commune", 200) or None, source="operator", source_detail=operator)


def is_lookup() -> bool:
    """Tell whether the call form asks only for the caller's earlier requests (nothing else typed yet)."""
    if request.form.get("step") == "lookup":
        return True
    return not any(field(name) for name in ("kind", "description", "commune", "address", "name"))


def clock(minutes: int) -> str:
    """Return minutes as hours:minutes.

    >>> clock(5), clock(125), clock(60 * 50)
    ('0:05', '2:05', '50:00')
    """
    return f"{minutes // 60}:{minutes % 60:02d}"


def sla(item: store.Request, now: datetime) -> tuple[str, str] | None:
    """Return a new request's SLA clock as (css class, text): late by, or time left; None otherwise."""
    if item.status != "new" or item.assign_due_at is None:
        return None
    seconds = (item.assign_due_at - now).total_seconds()
    if seconds < 0:
        return "late", translate("console_req_late_by").format(time=clock(int(-seconds // 60)))
    return "due", translate("console_req_time_left").format(time=clock(int(seconds // 60)))


def status_label(status: str | None) -> str:
    """Return a request's status in the page's language."""
    labels = {"new": translate("console_req_status_new"),
              "assigned": translate("console_req_status_assigned"),
              "in_progress": translate("console_req_status_in_progress"),
              "resolved": translate("console_req_status_resolved"),
              "closed": translate("console_req_status_closed"), "open": translate("console_req_open"),
              "all": translate("console_req_all")}
    return labels.get(status or "", status or "")


def event_label(action: str) -> str:
    """Return a history event's kind in the page's language."""
    labels = {"created": translate("console_req_event_created"),
              "assigned": translate("console_req_event_assigned"),
              "status": translate("console_req_event_status"),
              "referred": translate("console_req_event_referred"),
              "comment": translate("console_req_event_comment"),
              "escalated": translate("console_req_event_escalated"),
              "linked": translate("console_req_event_linked"),
              "purged": translate("console_req_event_purged")}
    return labels.get(action, action)


def source_label(source: str) -> str:
    """Return how a request came in, in the page's language."""
    labels = {"web": translate("console_req_source_web"),
              "operator": translate("console_req_source_operator"),
              "open311": translate("console_req_source_open311")}
    return labels.get(source, source)
