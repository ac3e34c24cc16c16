"""Open311's query and form parameters, parsed: ids, services, dates, statuses, coordinates."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dispatch.refs import normalise_ref
from dispatch.store import OPEN_STATUSES
from epimap.errors import BadRequest

DEFAULT_SPAN = timedelta(days=90)  # the specification's default range, and the longest it allows
MAX_RESULTS = 1000
MAX_IDS = 100
STATUS_GROUPS = {"open": OPEN_STATUSES, "closed": ("resolved", "closed")}


@dataclass(frozen=True)
class Listing:
    """What ``GET requests`` asks for."""

    refs: tuple[str, ...] | None  # None: not asked by id
    kinds: tuple[str, ...]
    statuses: tuple[str, ...]
    start: datetime
    end: datetime
    limit: int = MAX_RESULTS


def w3c_datetime(value: str, name: str) -> datetime:
    """Parse a W3C date-time (UTC when it names no offset).

    >>> w3c_datetime("2021-08-16T00:00:00Z", "start_date").isoformat()
    '2021-08-16T00:00:00+00:00'
    >>> w3c_datetime("2021-08-16T09:00:00+07:00", "x").utcoffset().seconds
    25200
    """
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(f"{name}: ngày giờ không hợp lệ (ví dụ 2021-08-16T00:00:00Z).",
                         f"{name}: not a W3C date-time (e.g. 2021-08-16T00:00:00Z).") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def statuses(value: str | None) -> tuple[str, ...]:
    """Return the stored statuses Open311's ``open``/``closed`` list names (every one by default).

    >>> statuses("closed"), len(statuses(None))
    (('resolved', 'closed'), 5)
    """
    asked = _list(value) or tuple(STATUS_GROUPS)
    unknown = [s for s in asked if s not in STATUS_GROUPS]
    if unknown:
        raise BadRequest(f"status: chỉ nhận open hoặc closed, không phải “{unknown[0][:20]}”.",
                         f"status: open or closed, not '{unknown[0][:20]}'.")
    return tuple(s for group in asked for s in STATUS_GROUPS[group])


def listing(args: Mapping[str, str], now: datetime) -> Listing:
    """Parse ``GET requests``'s filters; ``service_request_id`` overrides the others."""
    refs = _list(args.get("service_request_id"))
    if len(refs) > MAX_IDS:
        raise BadRequest(f"Tối đa {MAX_IDS} mã yêu cầu.", f"At most {MAX_IDS} request ids.")
    end = w3c_datetime(args["end_date"], "end_date") if args.get("end_date") else None
    start = w3c_datetime(args["start_date"], "start_date") if args.get("start_date") else None
    end = end or (min(now, start + DEFAULT_SPAN) if start else now)
    start = start or end - DEFAULT_SPAN
    if end < start or end - start > DEFAULT_SPAN:
        raise BadRequest("Khoảng thời gian phải từ 0 đến 90 ngày.", "The date range must span 0 to 90 days.")
    ids = tuple(filter(None, map(normalise_ref, refs))) if "service_request_id" in args else None
    return Listing(ids, _list(args.get("service_code")),
                   statuses(args.get("status")), start, end + timedelta(microseconds=1))


def coordinate(value: str | None, name: str) -> float | None:
    """Parse ``lat`` or ``long`` (None when absent).

    >>> coordinate("10.98", "lat"), coordinate("", "lat")
    (10.98, None)
    """
    if value is None or not value.strip():
        return None
    try:
        parsed = float(value)
    except ValueError:
        parsed = math.nan
    if not math.isfinite(parsed):
        raise BadRequest(f"{name}: không phải một số.", f"{name}: not a number.")
    return parsed


def text_field(value: str | None) -> str | None:
    """Return a form field's text, trimmed, or None when empty."""
    value = " ".join((value or "").split())
    return value or None
