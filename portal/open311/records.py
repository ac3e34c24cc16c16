"""What Open311 shows of services and requests: the public's view, or the whole request for a key in scope.

The public never reads a description, a free address, a name, a phone, a photo or a point: the
place is the commune's name and its label point.  A partner's key whose unit holds the request
reads its description, address and exact point too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from boundaries.queries import Unit, get_unit
from dispatch.routing import team_name
from dispatch.store import OPEN_STATUSES, Request
from layers.catalog import Service

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-07T00:00:00+00:00"  # when this endpoint's services or behaviour last changed
OPEN311_STATUS = {status: "open" if status in OPEN_STATUSES else "closed"
                  for status in ("new", "assigned", "in_progress", "resolved", "closed")}


def service(item: Service, group: str, lang: str) -> dict[str, Any]:
    """Return one service of the list (a kind of request of the catalogue)."""
    return {"service_code": item.code, "service_name": item.title(lang),
            "description": item.description_en if lang == "en" else item.description_vi,
            "metadata": False, "type": "realtime", "keywords": f"{item.code}, {item.level}",
            "group": group}


def definition(item: Service) -> dict[str, Any]:
    """Return a service's definition: no extra attributes (every kind asks the same fields)."""
    return {"service_code": item.code, "attributes": []}


def discovery(root_url: str, key_service: str, contact: str) -> dict[str, Any]:
    """Return the discovery document naming this one production endpoint."""
    return {"changeset": CHANGESET, "contact": contact, "key_service": key_service,
            "endpoints": [{"specification": SPECIFICATION, "url": root_url, "changeset": CHANGESET,
                           "type": "production", "formats": ["application/json", "text/xml"]}]}


@dataclass
class Units:
    """The units a listing names, each read once."""

    session: Session
    boundary_set: str
    known: dict[str, Unit | None] = field(default_factory=dict)

    def get(self, code: str) -> Unit | None:
        """Return a unit of the set by code (None when it is gone)."""
        if code not in self.known:
            self.known[code] = get_unit(self.session, self.boundary_set, code)
        return self.known[code]


def notice(service_item: Service | None, team: Unit | None, lang: str) -> str:
    """Return what the citizen is told once a request is taken: who handles it, and how soon."""
    who = team_name(team, lang) if team else ""
    minutes = service_item.assign_within_minutes if service_item else 0
    if lang == "en":
        return f"{who} takes it within {minutes} minutes."
    return f"{who} sẽ tiếp nhận trong vòng {minutes} phút."


def request_record(item: Request, units: Units, services: dict[str, Service], lang: str, *,
                   full: bool, status_notes: str | None = None) -> dict[str, Any]:
    """Return one request as Open311 shows it; ``full`` only for a key whose unit holds it."""
    commune, team = units.get(item.commune_code), units.get(item.team_code)
    kind = services.get(item.kind)
    exact = full and item.lon is not None and item.lat is not None
    return {
        "service_request_id": item.ref, "status": OPEN311_STATUS[item.status],
        "status_notes": status_notes, "service_name": kind.title(lang) if kind else item.kind,
        "service_code": item.kind, "description": item.description if full else None,
        "agency_responsible": team_name(team, lang) if team else None,
        "service_notice": notice(kind, team, lang) if item.status == "new" else None,
        "requested_datetime": _w3c(item.created_at), "updated_datetime": _w3c(item.updated_at),
        "expected_datetime": _w3c(item.assign_due_at) if item.status == "new" else None,
        "address": _address(item, commune, full), "address_id": None, "zipcode": None,
        "lat": item.lat if exact else (commune.lat if commune else None),
        "long": item.lon if exact else (commune.lon if commune else None),
        "media_url": None,
    }


def _address(item: Request, commune: Unit | None, full: bool) -> str | None:
    name = commune.name if commune else None
    if full and item.address:
        return f"{item.address}, {name}" if name else item.address
    return name


def _w3c(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def created(item: Request, units: Units, services: dict[str, Service], lang: str) -> dict[str, Any]:
    """Return the answer to a new request: its reference code and who handles it."""
    return {"service_request_id": item.ref,
            "service_notice": notice(services.get(item.kind), units.get(item.team_code), lang),
            "account_id": None}
