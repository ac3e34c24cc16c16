"""The dispatch pages of the console ``/quan-tri/yeu-cau``: the queue, a request, a phone call, the export.

Officials read the requests of their unit (placed in it, or handled by a team inside it) from the
viewer role up, and work them from the operator role up; :mod:`dispatch.workflow` checks both and
audits every change.  Every answer here names a person, so all are ``private, no-store``.  The
clock is :func:`officials.accounts.now` (tests move it).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from dispatch import intake, store, workflow
from dispatch.routing import Area
from epimap.errors import BadRequest
from officials import accounts
from officials.accounts import Conflict, Invalid, Principal
from officials.audit import record
from portal.catalog import current_catalog
from portal.console import request_forms as rf
from portal.console.auth import signed_in, where
from portal.console.forms import field, flag, local_time
from portal.console.request_export import XLSX, export_workbook
from portal.console.views import bp, db, me
from portal.errors import NotFound
from portal.http_policy import private
from portal.i18n import current_language, translate

MOVES = {"start": "in_progress", "resolve": "resolved", "close": "closed"}
HISTORY_SHOWN = 500


def scope_codes(session: Session, principal: Principal) -> tuple[str, ...]:
    """Return the codes of the principal's unit and of every unit inside it."""
    return tuple(accounts.units_within(session, principal.boundary_set, principal.scope_code))


def _area() -> Area:
    return Area.of(current_app.config["SETTINGS"])


@bp.route("/yeu-cau")
@signed_in()
def requests_queue() -> str:
    """The dispatch queue of the official's unit: overdue first, filtered, paged, counted per status."""
    private()
    principal, services, now = me(), current_catalog().services, accounts.now()
    args = rf.queue_args(services)
    with db() as session:
        codes = scope_codes(session, principal)
        where_ = store.QueueFilter(principal.boundary_set, codes, args.statuses, args.kind)
        found = store.queue(session, where_, now, limit=rf.PAGE_SIZE + 1,
                            offset=(args.page - 1) * rf.PAGE_SIZE)
        counts = store.counts(session, principal.boundary_set, codes, now, args.kind)
        names = store.unit_names(session, principal.boundary_set,
                                 {r.team_code for r in found} | {r.commune_code for r in found})
    return render_template("console/requests/queue.html", requests=found[:rf.PAGE_SIZE],
                           more=len(found) > rf.PAGE_SIZE, args=args, counts=counts, names=names,
                           services=services, now=now, choices=rf.STATUS_CHOICES, rf=rf,
                           lang=current_language())


def _detail(request_id: int, error: str | None = None, status: int = 200) -> Any:
    principal, services, now = me(), current_catalog().services, accounts.now()
    with db() as session:
        found = workflow.readable(session, principal, request_id)
        events = store.history(session, request_id)[-HISTORY_SHOWN:]
        duplicates = store.duplicates_of(session, request_id)
        original = store.get(session, found.duplicate_of) if found.duplicate_of else None
        names = store.unit_names(session, found.boundary_set, {found.team_code, found.commune_code}
                                 | {e.team_code for e in events if e.team_code})
    settings = current_app.config["SETTINGS"]
    map_data = {"basemap": settings.basemap_url, "attribution": settings.basemap_attribution,
                "point": [found.lat, found.lon] if found.lat is not None else None}
    page = render_template("console/requests/request.html", item=found, events=events, duplicates=duplicates,
                           original=original, names=names, service=services.get(found.kind), now=now,
                           error=error, may_work=principal.at_least("operator"), map_data=map_data, rf=rf,
                           lang=current_language())
    return page, status


@bp.route("/yeu-cau/<int:request_id>")
@signed_in()
def request_page(request_id: int) -> Any:
    """A request with everything about it (personal data included), its history and the actions."""
    private()
    return _detail(request_id)


def _act(session: Session, principal: Principal, request_id: int, action: str) -> None:
    now, here, public = accounts.now(), where(), flag("public")
    if action == "assign":
        workflow.move(session, principal, request_id, "assigned", now, assignee=field("assignee", 200),
                      note=field("note") or None, public=public, where=here)
    elif action in MOVES:
        workflow.move(session, principal, request_id, MOVES[action], now, note=field("note") or None,
                      public=public, where=here)
    elif action in ("refer_up", "refer_down"):
        current = workflow.readable(session, principal, request_id)
        service = current_catalog().services.get(current.kind)
        if service is None:
            raise Conflict("Loại yêu cầu này không còn trong danh mục.",
                           "This kind is no longer in the catalogue.")
        workflow.refer(session, principal, request_id, action.removeprefix("refer_"), field("reason"),
                       _area(), service, now, where=here)
    elif action == "comment":
        workflow.comment(session, principal, request_id, field("note"), public=public, now=now, where=here)
    else:
        raise Invalid("Thao tác không hợp lệ.", "Unknown action.")


