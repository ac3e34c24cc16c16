"""Who is asking: the signed-in account (a server-side session named by the cookie), CSRF tokens.

The session cookie holds a random session token (its sha256 is what the database keeps) and the
form token; every state-changing console request must echo that form token (``csrf_token``).
All database work here goes through short ``session_scope`` transactions of their own.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, g, redirect, request, session, url_for

from epimap.db import session_scope
from officials.accounts import Principal, require_role, session_principal
from officials.audit import Where
from portal.database import get_bind
from portal.errors import BadRequest
from portal.i18n import translate
from portal.security import secret_key

SID = "sid"
CSRF = "csrf"
CSRF_FIELD = "csrf_token"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
F = TypeVar("F", bound=Callable[..., Any])


class CsrfRefused(BadRequest):
    """A state-changing request without this session's form token."""

    title_key = "console_csrf_title"

    def message(self, lang: str) -> str:
        return translate("console_csrf", lang)


def where() -> Where:
    """Return the request's client IP and user agent, for the audit log."""
    return Where(ip=request.remote_addr, user_agent=(request.user_agent.string or None))


def current_principal() -> Principal | None:
    """Return the signed-in principal of this request, or None."""
    if "principal" not in g:
        g.principal = None
        sid = session.get(SID)
        if sid:
            with session_scope(get_bind()) as db:
                g.principal = session_principal(db, sid)
            if g.principal is None:
                session.pop(SID, None)
    return g.principal


def csrf_token() -> str:
    """Return this session's form token (made on first use)."""
    token = session.get(CSRF)
    if not token:
        token = session[CSRF] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse (400) a state-changing request whose form token is missing or wrong."""
    if request.method not in UNSAFE:
        return
    expected = session.get(CSRF)
    sent = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token") or ""
    if not expected or not hmac.compare_digest(str(expected), str(sent)):
        raise CsrfRefused()
    origin = request.headers.get("Origin")  # compared by host: TLS may end at a proxy
    if origin and urlsplit(origin).netloc != request.host:
        raise CsrfRefused()


def safe_next(target: str | None) -> str:
    """Return a same-site console path to go to after signing in (never another site)."""
    if target:
        parts = urlsplit(target)
        local = not parts.scheme and not parts.netloc and "\\" not in target
        if local and parts.path.startswith("/quan-tri"):
            return target
    return url_for("console.home")


def signed_in(role: str = "viewer") -> Callable[[F], F]:
    """Decorate a console view: anonymous GETs go to the sign-in page; the role is checked."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None and request.method == "GET":
                return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
            require_role(principal, role)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def init_app(app: Flask) -> None:
    """Set the secret key and the session cookie's flags; expose ``csrf_token`` to templates."""
    settings = app.config["SETTINGS"]
    app.secret_key = secret_key(settings)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=bool(settings.secure_cookies),
                      SESSION_COOKIE_NAME="epimap_session")
    app.jinja_env.globals.update(csrf_token=csrf_token, current_principal=current_principal,
                                 CSRF_FIELD=CSRF_FIELD)
