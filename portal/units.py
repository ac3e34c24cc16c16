"""Look up the administrative unit a URL names, or answer 404."""

from __future__ import annotations

from sqlalchemy.orm import Session

from boundaries.queries import Unit, get_unit
from portal.errors import NotFound


def unit_or_404(session: Session, set_name: str, code: str) -> Unit:
    """Return the unit of a set, or raise the portal's 404."""
    unit = get_unit(session, set_name, code)
    if unit is None:
        raise NotFound()
    return unit
