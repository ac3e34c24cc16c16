"""The officials' console ``/quan-tri``: sign-in, layers, upload → preview → publish, history, rollback,
edits, API tokens, accounts and the audit log.

Views only read forms and render; every rule (role, unit, state) is enforced by the service layer
(:mod:`officials.accounts`, :mod:`officials.publishing`), which raises the 401/403/404/409/422 errors the
portal's one error path renders.  Every POST needs this session's form token (``check_csrf``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy.orm import Session

from boundaries.queries import bounds, get_unit, outline_geojson
from epimap.db import session_scope
from epimap.errors import EpimapError
from ingest.report_export import report_csv, report_xlsx
from layers.catalog import Layer
from layers.meta import layer_state
from layers.statistics import latest_values
from layers.store import features, history, publication_numbers
from layers.versions import NO_PREVIEW
from officials import accounts, publishing, uploads
from officials.accounts import ROLES, TOKEN_ROLES, Conflict, Invalid, Principal, Throttled, Unauthenticated
from officials.audit import ACTIONS, events
from portal.catalog import current_catalog
from portal.console import forms
from portal.console.auth import SID, check_csrf, current_principal, safe_next, signed_in, where
from portal.database import get_bind
from portal.errors import NotFound
from portal.i18n import current_language, translate

bp = Blueprint("console", __name__, url_prefix="/quan-tri")
FEATURES_SHOWN = 500
HISTORY_SHOWN = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@contextmanager
def db() -> Iterator[Session]:
    """A short transaction of its own (never the request's read session)."""
    with session_scope(get_bind()) as session:
        yield session


def me() -> Principal:
    """Return the signed-in principal (views are decorated with ``signed_in``)."""
    principal = current_principal()
    assert principal is not None  # noqa: S101 - guaranteed by @signed_in
    return principal


def number_of(publication_id: int) -> int:
    """Return a publication's number within its layer (#1, #2 …), as officials count them."""
    with db() as session_db:
        return publication_numbers(session_db, [publication_id]).get(publication_id, publication_id)


def _layer(layer_id: str, *, features: bool = False) -> Layer:
    """Return a catalogue layer (of features when asked: only those can be edited), or a 404."""
    layer = current_catalog().layer(layer_id)
    if layer is None or (features and not layer.kind.has_features):
        raise NotFound()
    return layer


@bp.before_request
def _csrf() -> None:
    check_csrf()


@bp.after_request
def _confined(response: Response) -> Response:
    # Never framed, never referred; never stored is the console family's (portal.http_policy).
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


# ------------------------------------------------------------------------------------- sign-in


@bp.route("/dang-nhap", methods=["GET", "POST"])
def sign_in() -> Any:
    """The sign-in form; five wrong passwords lock the account for a while."""
    target = request.values.get("next") or ""
    if request.method == "GET" and current_principal() is not None:
        return redirect(safe_next(target))
    error: EpimapError | None = None
    email = ""
    if request.method == "POST":
        email = forms.field("email", 254)
        raw = None
        with db() as session_db:
            delay = accounts.short_delay(session_db, email, where().ip)
        if delay:
            accounts.pause(delay)  # outside any transaction: no connection held while waiting
        with db() as session_db:  # commits the attempt even when it failed
            try:
                principal = accounts.sign_in(session_db, email, request.form.get("password") or "", where())
                raw = accounts.start_session(session_db, principal, where(),
                                             current_app.config["SETTINGS"].session_hours)
            except (Unauthenticated, Throttled) as exc:
                error = exc
        if raw is not None:
            session.clear()  # a fresh session: nothing from before signing in survives
            session[SID] = raw
            return redirect(safe_next(target))
    page = render_template("console/sign_in.html", error=error.message(current_language()) if error else None,
                           email=email, next=target,
                           retry_after=error.retry_after if isinstance(error, Throttled) else None)
    response = Response(page, status=error.status if error else 200)
    if isinstance(error, Throttled):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@bp.route("/dang-xuat", methods=["POST"])
def sign_out() -> Any:
    """End the session."""
    principal = current_principal()
    with db() as session_db:
        accounts.end_session(session_db, session.get(SID), principal, where())
    session.clear()
    return redirect(url_for("console.sign_in"))


# ------------------------------------------------------------------------------------- layers


@bp.route("/")
@signed_in()
def home() -> str:
    """The layers with their current publication, the upload form and recent uploads."""
    principal = me()
    with db() as session_db:
        unit = accounts.scope_unit(session_db, principal)
        rows = []
        for layer in current_catalog().layers.values():
            state = layer_state(session_db, layer, None if layer.public else unit)
            current = history(session_db, layer, limit=1)
            rows.append({"layer": layer, "state": state, "latest": current[0] if current else None,
                         "in_unit": publishing.count_in_unit(session_db, layer, unit)})
        uploads = publishing.recent_uploads(session_db, principal) if principal.at_least("editor") else []
        numbers = publication_numbers(session_db, [u.publication_id for u in uploads])
    return render_template("console/home.html", unit=unit, rows=rows, uploads=uploads, numbers=numbers,
                           max_mb=current_app.config["SETTINGS"].max_upload_mb)


@bp.route("/lop/<layer_id>")
@signed_in()
def layer_page(layer_id: str) -> str:
    """A layer's history (rollback where allowed) and its current features or figures inside the unit."""
    principal, layer = me(), _layer(layer_id)
    with db() as session_db:
        unit = accounts.scope_unit(session_db, principal)
        publications = history(session_db, layer, limit=HISTORY_SHOWN)
        may_roll_back = {p.id: publishing.can_roll_back(session_db, principal, p.boundary_set, p.scope_code)
                         for p in publications}
        numbers = {**publication_numbers(session_db, [p.restores_publication for p in publications]),
                   **{p.id: p.number for p in publications}}
        if layer.kind.has_features:
            found: list[Any] = features(session_db, layer, unit=(unit.level, unit.code), public_only=False,
                                        limit=FEATURES_SHOWN + 1)
        else:
            found = latest_values(session_db, unit.boundary_set, unit.code, FEATURES_SHOWN + 1)
    return render_template("console/layer.html", layer=layer, unit=unit, publications=publications,
                           may_roll_back=may_roll_back, numbers=numbers, features=found[:FEATURES_SHOWN],
                           more=len(found) > FEATURES_SHOWN, metrics=current_catalog().metrics)


@bp.route("/lop/<layer_id>/khoi-phuc/<int:publication_id>")
@signed_in("publisher")
def roll_back_preview(layer_id: str, publication_id: int) -> Any:
    """Show what rolling back to a publication changes (lists, map), then ask a reason and confirmation."""
    return _rollback_page(_layer(layer_id), publication_id)


def _rollback_page(layer: Layer, publication_id: int, error: EpimapError | None = None) -> Any:
    preview = publishing.preview_rollback_publication(get_bind(), me(), layer.id, publication_id,
                                                      catalog=current_catalog())
    target = preview.target
    with db() as session_db:
        unit = get_unit(session_db, target.boundary_set, target.scope_code)
        box = bounds(session_db, unit) if unit else None
        outline = outline_geojson(session_db, unit, vertices_across=300) if unit else None
        number = publication_numbers(session_db, [target.id]).get(target.id, target.id)
    page = render_template(
        "console/rollback.html", layer=layer, unit=unit, target=target, number=number, base=preview.base,
        diff=preview.diff.__dict__, changes=preview.changes, metrics=current_catalog().metrics,
        map_data=_map_data(preview.changes, box, outline), values=request.form,
        error=error.message(current_language()) if error else None)
    return page, error.status if error else 200


@bp.route("/lop/<layer_id>/khoi-phuc", methods=["POST"])
@signed_in("publisher")
def roll_back(layer_id: str) -> Any:
    """Restore the layer as it was at a publication (a new one), once its preview was confirmed."""
    layer, publication = _layer(layer_id), forms.number("publication")
    base = forms.field("base", 20)
    try:
        new_id, change = publishing.rollback_publication(
            get_bind(), me(), layer.id, publication, where(), note=forms.field("note"),
            legal_ref=forms.field("legal_ref"), confirmed=forms.flag("confirm"),
            base=int(base) if base.isdigit() else NO_PREVIEW, catalog=current_catalog())
    except (Invalid, Conflict) as exc:
        return _rollback_page(layer, publication, exc)
    flash(translate("console_rolled_back").format(id=number_of(new_id), added=change.added,
                                                  changed=change.changed, removed=change.removed))
    return redirect(url_for("console.layer_page", layer_id=layer.id))


@bp.route("/lop/<layer_id>/sua", methods=["GET", "POST"])
@signed_in("publisher")
def edit(layer_id: str) -> Any:
    """Edit one feature (close a checkpoint, change hours, lift a lockdown) as a one-row publication."""
    principal, layer = me(), _layer(layer_id, features=True)
    source_id = (request.args.get("id") or "").strip()
    with db() as session_db:
        feature = publishing.editable_feature(session_db, principal, layer, source_id)
    error, status, values = None, 200, {k: "" if v is None else str(v) for k, v in feature["props"].items()}
    if request.method == "POST":
        values.update(forms.edit_values(layer))
        try:
            publication, _change = publishing.edit_feature(
                get_bind(), principal, layer.id, source_id, forms.edit_values(layer), where(),
                note=forms.field("note"), legal_ref=forms.field("legal_ref"), catalog=current_catalog())
        except Invalid as exc:
            error, status = exc.message(current_language()), exc.status
        else:
            flash(translate("console_edited").format(id=number_of(publication)))
            return redirect(url_for("console.layer_page", layer_id=layer.id))
    return render_template("console/edit.html", layer=layer, feature=feature, values=values,
                           error=error), status


# ------------------------------------------------------------------------------------- uploads


@bp.route("/tai-len", methods=["POST"])
@signed_in("editor")
def upload() -> Any:
    """Store a feed and queue its preview (a dry run in the account's unit); follow it on its page."""
    form = forms.upload_form()
    found = uploads.queue_preview(get_bind(), current_app.config["SETTINGS"], me(), form.layer_id,
                                  form.file.stream, form.file.filename, where(), catalog=current_catalog())
    return redirect(url_for("console.preview", upload_id=found.id))


def _map_data(changes: dict[str, Any] | None, box: tuple[float, float, float, float] | None,
              outline: dict | None) -> dict[str, Any]:
    settings = current_app.config["SETTINGS"]
    changes = changes or {}
    return {
        "basemap": settings.basemap_url, "attribution": settings.basemap_attribution,
        "bounds": [[box[1], box[0]], [box[3], box[2]]] if box else None,
        "outline": outline,
        "changes": {kind: [{"name": item.get("name"), "source_id": item.get("source_id"),
                            "geometry": item.get("geometry")} for item in changes.get(kind, [])]
                    for kind in ("added", "changed", "removed")},
        "labels": {kind: translate(f"console_{kind}") for kind in ("added", "changed", "removed")},
    }


@bp.route("/tai-len/<int:upload_id>")
@signed_in("editor")
def preview(upload_id: int) -> str:
    """The preview: rejected rows, the diff as lists and on a map, then publish or discard.

    While the upload's job is queued or under way (or its preview failed), its progress instead,
    refreshing itself until the job is done.
    """
    principal = me()
    with db() as session_db:
        found = publishing.visible_upload(session_db, principal, upload_id)
        unit = get_unit(session_db, found.boundary_set, found.scope_code)
        box = bounds(session_db, unit) if unit else None
        outline = outline_geojson(session_db, unit, vertices_across=300) if unit else None
        current = layer_state(session_db, _layer(found.layer_id)).publication
        number = publication_numbers(session_db, [found.publication_id]).get(found.publication_id)
    if found.running or found.report is None:
        better = (found.job_error or {}).get("layer")
        return render_template("console/job.html", upload=found, unit=unit, layer=_layer(found.layer_id),
                               job=uploads.job_state(found), better=current_catalog().layer(better or ""),
                               catalog_layers=list(current_catalog().layers.values()),
                               max_mb=current_app.config["SETTINGS"].max_upload_mb)
    report = found.report or {}
    rows = report.get("rows") or []
    return render_template(
        "console/preview.html", job=uploads.job_state(found), upload=found, layer=_layer(found.layer_id),
        unit=unit, report=report,
        rejected=[r for r in rows if r["status"] == "rejected" and not r.get("other_province")],
        other_provinces=report.get("other_provinces") or [],
        warned=[r for r in rows if r["status"] == "accepted" and r.get("warnings")],
        changes=found.changes or {}, map_data=_map_data(found.changes, box, outline),
        stale=current != found.base_publication, metrics=current_catalog().metrics, number=number,
        may_publish=principal.at_least("publisher") and found.status == "previewed")


@bp.route("/tai-len/<int:upload_id>/doi-lop", methods=["POST"])
@signed_in("editor")
def switch_layer(upload_id: int) -> Any:
    """Preview an upload's file again as another layer (the one its headers fit, as the page offered)."""
    found = uploads.queue_as_layer(get_bind(), current_app.config["SETTINGS"], me(), upload_id,
                                   forms.field("layer", 40), where(), catalog=current_catalog())
    return redirect(url_for("console.preview", upload_id=found.id))


@bp.route("/tai-len/<int:upload_id>/tien-do.json")
@signed_in("editor")
def progress(upload_id: int) -> Response:
    """The upload's job as JSON (phase, rows, percent, done, error), for the page's polling."""
    with db() as session_db:
        found = publishing.visible_upload(session_db, me(), upload_id)
    return jsonify(uploads.job_state(found))


@bp.route("/tai-len/<int:upload_id>/xuat-ban", methods=["POST"])
@signed_in("publisher")
def publish(upload_id: int) -> Any:
    """Queue the publication of a previewed upload (re-validated on the stored file); follow it."""
    uploads.queue_publish(get_bind(), current_app.config["SETTINGS"], me(), upload_id, where(),
                          note=forms.field("note"), legal_ref=forms.field("legal_ref"),
                          force=forms.flag("force"), catalog=current_catalog())
    return redirect(url_for("console.preview", upload_id=upload_id))


@bp.route("/tai-len/<int:upload_id>/huy", methods=["POST"])
@signed_in("editor")
def discard(upload_id: int) -> Any:
    """Throw a preview away."""
    publishing.discard_upload(get_bind(), me(), upload_id, where())
    flash(translate("console_discarded"))
    return redirect(url_for("console.home"))


@bp.route("/tai-len/<int:upload_id>/bao-cao.<fmt>")
@signed_in("editor")
def report_download(upload_id: int, fmt: str) -> Response:
    """Download the preview's report as formula-safe CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        raise NotFound()
    with db() as session_db:
        found = publishing.visible_upload(session_db, me(), upload_id)
    report = publishing.report_from_dict(found.report or {})
    if fmt == "csv":
        response = Response(report_csv(report), mimetype="text/csv; charset=utf-8")
    else:
        response = Response(report_xlsx(report), mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="bao-cao-{found.id}.{fmt}"'
    return response


# ------------------------------------------------------------------------------------- tokens


@bp.route("/khoa-api", methods=["GET", "POST"])
@signed_in("publisher")
def tokens() -> Any:
    """The feed API's tokens: create one (its secret shown once) or revoke."""
    principal = me()
    created, error, status = None, None, 200
    if request.method == "POST":
        try:
            with db() as session_db:
                token, secret = accounts.create_token(
                    session_db, principal, forms.field("name", 100), forms.field("role", 20),
                    forms.field("scope", 20) or None, where())
            created = {"token": token, "secret": secret}
            status = 201
        except Invalid as exc:
            error, status = exc.message(current_language()), exc.status
    with db() as session_db:
        listed = accounts.list_tokens(session_db, principal)
    roles = [r for r in TOKEN_ROLES if accounts.rank(r) <= accounts.rank(principal.role)]
    return render_template("console/tokens.html", tokens=listed, created=created, error=error,
                           roles=roles), status


@bp.route("/khoa-api/<int:token_id>/thu-hoi", methods=["POST"])
@signed_in("publisher")
def revoke(token_id: int) -> Any:
    """Revoke a token."""
    with db() as session_db:
        accounts.revoke_token(session_db, me(), token_id, where())
    flash(translate("console_token_revoked"))
    return redirect(url_for("console.tokens"))


# ------------------------------------------------------------------------------------- accounts


@bp.route("/tai-khoan", methods=["GET", "POST"])
@signed_in("admin")
def account_list() -> Any:
    """Accounts inside the admin's unit; create one (a password is generated when left empty)."""
    principal = me()
    created, error, status = None, None, 200
    if request.method == "POST":
        password = request.form.get("password") or ""
        generated = not password
        password = password or accounts.generate_password()
        try:
            with db() as session_db:
                account = accounts.create_account(
                    session_db, forms.field("email", 254), password, forms.field("role", 20),
                    principal.boundary_set, forms.field("scope", 20) or principal.scope_code, by=principal,
                    where=where())
            created = {"account": account, "password": password if generated else None}
            status = 201
        except (Invalid, accounts.Conflict) as exc:
            error, status = exc.message(current_language()), exc.status
    with db() as session_db:
        listed = accounts.list_accounts(session_db, within=principal)
    roles = [r for r in ROLES if accounts.rank(r) <= accounts.rank(principal.role)]
    return render_template("console/accounts.html", accounts=listed, created=created, error=error,
                           roles=roles), status


@bp.route("/tai-khoan/<int:account_id>/khoa", methods=["POST"])
@signed_in("admin")
def disable(account_id: int) -> Any:
    """Disable an account (its sessions end, its tokens stop)."""
    with db() as session_db:
        account = accounts.get_account_by_id(session_db, account_id)
        if account is None:
            raise NotFound()
        accounts.disable_account(session_db, account.email, by=me(), where=where())
    flash(translate("console_account_disabled"))
    return redirect(url_for("console.account_list"))


# ------------------------------------------------------------------------------------- audit log


@bp.route("/nhat-ky")
@signed_in("admin")
def audit() -> str:
    """The audit log (events of the admin's unit), filtered by actor, action and days, paged."""
    principal = me()
    with db() as session_db:
        scopes = None if accounts.is_top_level(session_db, principal) else tuple(
            accounts.units_within(session_db, principal.boundary_set, principal.scope_code))
        filters, page, raw = forms.audit_filters(scopes)
        found, more = events(session_db, filters, page)
    return render_template("console/audit.html", events=found, more=more, page=page, raw=raw, actions=ACTIONS)
