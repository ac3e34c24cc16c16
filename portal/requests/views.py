"""The citizens' doors: the request form ``/gui-yeu-cau`` and the follow page ``/yeu-cau/<code>``.

The form works without JavaScript (a commune typed by name and a free address); with it, a small
map drops a pin or "Dùng vị trí của tôi" fills the hidden lon/lat.  It needs this session's form
token (like the console's forms) and is limited per client IP.  A sent request answers with its
reference code (POST-redirect-GET); the follow page shows its status and public history only:
never a phone, name, address, description, photo or exact point.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from boundaries.queries import bounds, get_unit
from dispatch import store
from dispatch.intake import InvalidRequest, take, validate
from dispatch.refs import normalise_ref
from dispatch.routing import Area, Unplaced, team_name
from epimap.db import session_scope
from layers.catalog import Service
from portal.catalog import current_catalog
from portal.console.auth import check_csrf, where
from portal.database import db_session, get_bind
from portal.errors import NotFound
from portal.http_policy import private
from portal.i18n import current_language, translate
from portal.requests.counts import requests_layer
from portal.requests.forms import FormValues, check_rate, intake_of, photo_bytes, read_form
from portal.share.common import local_time

bp = Blueprint("requests", __name__)
ACTOR = "citizen (web)"
EVENT_LABELS = {"created": "citizen_event_created", "status": "citizen_event_status",
                "assigned": "citizen_event_status", "referred": "citizen_event_referred",
                "escalated": "citizen_event_escalated", "comment": "citizen_event_comment"}
OTHER_EVENT = "citizen_event_other"


def _services() -> dict[str, Service]:
    if requests_layer(current_catalog()) is None:
        raise NotFound()
    return current_catalog().services


def _area() -> Area:
    return Area.of(current_app.config["SETTINGS"])


@bp.before_request
def _per_reader() -> None:
    # The form carries this session's token and every page follows the language cookie.
    private()


@bp.route("/request")
def form_en() -> Response:
    """Answer the English address with the form's."""
    return redirect(url_for("requests.form", **request.args), code=301)


@bp.route("/gui-yeu-cau", methods=["GET", "POST"])
def form() -> Any:
    """Show the request form; take a sent one in and redirect to its code, or show the form's errors."""
    services = _services()
    if request.method == "GET":
        return _form_page(services, FormValues({"kind": request.args.get("kind", "")[:40]}), {})
    check_csrf()
    check_rate(current_app)
    values, photo = read_form(), photo_bytes()
    errors, ref = _take(services, values, photo)
    if ref is None:
        return _form_page(services, values, errors, photo_dropped=photo is not None), 422
    return redirect(url_for("requests.sent", ref=ref), code=303)


def _take(services: dict[str, Service], values: FormValues,
          photo: bytes | None) -> tuple[dict[str, tuple[str, str]], str | None]:
    """Store a valid request and return its code, else every field's (vi, en) error."""
    errors: dict[str, tuple[str, str]] = {}
    if not values.consent:
        errors["consent"] = (translate("citizen_consent_needed", "vi"),
                             translate("citizen_consent_needed", "en"))
    intake = intake_of(values, photo)
    try:
        if errors:
            validate(intake, services)  # name every wrong field at once, store nothing
            return errors, None
        with session_scope(get_bind()) as session:
            taken = take(session, _area(), services, intake, actor=ACTOR, now=datetime.now(UTC),
                         prefix=current_app.config["SETTINGS"].request_prefix, where=where())
            return errors, taken.ref
    except InvalidRequest as exc:
        errors.update(exc.fields)
    except Unplaced as exc:
        errors["location"] = (exc.message("vi"), exc.message("en"))
    return errors, None


def _form_page(services: dict[str, Service], values: FormValues, errors: dict[str, tuple[str, str]],
               photo_dropped: bool = False) -> str:
    lang = current_language()
    session = db_session()
    settings = current_app.config["SETTINGS"]
    area = get_unit(session, settings.default_set, settings.default_unit)
    client = {"bounds": bounds(session, area) if area else None, "basemap": settings.basemap_url,
              "attribution": settings.basemap_attribution,
              "texts": {"locating": translate("citizen_locating"), "pin_set": translate("citizen_pin_set"),
                        "locate_failed": translate("citizen_locate_failed")}}
    shown = {field: pair[1 if lang == "en" else 0] for field, pair in errors.items()}
    return render_template("requests/form.html", services=services.values(), values=values, errors=shown,
                           photo_dropped=photo_dropped and bool(errors), client=client,
                           retention_days=settings.request_retention_days)


def _request_or_404(ref: str) -> store.Request:
    found = store.get_by_ref(db_session(), ref)
    if found is None:
        raise NotFound(translate("citizen_not_found", "vi"), translate("citizen_not_found", "en"))
    return found


def spoken(ref: str) -> str:
    """Return a code as read aloud, one character at a time.

    >>> spoken("BD-7K3Q-92")
    'B D – 7 K 3 Q – 9 2'
    """
    return " – ".join(" ".join(part) for part in ref.split("-"))


@bp.route("/yeu-cau/<ref>/da-gui")
def sent(ref: str) -> str:
    """Show a new request's code in large type, how to read it and where to follow it."""
    found = _request_or_404(ref)
    return render_template("requests/sent.html", ref=found.ref, spoken=spoken(found.ref))


@bp.route("/yeu-cau")
def lookup() -> Any:
    """Show the code form; a typed code, however written, goes to its follow page."""
    typed = (request.args.get("ma") or request.args.get("code") or "").strip()[:40]
    if not typed:
        return render_template("requests/lookup.html", typed="", error=None)
    ref = normalise_ref(typed)
    if ref is None:
        return render_template("requests/lookup.html", typed=typed, error=translate("citizen_bad_code")), 400
    return redirect(url_for("requests.follow", ref=ref), code=303)


@bp.route("/yeu-cau/<ref>")
@bp.route("/request/<ref>", endpoint="follow_en")
def follow(ref: str) -> Any:
    """Show a request's status, team, dates and public history; nothing personal."""
    canonical = normalise_ref(ref)
    if canonical is None:
        raise NotFound(translate("citizen_not_found", "vi"), translate("citizen_not_found", "en"))
    if canonical != ref:
        return redirect(url_for("requests.follow", ref=canonical), code=301)
    found = _request_or_404(canonical)
    session, lang = db_session(), current_language()
    commune = get_unit(session, found.boundary_set, found.commune_code)
    team = get_unit(session, found.boundary_set, found.team_code)
    service = current_catalog().services.get(found.kind)
    events = [_event_view(event, found, lang) for event in store.history(session, found.id, public_only=True)]
    return render_template(
        "requests/follow.html", ref=found.ref, status=found.status,
        kind=service.title(lang) if service else found.kind, commune=commune.name if commune else "",
        team=team_name(team, lang) if team else "", created=local_time(found.created_at),
        updated=local_time(found.updated_at), events=events)


def _event_view(event: store.Event, found: store.Request, lang: str) -> dict[str, Any]:
    team = get_unit(db_session(), found.boundary_set, event.team_code) if event.team_code else None
    label = EVENT_LABELS.get(event.action, OTHER_EVENT)
    return {"at": local_time(event.at), "label": translate(label), "status": event.status,
            "team": team_name(team, lang) if team else None,
            "note": event.note if event.action in ("comment", "status", "assigned", "referred") else None}
