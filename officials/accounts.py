"""Officials' accounts: roles, scopes, argon2 passwords, throttled sign-in, sessions and API tokens.

Roles grow in power: a *viewer* reads restricted layers, an *editor* uploads feeds and previews
them, a *publisher* publishes, edits and rolls back, an *admin* manages accounts.  Every account
(and every API token) is scoped to one administrative unit of a boundary set and everything
inside it.  The checks live here, not in the views: :func:`require_role` and
:func:`require_scope` raise a 403 :class:`Denied` whoever calls them.

Sign-in is throttled per account and client pair, per account and per client IP, with the attempts
kept in the database so every gunicorn worker sees them: after a failure the next attempt from that
client must wait 1, 2, 4, 8 … seconds (at most 30); 5 failures for one account from one client (20
from one IP on any accounts) within 15 minutes lock that client out for 15 minutes.  A client that
has not failed is never held back, so nobody can lock an account (see :func:`throttle_state`).
Attempts refused while waiting or locked are recorded but do not extend the lock.  New passwords
need 12 characters and a zxcvbn score of 3.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.queries import COUNTRY_LEVEL, Unit, get_unit
from epimap.errors import EpimapError
from officials.audit import Where, record

# An operator takes citizens' calls and works the requests queue of its unit; every role above
# may do the same.  Tokens of the operator role are partner apps' Open311 keys.
ROLES = ("viewer", "operator", "editor", "publisher", "admin")
TOKEN_ROLES = ("viewer", "operator", "editor", "publisher")
MIN_PASSWORD = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn's 0-4: 3 is "safely unguessable" (about 10^10 guesses)
MAX_PASSWORD = 1000
ACCOUNT_LOCK_AFTER = 5
IP_LOCK_AFTER = 20
LOCK = timedelta(minutes=15)
BASE_DELAY_S = 1.0
MAX_DELAY_S = 30.0
WAITED_OUT_S = 2.0  # delays up to this (the first two failures') are waited out, not told to the person
TOKEN_PREFIX = "epm_"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}$")

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown e-mails, so they take as long as known ones."""
    return _hasher.hash(secrets.token_urlsafe(16))


# ------------------------------------------------------------------------------------- errors


class Denied(EpimapError):
    """The requester may not do this (role too low, or outside their unit)."""

    status = 403
    title_key = "console_forbidden_title"
    default = ("Không có quyền", "Forbidden")


class Unauthenticated(EpimapError):
    """No valid session, credentials or token."""

    status = 401
    title_key = "console_unauthorized_title"
    default = ("Cần đăng nhập", "Sign-in needed")


class Conflict(EpimapError):
    """The request conflicts with the current state (e-mail taken, already published …)."""

    status = 409
    title_key = "console_conflict_title"
    default = ("Xung đột", "Conflict")


class Invalid(EpimapError):
    """A form or API value is invalid."""

    status = 400
    title_key = "bad_request_title"
    default = ("Yêu cầu không hợp lệ", "Bad request")


class Throttled(EpimapError):
    """Too many failed sign-ins: wait, or the account/IP is locked for a while."""

    status = 429
    title_key = "console_throttled_title"
    default = ("Tạm khóa đăng nhập", "Sign-in paused")

    def __init__(self, seconds: float, locked: bool) -> None:
        self.retry_after = max(1, int(seconds + 0.999))
        if locked:
            minutes = max(1, int(seconds / 60 + 0.999))
            super().__init__(
                f"Đăng nhập sai quá nhiều lần nên tạm bị khóa; thử lại sau {minutes} phút.",
                f"Too many failed sign-ins: locked for now; try again in {minutes} minutes.")
        else:
            super().__init__(f"Vui lòng đợi {self.retry_after} giây rồi thử lại.",
                             f"Please wait {self.retry_after} seconds and try again.")