@bp.route("/yeu-cau/<int:request_id>/cap-nhat", methods=["POST"])
@signed_in("operator")
def request_action(request_id: int) -> Any:
    """Assign, start, resolve, close, refer up or down, or comment; a refused move is shown on the page."""
    private()
    try:
        with db() as session:
            _act(session, me(), request_id, field("action", 20))
    except (Conflict, Invalid, BadRequest) as exc:
        return _detail(request_id, exc.message(current_language()), exc.status)
    flash(translate("console_req_saved"))
    return redirect(url_for("console.request_page", request_id=request_id), 303)


@bp.route("/yeu-cau/<int:request_id>/anh")
@signed_in()
def request_photo(request_id: int) -> Response:
    """A request's photo, for officials in scope only."""
    private()
    with db() as session:
        workflow.readable(session, me(), request_id)
        data = store.photo(session, request_id)
    if not data:
        raise NotFound()
    return Response(data, mimetype="image/jpeg")


def _earlier(phone_raw: str) -> tuple[list[store.Request] | None, str | None]:
    """Return the caller's earlier requests in the operator's unit, or the phone number's error."""
    try:
        phone = rf.caller_phone(phone_raw)
    except Invalid as exc:
        return None, exc.message(current_language())
    if phone is None:
        return None, None
    principal = me()
    with db() as session:
        return store.by_phone(session, principal.boundary_set, scope_codes(session, principal), phone), None


def _file(principal: Principal) -> Any:
    """Take the call's request in; go to its page (or back to the form when it lies outside the unit)."""
    settings = current_app.config["SETTINGS"]
    with db() as session:
        created = intake.take(session, _area(), current_catalog().services, rf.call_intake(principal.email),
                              actor=principal.actor, now=accounts.now(), prefix=settings.request_prefix,
                              where=where())
        shown = workflow.visible(session, principal, created)
    flash(translate("console_req_filed").format(ref=created.ref))
    target = url_for("console.request_page", request_id=created.id) if shown else url_for("console.take_call")
    return redirect(target, 303)


@bp.route("/yeu-cau/nhan-cuoc-goi", methods=["GET", "POST"])
@signed_in("operator")
def take_call() -> Any:
    """Take a phone call: the caller's number first (their earlier requests), then the request."""
    private()
    principal, error, problems, status = me(), None, {}, 200
    if request.method == "POST" and not rf.is_lookup():
        try:
            return _file(principal)
        except intake.InvalidRequest as exc:
            index = 0 if current_language() == "vi" else 1
            problems = {name: pair[index] for name, pair in exc.fields.items()}
            error, status = exc.message(current_language()), exc.status
        except BadRequest as exc:  # the place: outside the area, unknown or ambiguous
            problems, error, status = {"location": exc.message(current_language())}, None, exc.status
    phone_raw = field("phone", 40)  # posted only: a number in a URL would end up in access logs
    earlier, phone_error = _earlier(phone_raw) if phone_raw.strip() else (None, None)
    focus = "kind" if earlier is not None and not problems and request.method == "POST" else "phone"
    page = render_template("console/requests/take_call.html", values=request.form, phone=phone_raw,
                           earlier=earlier, phone_error=phone_error or problems.get("phone"),
                           problems=problems,
                           error=error, focus=focus, services=current_catalog().services, rf=rf,
                           lang=current_language())
    return page, status


@bp.route("/yeu-cau/theo-so", methods=["POST"])
@signed_in("operator")
def caller_requests() -> Response:
    """A caller's earlier requests in the operator's unit, as JSON (the call form's script).

    A POST, like the form: a phone number in a URL would be written to access logs.
    """
    private()
    services, lang = current_catalog().services, current_language()
    earlier, problem = _earlier(field("phone", 40))
    if problem:
        return jsonify({"error": problem, "requests": []})
    return jsonify({"requests": [
        {"ref": r.ref, "url": url_for("console.request_page", request_id=r.id),
         "kind": services[r.kind].title(lang) if r.kind in services else r.kind,
         "status": rf.status_label(r.status), "created": local_time(r.created_at)} for r in earlier or []]})


@bp.route("/yeu-cau/xuat.xlsx")
@signed_in()
def requests_export() -> Response:
    """The queue (as filtered) as XLSX, personal data included; the export is audited."""
    private()
    principal, services, now = me(), current_catalog().services, accounts.now()
    args = rf.queue_args(services)
    with db() as session:
        codes = scope_codes(session, principal)
        where_ = store.QueueFilter(principal.boundary_set, codes, args.statuses, args.kind)
        rows = store.queue(session, where_, now, limit=rf.EXPORT_ROWS)
        names = store.unit_names(session, principal.boundary_set,
                                 {r.team_code for r in rows} | {r.commune_code for r in rows})
        record(session, principal.actor, "request_export", where(),
               target=f"{principal.boundary_set}/{principal.scope_code}",
               details=principal.audit_details(rows=len(rows), status=args.status, kind=args.kind))
    response = Response(export_workbook(rows, names, services, now, current_language()), mimetype=XLSX)
    stamp = now.strftime("%Y%m%d-%H%M")
    name = f"yeu-cau-{principal.scope_code}-{stamp}.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
