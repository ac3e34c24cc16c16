"""Query parameters of the OGC API – Features endpoints, validated into an ``ItemQuery``.

Every invalid value is a 400 in both languages; so is any parameter the endpoint does not know
(the standard's requirement for ``/items``).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, time, timedelta

from flask import request
from werkzeug.datastructures import MultiDict

from layers.catalog import Layer
from layers.ogc import MAX_LIMIT, ItemQuery
from portal.errors import BadRequest

DEFAULT_LIMIT = 10
FORMATS = ("json", "html")
COMMON = ("f", "lang")  # lang: the portal's language switch, kept by the HTML pages
ITEM_PARAMETERS = ("bbox", "limit", "offset", "datetime")
_OPEN = ("", "..")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$")


def _bad(vi: str, en: str) -> BadRequest:
    return BadRequest(vi, en)


def _single(args: MultiDict, name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise _bad(f"Tham số {name} chỉ được có một lần.", f"Parameter {name} may be given only once.")
    return values[0] if values else None


def output_format(args: MultiDict | None = None) -> str:
    """Return ``json`` or ``html``: ``f=`` first, then the Accept header; JSON by default."""
    args = request.args if args is None else args
    asked = _single(args, "f")
    if asked is not None:
        if asked not in FORMATS:
            raise _bad("Tham số f phải là json hoặc html.", "Parameter f must be json or html.")
        return asked
    best = request.accept_mimetypes.best_match(["application/json", "application/geo+json", "text/html"],
                                               default="application/json")
    return "html" if best == "text/html" else "json"


def check_known(args: MultiDict, known: tuple[str, ...]) -> None:
    """Reject parameters the endpoint does not know."""
    unknown = sorted(set(args) - set(known))
    if unknown:
        names = ", ".join(unknown)
        raise _bad(f"Tham số không được hỗ trợ: {names}.", f"Unknown parameter(s): {names}.")


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """Parse ``west,south,east,north`` in WGS 84 degrees (west > east crosses the antimeridian)."""
    parts = raw.split(",")
    message = ("Tham số bbox phải gồm 4 số: tây,nam,đông,bắc (độ WGS 84).",
               "Parameter bbox must be 4 numbers: west,south,east,north (WGS 84 degrees).")
    if len(parts) != 4:
        raise _bad(*message)
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise _bad(*message) from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise _bad(*message)
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise _bad("Tham số bbox nằm ngoài phạm vi (kinh độ -180..180, vĩ độ -90..90, nam ≤ bắc).",
                   "Parameter bbox is out of range (longitude -180..180, latitude -90..90, south ≤ north).")
    return west, south, east, north


def parse_limit(raw: str | None) -> int:
    """Parse ``limit``: a whole number from 1; above the maximum it is capped, as the standard asks."""
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise _bad(f"Tham số limit phải là số nguyên từ 1 đến {MAX_LIMIT}.",
                   f"Parameter limit must be a whole number from 1 to {MAX_LIMIT}.")
    return min(int(raw), MAX_LIMIT)


def parse_offset(raw: str | None) -> int:
    """Parse ``offset``: a whole number from 0."""
    if raw is None:
        return 0
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise _bad("Tham số offset phải là số nguyên không âm.",
                   "Parameter offset must be a whole number ≥ 0.")
    return int(raw)


def _instant(raw: str, end: bool) -> datetime:
    """Parse an RFC 3339 date-time (with its offset), or a full date (a UTC day: its start or end)."""
    if _DATE.match(raw):
        day = datetime.fromisoformat(raw).date()
        moment = datetime.combine(day, time.min, tzinfo=UTC)
        return moment + timedelta(days=1, microseconds=-1) if end else moment
    if not _DATE_TIME.match(raw):
        raise ValueError(raw)
    return datetime.fromisoformat(raw.upper().replace(" ", "T").replace("Z", "+00:00"))


def parse_datetime(raw: str) -> tuple[datetime | None, datetime | None]:
    """Parse ``datetime`` into (since, until): an instant T is (None, T); ``A/B`` is (A, B)."""
    try:
        if "/" not in raw:
            return None, _instant(raw, end=True)
        start, _, stop = raw.partition("/")
        since = None if start in _OPEN else _instant(start, end=False)
        until = None if stop in _OPEN else _instant(stop, end=True)
    except ValueError:
        raise _bad("Tham số datetime phải theo RFC 3339: một thời điểm (2021-08-01T00:00:00Z) hoặc một"
                   " khoảng (A/B, ../B, A/..).",
                   "Parameter datetime must follow RFC 3339: an instant (2021-08-01T00:00:00Z) or an"
                   " interval (A/B, ../B, A/..).") from None
    if since is not None and until is not None and since > until:
        raise _bad("Khoảng thời gian datetime có điểm đầu sau điểm cuối.",
                   "The datetime interval starts after it ends.")
    return since, until


def item_query(layer: Layer, args: MultiDict) -> ItemQuery:
    """Validate ``/items`` parameters into a query."""
    filters = tuple(name for name in layer.public_attributes if name not in ITEM_PARAMETERS + COMMON)
    check_known(args, COMMON + ITEM_PARAMETERS + filters)
    bbox = _single(args, "bbox")
    moment = _single(args, "datetime")
    since, until = parse_datetime(moment) if moment is not None else (None, None)
    properties = []
    for name in filters:
        value = _single(args, name)
        if value is not None:
            properties.append((name, value))
    return ItemQuery(layer=layer, bbox=parse_bbox(bbox) if bbox is not None else None, since=since,
                     until=until, properties=tuple(properties), limit=parse_limit(_single(args, "limit")),
                     offset=parse_offset(_single(args, "offset")))
