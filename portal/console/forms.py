"""Reading the console's forms and filters: plain functions over ``request.form`` / ``request.args``.

Values are trimmed and bounded here; their meaning (roles, units, scopes) is checked by the
service layer (``officials.accounts``, ``officials.publishing``), whichever way a request arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import request
from werkzeug.datastructures import FileStorage

from layers.catalog import Layer
from officials.accounts import Invalid
from officials.audit import ACTIONS, Filters

MAX_FIELD = 500
try:
    LOCAL_TZ: ZoneInfo | timezone = ZoneInfo("Asia/Ho_Chi_Minh")
except ZoneInfoNotFoundError:  # no tz database: Vietnam has kept UTC+7 since 1975
    LOCAL_TZ = timezone(timedelta(hours=7), "ICT")


def local_time(value: datetime | None) -> str:
    """Return a time as officials read it: Vietnam's clock, to the second.

    >>> from datetime import UTC
    >>> local_time(datetime(2021, 8, 20, 1, 2, 3, tzinfo=UTC)), local_time(None)
    ('2021-08-20 08:02:03', '')
    """
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def field(name: str, limit: int = MAX_FIELD) -> str:
    """Return a trimmed form field (empty when absent)."""
    return (request.form.get(name) or "").strip()[:limit]


def flag(name: str) -> bool:
    """Return a checkbox."""
    return request.form.get(name) in ("1", "on", "true", "yes")


def number(name: str) -> int:
    """Return a whole-number form field or raise 400."""
    raw = field(name, 20)
    if not raw.isdigit():
        raise Invalid(f"Trường {name} phải là một số.", f"Field {name} must be a number.")
    return int(raw)


@dataclass(frozen=True)
class UploadForm:
    """The upload form: a layer and a file."""

    layer_id: str
    file: FileStorage


def upload_form() -> UploadForm:
    """Read the upload form (the layer is checked by the service)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid("Hãy chọn một tệp CSV hoặc Excel.", "Choose a CSV or Excel file.")
    return UploadForm(field("layer", 40), upload)


def edit_values(layer: Layer) -> dict[str, str]:
    """Return the edit form's raw values, one per attribute of the layer."""
    return {a.name: field(f"attr_{a.name}") for a in layer.attributes if f"attr_{a.name}" in request.form}


def _day(name: str) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"Ngày không hợp lệ: {raw[:20]} (dạng YYYY-MM-DD).",
                      f"Invalid date: {raw[:20]} (use YYYY-MM-DD).") from None


def audit_filters(scopes: tuple[str, ...] | None) -> tuple[Filters, int, dict[str, str]]:
    """Return the audit page's filters (days in Vietnam's time), the page and the form's values."""
    action = (request.args.get("action") or "").strip()
    if action and action not in ACTIONS:
        raise Invalid("Loại sự kiện không hợp lệ.", "Unknown kind of event.")
    since, until = _day("from"), _day("to")
    page_raw = (request.args.get("page") or "1").strip()
    page = int(page_raw) if page_raw.isdigit() and 0 < int(page_raw) < 100_000 else 1
    filters = Filters(
        actor=(request.args.get("actor") or "").strip()[:100] or None, action=action or None,
        since=datetime.combine(since, time(), LOCAL_TZ) if since else None,
        until=datetime.combine(until, time(), LOCAL_TZ) + timedelta(days=1) if until else None, scopes=scopes)
    raw = {"actor": filters.actor or "", "action": action, "from": since.isoformat() if since else "",
           "to": until.isoformat() if until else ""}
    return filters, page, raw
