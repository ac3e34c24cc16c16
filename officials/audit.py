"""The audit log: who did what, when, from where, to what. Append-only.

Only :func:`record` writes, and only with INSERT; the table's triggers (migration 0005) refuse
UPDATE, DELETE and TRUNCATE from anyone, the app's own role included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

MAX_TEXT = 500
PAGE_SIZE = 50

ACTIONS = (
    "sign_in", "sign_in_failed", "sign_in_refused", "sign_out", "upload", "upload_failed", "discard",
    "publish", "publish_refused", "publish_failed", "rollback", "edit", "token_create", "token_revoke",
    "account_create", "account_disable",
    "request_create", "request_update", "request_export", "request_purge",
)


@dataclass(frozen=True)
class Where:
    """Where a request came from: the client's IP and user agent (None from the command line)."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Event:
    """One line of the audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    ip: str | None
    user_agent: str | None
    target: str | None
    details: dict[str, Any]


def _clip(value: str | None) -> str | None:
    return value[:MAX_TEXT] if value else value


def record(session: Session, actor: str, action: str, where: Where | None = None, *,
           target: str | None = None, details: dict[str, Any] | None = None) -> int:
    """Append one event; return its id (the caller's transaction commits it)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    where = where or Where()
    return session.execute(text(
        "INSERT INTO audit_event (actor, action, ip, user_agent, target, details)"
        " VALUES (:actor, :action, :ip, :ua, :target, CAST(:details AS jsonb)) RETURNING id"),
        {"actor": _clip(actor) or "?", "action": action, "ip": _clip(where.ip),
         "ua": _clip(where.user_agent), "target": _clip(target),
         "details": json.dumps(details or {}, ensure_ascii=False, default=str)}).scalar_one()


@dataclass(frozen=True)
class Filters:
    """What to show of the log: an actor (substring), an action, a date range (inclusive days)."""

    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    scopes: tuple[str, ...] | None = None  # None: every event; else events whose scope is one of these


def events(session: Session, filters: Filters, page: int = 1,
           page_size: int = PAGE_SIZE) -> tuple[list[Event], bool]:
    """Return a page of events, newest first, and whether another page follows."""
    where, params = ["true"], {"n": page_size + 1, "skip": (max(page, 1) - 1) * page_size}
    if filters.actor:
        where.append("strpos(lower(actor), lower(:actor)) > 0")
        params["actor"] = filters.actor
    if filters.action:
        where.append("action = :action")
        params["action"] = filters.action
    if filters.since:
        where.append("at >= :since")
        params["since"] = filters.since
    if filters.until:
        where.append("at < :until")
        params["until"] = filters.until
    if filters.scopes is not None:
        where.append("details ->> 'scope' = ANY(:scopes)")
        params["scopes"] = list(filters.scopes)
    rows = session.execute(text(
        "SELECT id, at, actor, action, ip, user_agent, target, details FROM audit_event WHERE "  # noqa: S608
        + " AND ".join(where) + " ORDER BY at DESC, id DESC LIMIT :n OFFSET :skip"), params).mappings()
    found = [Event(**r) for r in rows]
    return found[:page_size], len(found) > page_size