def now() -> datetime:
    """Return the current time (tests replace this to move the clock)."""
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Account:
    """An official's account (never with its password hash)."""

    id: int
    email: str
    role: str
    boundary_set: str
    scope_code: str
    created_at: datetime
    created_by: str
    disabled_at: datetime | None
    last_sign_in_at: datetime | None


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in account, or an API token on behalf of its creator."""

    account_id: int
    email: str
    role: str
    boundary_set: str
    scope_code: str
    token_id: int | None = None

    @property
    def actor(self) -> str:
        """Return how the audit log and publications name this principal."""
        return self.email if self.token_id is None else f"{self.email} (token #{self.token_id})"

    def at_least(self, role: str) -> bool:
        """Tell whether the principal's role is ``role`` or above."""
        return rank(self.role) >= rank(role)

    def audit_details(self, **more: object) -> dict:
        """Return the scope every audit event carries, plus ``more``."""
        return {"scope_set": self.boundary_set, "scope": self.scope_code, "role": self.role, **more}


@dataclass(frozen=True)
class ApiToken:
    """An API token (its hash never leaves the database)."""

    id: int
    name: str
    role: str
    boundary_set: str
    scope_code: str
    account_id: int
    creator: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def rank(role: str) -> int:
    """Return a role's power (viewer 0 … admin 4).

    >>> rank("viewer") < rank("operator") < rank("editor") < rank("publisher") < rank("admin")
    True
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return ROLES.index(role)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------- checks


def require_role(principal: Principal | None, role: str) -> Principal:
    """Return the principal when its role is ``role`` or above; raise 401/403 otherwise."""
    if principal is None:
        raise Unauthenticated("Vui lòng đăng nhập.", "Please sign in.")
    if not principal.at_least(role):
        raise Denied(f"Việc này cần vai trò “{role}” trở lên.", f"This needs the '{role}' role or above.")
    return principal


def covers(session: Session, set_name: str, outer: str, inner_set: str, inner: str) -> bool:
    """Tell whether unit ``inner`` is ``outer`` or lies inside it (same boundary set)."""
    if set_name != inner_set:
        return False
    if outer == inner:
        return True
    return bool(session.execute(text(
        """
        WITH RECURSIVE up AS (
            SELECT code, parent_code FROM admin_unit WHERE boundary_set = :s AND code = :inner
            UNION
            SELECT a.code, a.parent_code FROM admin_unit a JOIN up ON a.boundary_set = :s
                AND a.code = up.parent_code
        )
        SELECT EXISTS (SELECT 1 FROM up WHERE code = :outer)
        """), {"s": set_name, "inner": inner, "outer": outer}).scalar())


def require_scope(session: Session, principal: Principal, set_name: str, code: str) -> None:
    """Raise 403 unless the unit (set, code) is the principal's unit or inside it."""
    if not covers(session, principal.boundary_set, principal.scope_code, set_name, code):
        raise Denied(f"Đơn vị {code} ({set_name}) nằm ngoài phạm vi của bạn ({principal.scope_code}).",
                     f"Unit {code} ({set_name}) is outside your area ({principal.scope_code}).")


def scope_unit(session: Session, principal: Principal) -> Unit:
    """Return the principal's unit (its level says which ``units`` key features are matched on)."""
    unit = get_unit(session, principal.boundary_set, principal.scope_code)
    if unit is None:
        raise Denied(f"Đơn vị {principal.scope_code} của tài khoản không còn tồn tại.",
                     f"Your account's unit {principal.scope_code} no longer exists.")
    return unit


def units_within(session: Session, set_name: str, code: str) -> list[str]:
    """Return the unit's code and the codes of every unit inside it."""
    rows = session.execute(text(
        """
        WITH RECURSIVE down AS (
            SELECT code FROM admin_unit WHERE boundary_set = :s AND code = :c
            UNION
            SELECT a.code FROM admin_unit a JOIN down ON a.boundary_set = :s AND a.parent_code = down.code
        )
        SELECT code FROM down
        """), {"s": set_name, "c": code}).scalars()
    return list(rows)


