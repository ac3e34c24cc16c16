"""What the public sees of requests: counts per commune and kind, never a person or a point."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class CommuneCount:
    """Requests of one kind in one commune: open, resolved, and the median time to resolve."""

    commune_code: str
    commune_name: str
    kind: str
    open: int
    resolved: int
    median_hours_to_resolve: float | None


def per_commune(session: Session, boundary_set: str, codes: list[str]) -> list[CommuneCount]:
    """Return the counts per commune and kind of the requests placed in the given units."""
    rows = session.execute(text(
        "SELECT r.commune_code, u.name AS commune_name, r.kind,"
        " count(*) FILTER (WHERE r.status IN ('new', 'assigned', 'in_progress')) AS open,"
        " count(*) FILTER (WHERE r.status IN ('resolved', 'closed')) AS resolved,"
        " round((percentile_cont(0.5) WITHIN GROUP"
        "   (ORDER BY extract(epoch FROM r.resolved_at - r.created_at))"
        "   FILTER (WHERE r.resolved_at IS NOT NULL) / 3600)::numeric, 1)::float8 AS median_hours_to_resolve"
        " FROM service_request r"
        " JOIN admin_unit u ON u.boundary_set = r.boundary_set AND u.code = r.commune_code"
        " WHERE r.boundary_set = :s AND r.commune_code = ANY(:codes)"
        " GROUP BY r.commune_code, u.name, r.kind ORDER BY u.name, r.commune_code, r.kind"),
        {"s": boundary_set, "codes": codes})
    return [CommuneCount(**r) for r in rows.mappings()]
