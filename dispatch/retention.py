"""Personal data kept no longer than needed: purged a set number of days after a request closes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from officials.audit import record

ACTOR = "epimap (retention)"


def purge(session: Session, now: datetime, days: int, actor: str = ACTOR) -> int:
    """Erase the personal data of requests closed more than ``days`` ago; return how many.

    Phone, name, address, exact point, photo, description and internal comments go; the kind, the
    commune, the team and the times stay, so the statistics do not change.
    """
    ids = list(session.execute(text(
        "UPDATE service_request SET phone = NULL, name = NULL, address = NULL, geom = NULL, photo = NULL,"
        " description = '', purged_at = :now"
        " WHERE status = 'closed' AND closed_at < :cutoff AND purged_at IS NULL RETURNING id"),
        {"now": now, "cutoff": now - timedelta(days=days)}).scalars())
    if ids:
        session.execute(text("UPDATE service_request_event SET note = NULL WHERE request_id = ANY(:ids)"
                             " AND NOT public"), {"ids": ids})
        session.execute(text(
            "INSERT INTO service_request_event (request_id, at, actor, action) SELECT id, :now, :a, 'purged'"
            " FROM unnest(CAST(:ids AS bigint[])) AS id"), {"ids": ids, "now": now, "a": actor})
        record(session, actor, "request_purge", details={"requests": len(ids), "days": days})
    return len(ids)