def is_top_level(session: Session, principal: Principal) -> bool:
    """Tell whether the principal's unit is the top of its portal: no parent, or a province.

    The country root only groups the provinces, and a province's command centre runs its portal.
    """
    unit = scope_unit(session, principal)
    if unit.parent_code is None:
        return True
    parent = get_unit(session, unit.boundary_set, unit.parent_code)
    return parent is not None and parent.level == COUNTRY_LEVEL


# ------------------------------------------------------------------------------------- accounts


def normalise_email(email: str) -> str:
    """Return the e-mail trimmed and lower-cased, or raise :class:`Invalid`.

    >>> normalise_email("  Can.Bo@SoYTe.gov.vn ")
    'can.bo@soyte.gov.vn'
    """
    email = (email or "").strip().lower()
    if not _EMAIL.match(email):
        raise Invalid("Địa chỉ email không hợp lệ.", "The e-mail address is not valid.")
    return email


def check_password(password: str, email: str = "") -> None:
    """Raise :class:`Invalid` when a new password is too short, too long or too easy to guess.

    >>> check_password("aaaaaaaaaaaa")
    Traceback (most recent call last):
    officials.accounts.Invalid: The password is too easy to guess (repeats, common words, dates, your e-mail): use a longer phrase of unusual words.
    """  # noqa: E501
    if not MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD:
        raise Invalid(f"Mật khẩu cần từ {MIN_PASSWORD} ký tự trở lên.",
                      f"The password needs at least {MIN_PASSWORD} characters.")
    from zxcvbn import zxcvbn  # 0.1 s to import: only when a password is set

    hints = [part for part in re.split(r"[@._-]", email) if part]
    if zxcvbn(password[:100], user_inputs=hints)["score"] < MIN_PASSWORD_SCORE:
        raise Invalid("Mật khẩu quá dễ đoán (lặp lại, từ thông dụng, ngày tháng, email của bạn): hãy dùng"
                      " một cụm từ dài hơn, ít gặp hơn.",
                      "The password is too easy to guess (repeats, common words, dates, your e-mail): use a"
                      " longer phrase of unusual words.")


def hash_password(password: str) -> str:
    """Return the argon2id hash of a password."""
    return _hasher.hash(password)


def generate_password() -> str:
    """Return a random password (about 128 bits)."""
    return secrets.token_urlsafe(16)


_ACCOUNT_COLUMNS = ("id, email, role, boundary_set, scope_code, created_at, created_by, disabled_at,"
                    " last_sign_in_at")


def get_account(session: Session, email: str) -> Account | None:
    """Return an account by e-mail (any case)."""
    row = session.execute(text(f"SELECT {_ACCOUNT_COLUMNS} FROM account WHERE email = :e"),  # noqa: S608
                          {"e": (email or "").strip().lower()}).mappings().first()
    return Account(**row) if row else None


def get_account_by_id(session: Session, account_id: int) -> Account | None:
    """Return an account by id."""
    row = session.execute(text(f"SELECT {_ACCOUNT_COLUMNS} FROM account WHERE id = :i"),  # noqa: S608
                          {"i": account_id}).mappings().first()
    return Account(**row) if row else None


