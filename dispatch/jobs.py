"""The requests' scheduled work, run by ``epimap worker``: SLA escalation each minute, the purge daily.

Both are procrastinate periodic tasks on their own queue (:data:`QUEUE`), registered into the feed
worker by :func:`register` (an :data:`officials.jobs.Extension`).  Each run receives the time it was
scheduled for (procrastinate's ``timestamp``), which is the clock it works by: a late run escalates
exactly what was overdue at its minute, and the tests pass any time they like.  Several workers
never run one schedule twice (procrastinate keeps one row per task and timestamp).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from dispatch.retention import purge as purge_closed
from dispatch.routing import Area
from dispatch.sla import escalate_overdue
from epimap.db import Bind, session_scope
from epimap.settings import Settings
from layers.catalog import Catalog

QUEUE = "requests"
ESCALATE_TASK = "epimap.escalate_requests"
PURGE_TASK = "epimap.purge_requests"
ESCALATE_CRON = "* * * * *"  # every minute: the shortest SLA clock is 30 minutes
PURGE_CRON = "30 19 * * *"  # daily at 19:30 UTC, 02:30 in Vietnam
log = logging.getLogger(__name__)


def escalate(bind: Bind, settings: Settings, catalog: Catalog, now: datetime) -> int:
    """Escalate the portal area's overdue requests as of ``now``; return how many moved."""
    with session_scope(bind) as session:
        return escalate_overdue(session, Area.of(settings), catalog.services, now)


def purge(bind: Bind, settings: Settings, now: datetime, days: int | None = None) -> int:
    """Purge the personal data of requests closed more than ``days`` (default: the setting) ago."""
    with session_scope(bind) as session:
        return purge_closed(session, now, settings.request_retention_days if days is None else days)


def at(timestamp: int) -> datetime:
    """Return a periodic run's scheduled time (seconds since the epoch) as an aware datetime.

    >>> at(1629104400)
    datetime.datetime(2021, 8, 16, 9, 0, tzinfo=datetime.timezone.utc)
    """
    return datetime.fromtimestamp(timestamp, UTC)


def register(app: Any, bind: Bind, settings: Settings, catalog: Catalog) -> Sequence[str]:
    """Add the escalation and purge periodic tasks to a procrastinate app; return their queue."""

    @app.periodic(cron=ESCALATE_CRON)
    @app.task(name=ESCALATE_TASK, queue=QUEUE)
    def escalate_task(timestamp: int) -> int:
        moved = escalate(bind, settings, catalog, at(timestamp))
        if moved:
            log.info("SLA: %d overdue requests escalated a level up", moved)
        return moved

    @app.periodic(cron=PURGE_CRON)
    @app.task(name=PURGE_TASK, queue=QUEUE)
    def purge_task(timestamp: int) -> int:
        purged = purge(bind, settings, at(timestamp))
        log.info("retention: personal data of %d closed requests purged", purged)
        return purged

    return [QUEUE]
