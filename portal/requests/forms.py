"""Reading the citizens' request form, and limiting how often one client may send it."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from flask import Flask, request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from dispatch.intake import Intake
from portal.ratelimit import TooManyRequests

LIMITER = "epimap.request_form_limiter"
MAX_FIELD = 2100
FIELDS = ("kind", "description", "commune", "address", "phone", "name", "lon", "lat")


@dataclass(frozen=True)
class FormValues:
    """What the citizen typed, kept to show the form again (never the photo)."""

    values: dict[str, str] = field(default_factory=dict)
    consent: bool = False

    def get(self, name: str) -> str:
        """Return a field as typed (empty when absent)."""
        return self.values.get(name, "")


def read_form() -> FormValues:
    """Return the form's fields, trimmed and bounded."""
    values = {name: (request.form.get(name) or "").strip()[:MAX_FIELD] for name in FIELDS}
    return FormValues(values, request.form.get("consent") in ("1", "on", "yes", "true"))


def coordinate(raw: str) -> float | None:
    """Return a hidden coordinate field as a number; NaN (refused later) when it is not one.

    >>> coordinate(""), coordinate("106.65"), math.isnan(coordinate("abc"))
    (None, 106.65, True)
    """
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return math.nan


def photo_bytes() -> bytes | None:
    """Return the uploaded photo's bytes, or None when no file was chosen."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    return upload.read() or None


def intake_of(form: FormValues, photo: bytes | None) -> Intake:
    """Return the intake the web form describes."""
    return Intake(kind=form.get("kind"), description=form.get("description"), phone=form.get("phone"),
                  name=form.get("name") or None, address=form.get("address") or None,
                  lon=coordinate(form.get("lon")), lat=coordinate(form.get("lat")),
                  commune=form.get("commune") or None, photo=photo, source="web")


class FormLimiter:
    """Count each client IP's submissions against every window of the limit."""

    def __init__(self, limit: str) -> None:
        self.items: list[RateLimitItem] = parse_many(limit)  # a typo fails at start
        self.windows = FixedWindowRateLimiter(MemoryStorage())

    def hit(self) -> None:
        """Count this submission; raise TooManyRequests once a window is full."""
        client = request.remote_addr or "unknown"
        for item in self.items:
            if not self.windows.hit(item, client):
                stats = self.windows.get_window_stats(item, client)
                error = TooManyRequests()
                error.retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise error


def check_rate(app: Flask) -> None:
    """Count a submission against the app's limit, when it has one."""
    limiter = app.extensions.get(LIMITER)
    if limiter is not None:
        limiter.hit()


def init_app(app: Flask, limit: str) -> None:
    """Limit the form's submissions to ``limit`` per client IP; nothing when ``limit`` is empty."""
    if limit.strip():
        app.extensions[LIMITER] = FormLimiter(limit)