def create_account(session: Session, email: str, password: str, role: str, set_name: str, scope_code: str,
                   *, by: Principal | None, actor: str | None = None, where: Where | None = None) -> Account:
    """Create an account; ``by`` (an admin) may only create accounts inside its unit, never above its role.

    ``by=None`` is the command line (``actor`` names it in the audit log).
    """
    email = normalise_email(email)
    if role not in ROLES:
        raise Invalid(f"Vai trò không hợp lệ: {role}.", f"Unknown role: {role}.")
    check_password(password, email)
    if get_unit(session, set_name, scope_code) is None:
        raise Invalid(f"Không có đơn vị mã {scope_code} ({set_name}).",
                      f"No unit with code {scope_code} in {set_name}.")
    if by is not None:
        require_role(by, "admin")
        if by.token_id is not None:
            raise Denied("Khóa API không quản lý được tài khoản.", "API tokens cannot manage accounts.")
        require_scope(session, by, set_name, scope_code)
    if get_account(session, email) is not None:
        raise Conflict("Email này đã có tài khoản.", "This e-mail already has an account.")
    author = by.actor if by else (actor or "cli")
    row = session.execute(text(
        f"INSERT INTO account (email, password_hash, role, boundary_set, scope_code, created_by)"  # noqa: S608
        f" VALUES (:e, :h, :r, :s, :c, :by) RETURNING {_ACCOUNT_COLUMNS}"),
        {"e": email, "h": hash_password(password), "r": role, "s": set_name, "c": scope_code,
         "by": author}).mappings().one()
    details = by.audit_details() if by else {}
    record(session, author, "account_create", where, target=f"account:{email}",
           details={**details, "account_role": role, "account_scope": f"{set_name}/{scope_code}",
                    "scope_set": set_name, "scope": scope_code})
    return Account(**row)


def disable_account(session: Session, email: str, *, by: Principal | None, actor: str | None = None,
                    where: Where | None = None) -> Account:
    """Disable an account: its sessions end and its tokens stop working at once."""
    account = get_account(session, email)
    if account is None:
        raise Invalid("Không có tài khoản này.", "No such account.")
    if by is not None:
        require_role(by, "admin")
        require_scope(session, by, account.boundary_set, account.scope_code)
        if by.account_id == account.id:
            raise Invalid("Không thể tự khóa tài khoản của mình.", "You cannot disable your own account.")
    author = by.actor if by else (actor or "cli")
    if account.disabled_at is None:
        session.execute(text("UPDATE account SET disabled_at = :t, disabled_by = :by WHERE id = :i"),
                        {"t": now(), "by": author, "i": account.id})
        session.execute(text("UPDATE account_session SET ended_at = :t WHERE account_id = :i"
                             " AND ended_at IS NULL"), {"t": now(), "i": account.id})
        record(session, author, "account_disable", where, target=f"account:{account.email}",
               details={**(by.audit_details() if by else {}), "scope_set": account.boundary_set,
                        "scope": account.scope_code})
    return get_account_by_id(session, account.id)  # type: ignore[return-value]


def list_accounts(session: Session, within: Principal | None = None) -> list[Account]:
    """Return the accounts (inside a principal's unit when given), by e-mail."""
    params: dict = {}
    where = "true"
    if within is not None:
        where = "boundary_set = :s AND scope_code = ANY(:codes)"
        params = {"s": within.boundary_set,
                  "codes": units_within(session, within.boundary_set, within.scope_code)}
    rows = session.execute(text(f"SELECT {_ACCOUNT_COLUMNS} FROM account WHERE {where}"  # noqa: S608
                                " ORDER BY email"), params).mappings()
    return [Account(**r) for r in rows]


def principal_of(account: Account) -> Principal:
    """Return the principal an account acts as."""
    return Principal(account.id, account.email, account.role, account.boundary_set, account.scope_code)


# ------------------------------------------------------------------------------------- sign-in


@dataclass(frozen=True)
class ThrottleState:
    """How long the next sign-in attempt must wait, and whether that is a lockout."""

    wait_s: float
    locked: bool


# Who failed: the same account from the same client, the client (any account), the account (any client).
_PAIR = "email = :email AND ip IS NOT DISTINCT FROM :ip"
_CLIENT = "ip = :ip"
_ACCOUNT = "email = :email"


def _failures(session: Session, who: str, params: dict[str, str | None], since: datetime,
              reset_on_success: bool) -> list[datetime]:
    reset = (" AND id > coalesce((SELECT max(id) FROM sign_in_attempt"  # noqa: S608 - who is ours
             f" WHERE {who} AND ok), 0)") if reset_on_success else ""
    return list(session.execute(text(
        f"SELECT at FROM sign_in_attempt WHERE {who} AND NOT ok AND counted"  # noqa: S608
        f" AND at > :since{reset} ORDER BY at DESC"), {**params, "since": since}).scalars())


