"""Open311 GeoReport v2 under ``/open311/v2/``: discovery, services, requests (read and create).

Reads need no key and show no personal data; ``api_key`` (an API token of the operator role or
above, issued in the console) is needed to create a request inside the key's unit, and lets a
read show the whole of the requests inside that unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, request, url_for
from sqlalchemy.orm import Session

from dispatch import store
from dispatch.intake import Intake, take
from dispatch.refs import normalise_ref
from dispatch.routing import Area
from epimap.db import session_scope
from officials.accounts import Denied, Principal, require_role, token_principal, units_within
from portal.catalog import current_catalog
from portal.console.auth import where
from portal.database import db_session, get_bind
from portal.errors import NotFound
from portal.http_policy import CURRENT_MAX_AGE, cache_for, private
from portal.i18n import current_language
from portal.open311 import records
from portal.open311.formats import answer
from portal.open311.params import Listing, coordinate, listing, text_field

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FMT = "<any(json, xml):fmt>"


def _area() -> Area:
    return Area.of(current_app.config["SETTINGS"])


def _key(session: Session | None = None) -> Principal | None:
    """Return the principal of the request's ``api_key``; 403 for a key that is not a live token."""
    raw = (request.values.get("api_key") or "").strip()
    if not raw:
        return None
    private()  # what a keyed read shows depends on the key, its refusal included
    if session is not None:
        principal = token_principal(session, raw)
    else:
        with session_scope(get_bind()) as own:  # a key's use is recorded: committed apart from the read
            principal = token_principal(own, raw)
    if principal is None:
        raise Denied("api_key không hợp lệ hoặc đã bị thu hồi.", "Invalid or revoked api_key.")
    return principal


def _inside(session: Session, principal: Principal | None, boundary_set: str) -> set[str]:
    """Return the codes of the key's unit and the units inside it (none without a key of this set)."""
    if principal is None or principal.boundary_set != boundary_set:
        return set()
    return set(units_within(session, principal.boundary_set, principal.scope_code))


@bp.route(f"/discovery.{FMT}")
def discovery(fmt: str) -> Response:
    """Name this endpoint, its formats and where partners get a key."""
    settings = current_app.config["SETTINGS"]
    body = records.discovery(url_for("open311.services", fmt="json", _external=True).rsplit("/", 1)[0],
                             url_for("console.tokens", _external=True), settings.portal_name)
    return answer(fmt, "discovery", body)


@bp.route(f"/services.{FMT}")
def services(fmt: str) -> Response:
    """List the kinds of request the catalogue declares."""
    catalog, lang = current_catalog(), current_language()
    group = catalog.requests_layer.title(lang) if catalog.requests_layer else ""
    return answer(fmt, "services", [records.service(s, group, lang) for s in catalog.services.values()])


@bp.route(f"/services/<code>.{FMT}")
def definition(code: str, fmt: str) -> Response:
    """Define one service (it asks no attributes beyond the standard fields)."""
    item = current_catalog().services.get(code)
    if item is None:
        raise NotFound(f"Không có dịch vụ “{code[:40]}”.", f"No service '{code[:40]}'.")
    return answer(fmt, "service_definition", records.definition(item))


def _intake(form: Mapping[str, str], actor: str) -> Intake:
    """Read a request from the specification's form fields (``email`` and ``media_url`` are ignored)."""
    lon, lat = coordinate(form.get("long"), "long"), coordinate(form.get("lat"), "lat")
    address = text_field(form.get("address_string"))
    name = " ".join(filter(None, (text_field(form.get("first_name")), text_field(form.get("last_name")))))
    return Intake(kind=form.get("service_code") or "", description=form.get("description") or "",
                  phone=text_field(form.get("phone")), name=name or None, address=address, lon=lon, lat=lat,
                  commune=address if lon is None and lat is None else None, source="open311",
                  source_detail=actor)


@bp.route(f"/requests.{FMT}", methods=["POST"])
def create(fmt: str) -> Response:
    """Take a partner app's request in: its key's unit must hold the place."""
    settings, services = current_app.config["SETTINGS"], current_catalog().services
    with session_scope(get_bind()) as session:  # one transaction: the key's use, the request, its audit
        principal = _key(session)
        if principal is None:
            raise Denied("Cần api_key để gửi yêu cầu.", "An api_key is needed to create a request.")
        require_role(principal, "operator")
        intake = _intake(request.form, principal.actor)
        taken = take(session, _area(), services, intake, actor=principal.actor, now=datetime.now(UTC),
                     prefix=settings.request_prefix, where=where())
        if not {taken.commune_code, taken.team_code} & _inside(session, principal, taken.boundary_set):
            raise Denied("Nơi này nằm ngoài đơn vị của api_key.",
                         "This place lies outside the api_key's unit.")
        units = records.Units(session, taken.boundary_set)
        body = records.created(taken, units, services, current_language())
    return answer(fmt, "service_requests", [body], status=201)


@bp.route(f"/requests.{FMT}")
def requests_list(fmt: str) -> Response:
    """List requests: by ids, or by service, dates and status (the last 90 days by default)."""
    asked = listing(request.args, datetime.now(UTC))
    session, area = db_session(), _area()
    principal = _key()
    found = _find(session, area, asked)
    return _records(fmt, session, area, principal, found)


@bp.route(f"/requests/<ref>.{FMT}")
def request_one(ref: str, fmt: str) -> Response:
    """Show one request by its reference code."""
    session, area = db_session(), _area()
    principal = _key()
    code = normalise_ref(ref)
    item = store.get_by_ref(session, code) if code else None
    if item is None or item.boundary_set != area.boundary_set:
        raise NotFound(f"Không có yêu cầu “{ref[:20]}”.", f"No request '{ref[:20]}'.")
    notes = [e.note for e in store.history(session, item.id, public_only=True) if e.action == "comment"]
    return _records(fmt, session, area, principal, [item], notes[-1] if notes else None)


def _find(session: Session, area: Area, asked: Listing) -> list[store.Request]:
    if asked.refs is not None:
        found = (store.get_by_ref(session, ref) for ref in asked.refs)
        return [r for r in found if r is not None and r.boundary_set == area.boundary_set]
    codes = tuple(units_within(session, area.boundary_set, area.code))
    rows: list[store.Request] = []
    for kind in asked.kinds or (None,):
        rows += store.queue(session, store.QueueFilter(area.boundary_set, codes, asked.statuses, kind=kind,
                                                       since=asked.start, until=asked.end),
                            asked.end, limit=asked.limit)
    return sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)[: asked.limit]


def _records(fmt: str, session: Session, area: Area, principal: Principal | None,
             found: list[store.Request], status_notes: str | None = None) -> Response:
    inside = _inside(session, principal, area.boundary_set)
    if principal is None:
        cache_for(CURRENT_MAX_AGE)
    units, services, lang = records.Units(session, area.boundary_set), current_catalog().services, \
        current_language()
    body = [records.request_record(r, units, services, lang, status_notes=status_notes,
                                   full=bool({r.commune_code, r.team_code} & inside)) for r in found]
    return answer(fmt, "service_requests", body)