def _state(failures: list[datetime], lock_after: int | None, at: datetime) -> ThrottleState:
    """Return the wait after these failures, newest first: a growing delay, a lock past ``lock_after``."""
    if not failures:
        return ThrottleState(0.0, False)
    last = failures[0]
    if lock_after is not None and len(failures) >= lock_after:
        return ThrottleState(max(0.0, (last + LOCK - at).total_seconds()), True)
    delay = min(BASE_DELAY_S * 2 ** (len(failures) - 1), MAX_DELAY_S)
    return ThrottleState(max(0.0, (last + timedelta(seconds=delay) - at).total_seconds()), False)


def throttle_state(session: Session, email: str, ip: str | None, at: datetime | None = None) -> ThrottleState:
    """Return how long a sign-in for this e-mail from this IP must still wait (0: may try now).

    A client that failed for an account waits 1, 2, 4 … s and is locked out of it after
    ``ACCOUNT_LOCK_AFTER`` failures; it also waits out the delay the account's failures from
    every client add up to (never a lock).  A client failing ``IP_LOCK_AFTER`` times on any
    accounts is locked.  A client that has not failed for the account is never held back by
    others' failures: nobody can lock an official out of their own account.
    """
    at = at or now()
    since, params = at - LOCK, {"email": email, "ip": ip}
    pair = _failures(session, _PAIR, params, since, True)
    states = [_state(pair, ACCOUNT_LOCK_AFTER, at)]
    if pair:
        states.append(_state(_failures(session, _ACCOUNT, params, since, True), None, at))
    if ip:
        states.append(_state(_failures(session, _CLIENT, params, since, False), IP_LOCK_AFTER, at))
    waiting = [s for s in states if s.wait_s > 0]
    return max(waiting, key=lambda s: (s.locked, s.wait_s)) if waiting else ThrottleState(0.0, False)


def pause(seconds: float) -> None:
    """Sleep (tests replace this with their clock)."""
    time.sleep(seconds)


def short_delay(session: Session, email: str, ip: str | None) -> float:
    """Return the delay a sign-in waits out itself: a short one (``WAITED_OUT_S``) not a lock, else 0.

    A person who mistyped once and types the right password at once is let in a second later,
    rather than told to wait and made to type it again.
    """
    state = throttle_state(session, (email or "").strip().lower()[:254], ip)
    return state.wait_s if not state.locked and 0 < state.wait_s <= WAITED_OUT_S else 0.0


def _attempt(session: Session, email: str, ip: str | None, ok: bool, counted: bool = True) -> None:
    session.execute(text("INSERT INTO sign_in_attempt (at, email, ip, ok, counted)"
                         " VALUES (:at, :e, :ip, :ok, :counted)"),
                    {"at": now(), "e": email[:254], "ip": ip, "ok": ok, "counted": counted})


def sign_in(session: Session, email: str, password: str, where: Where) -> Principal:
    """Check an e-mail and password; return the principal or raise 401/429 (every try is audited).

    The caller must commit even when this raises: the failed attempt is what throttles the next.
    """
    email = (email or "").strip().lower()[:254]
    state = throttle_state(session, email, where.ip)
    if state.wait_s > 0:
        _attempt(session, email, where.ip, ok=False, counted=False)
        record(session, email or "?", "sign_in_refused", where, target=f"account:{email}",
               details={"locked": state.locked, "wait_s": round(state.wait_s, 1)})
        raise Throttled(state.wait_s, state.locked)
    account = get_account(session, email) if email else None
    stored = None
    if account is not None:
        stored = session.execute(text("SELECT password_hash FROM account WHERE id = :i"),
                                 {"i": account.id}).scalar_one()
    try:
        ok = _hasher.verify(stored or _dummy_hash(), (password or "")[:MAX_PASSWORD])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    ok = ok and stored is not None and account is not None and account.disabled_at is None
    _attempt(session, email, where.ip, ok=ok)
    if not ok or account is None:
        why = "no_account" if account is None else ("disabled" if account.disabled_at else "password")
        record(session, email or "?", "sign_in_failed", where, target=f"account:{email}",
               details={"why": why, **({"scope_set": account.boundary_set, "scope": account.scope_code}
                                       if account else {})})
        raise Unauthenticated("Email hoặc mật khẩu không đúng.", "Wrong e-mail or password.")
    if _hasher.check_needs_rehash(stored):
        session.execute(text("UPDATE account SET password_hash = :h WHERE id = :i"),
                        {"h": hash_password(password), "i": account.id})
    session.execute(text("UPDATE account SET last_sign_in_at = :t WHERE id = :i"),
                    {"t": now(), "i": account.id})
    principal = principal_of(account)
    record(session, principal.actor, "sign_in", where, target=f"account:{email}",
           details=principal.audit_details())
    return principal


def start_session(session: Session, principal: Principal, where: Where, hours: int) -> str:
    """Open a server-side session; return its random token (kept only hashed here)."""
    raw = secrets.token_urlsafe(32)
    session.execute(text(
        "INSERT INTO account_session (token_hash, account_id, created_at, expires_at, ip, user_agent)"
        " VALUES (:h, :a, :t, :exp, :ip, :ua)"),
        {"h": _digest(raw), "a": principal.account_id, "t": now(), "exp": now() + timedelta(hours=hours),
         "ip": where.ip, "ua": (where.user_agent or "")[:500]})
    return raw


_PRINCIPAL_OF_ACCOUNT = "a.id AS account_id, a.email, a.role, a.boundary_set, a.scope_code"


def session_principal(session: Session, raw: str | None) -> Principal | None:
    """Return the principal of a live session token, or None (ended, expired, account disabled)."""
    if not raw:
        return None
    row = session.execute(text(
        f"SELECT {_PRINCIPAL_OF_ACCOUNT} FROM account_session s JOIN account a ON a.id = s.account_id"  # noqa: S608
        " WHERE s.token_hash = :h AND s.ended_at IS NULL AND s.expires_at > :t AND a.disabled_at IS NULL"),
        {"h": _digest(raw), "t": now()}).mappings().first()
    return Principal(**row) if row else None


def end_session(session: Session, raw: str | None, principal: Principal | None, where: Where) -> None:
    """End a session (sign-out) and audit it."""
    if not raw:
        return
    session.execute(text("UPDATE account_session SET ended_at = :t WHERE token_hash = :h"
                         " AND ended_at IS NULL"), {"t": now(), "h": _digest(raw)})
    if principal is not None:
        record(session, principal.actor, "sign_out", where, target=f"account:{principal.email}",
               details=principal.audit_details())


# ------------------------------------------------------------------------------------- API tokens


_TOKEN_COLUMNS = ("t.id, t.name, t.role, t.boundary_set, t.scope_code, t.account_id, a.email AS creator,"
                  " t.created_at, t.revoked_at, t.last_used_at")


def create_token(session: Session, principal: Principal, name: str, role: str, scope_code: str | None,
                 where: Where) -> tuple[ApiToken, str]:
    """Create a token for the feed API, at most the creator's role, inside the creator's unit.

    Return the token and its secret, which is shown once and kept only as a sha256 hash.
    """
    require_role(principal, "publisher")
    if principal.token_id is not None:
        raise Denied("Khóa API không tạo được khóa khác.", "An API token cannot create tokens.")
    name = " ".join((name or "").split())[:100]
    if not name:
        raise Invalid("Cần đặt tên cho khóa (ví dụ: hệ thống báo cáo CDC).",
                      "Give the token a name (e.g. the CDC reporting system).")
    if role not in TOKEN_ROLES or rank(role) > rank(principal.role):
        raise Invalid(f"Vai trò của khóa không hợp lệ: {role}.", f"Invalid role for a token: {role}.")
    scope_code = (scope_code or principal.scope_code).strip()
    if get_unit(session, principal.boundary_set, scope_code) is None:
        raise Invalid(f"Không có đơn vị mã {scope_code}.", f"No unit with code {scope_code}.")
    require_scope(session, principal, principal.boundary_set, scope_code)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = session.execute(text(
        "INSERT INTO api_token (token_hash, name, role, boundary_set, scope_code, account_id, created_at)"
        " VALUES (:h, :n, :r, :s, :c, :a, :t) RETURNING id"),
        {"h": _digest(raw), "n": name, "r": role, "s": principal.boundary_set, "c": scope_code,
         "a": principal.account_id, "t": now()}).scalar_one()
    record(session, principal.actor, "token_create", where, target=f"token:{token_id}",
           details=principal.audit_details(name=name, token_role=role, token_scope=scope_code))
    return get_token(session, token_id), raw  # type: ignore[return-value]


def get_token(session: Session, token_id: int) -> ApiToken | None:
    """Return a token by id."""
    row = session.execute(text(f"SELECT {_TOKEN_COLUMNS} FROM api_token t JOIN account a"  # noqa: S608
                               " ON a.id = t.account_id WHERE t.id = :i"), {"i": token_id}).mappings().first()
    return ApiToken(**row) if row else None


def list_tokens(session: Session, principal: Principal) -> list[ApiToken]:
    """Return the tokens a principal may see: an admin's inside its unit, otherwise its own."""
    if principal.at_least("admin"):
        where, params = "t.boundary_set = :s AND t.scope_code = ANY(:codes)", {
            "s": principal.boundary_set,
            "codes": units_within(session, principal.boundary_set, principal.scope_code)}
    else:
        where, params = "t.account_id = :a", {"a": principal.account_id}
    rows = session.execute(text(f"SELECT {_TOKEN_COLUMNS} FROM api_token t JOIN account a"  # noqa: S608
                                f" ON a.id = t.account_id WHERE {where} ORDER BY t.id DESC"),
                           params).mappings()
    return [ApiToken(**r) for r in rows]


def revoke_token(session: Session, principal: Principal, token_id: int, where: Where) -> ApiToken:
    """Revoke a token: its creator, or an admin whose unit holds the token's, may."""
    require_role(principal, "publisher")
    token = get_token(session, token_id)
    if token is None:
        raise Invalid("Không có khóa này.", "No such token.")
    if token.account_id != principal.account_id:
        require_role(principal, "admin")
        require_scope(session, principal, token.boundary_set, token.scope_code)
    if token.revoked_at is None:
        session.execute(text("UPDATE api_token SET revoked_at = :t, revoked_by = :by WHERE id = :i"),
                        {"t": now(), "by": principal.actor, "i": token.id})
        record(session, principal.actor, "token_revoke", where, target=f"token:{token.id}",
               details=principal.audit_details(name=token.name))
    return get_token(session, token.id)  # type: ignore[return-value]


def token_principal(session: Session, raw: str | None) -> Principal | None:
    """Return the principal of a live API token: its role (never above its creator's now), its unit."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    row = session.execute(text(
        "SELECT t.id, t.role, t.boundary_set, t.scope_code, a.id AS account_id, a.email,"
        " a.role AS creator_role FROM api_token t JOIN account a ON a.id = t.account_id"
        " WHERE t.token_hash = :h AND t.revoked_at IS NULL AND a.disabled_at IS NULL"),
        {"h": _digest(raw)}).mappings().first()
    if row is None:
        return None
    session.execute(text("UPDATE api_token SET last_used_at = :t WHERE id = :i"),
                    {"t": now(), "i": row["id"]})
    role = min(row["role"], row["creator_role"], key=rank)
    return Principal(row["account_id"], row["email"], role, row["boundary_set"], row["scope_code"],
                     token_id=row["id"])
