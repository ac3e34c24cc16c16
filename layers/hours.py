"""Opening hours as CDC feeds write them ("7h00 - 17h00 (T2-CN)"), and whether a site is open.

Pure functions, no I/O.  Times are local to Việt Nam (Asia/Ho_Chi_Minh).  Anything the parser
does not fully understand gives ``None``: a wrong "open" is worse than an honest "unknown".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
ALL_DAYS = frozenset(range(7))  # 0 = Monday … 6 = Sunday, as datetime.weekday()
DAY_MINUTES = 24 * 60

_D = str.maketrans({"đ": "d", "ð": "d"})
_NUMBER_WORDS = {"hai": 2, "ba": 3, "tu": 4, "nam": 5, "sau": 6, "bay": 7}
_DAY = r"(?:thu\s*(?:[2-7]|hai|ba|tu|nam|sau|bay)\b|t\s*[2-7]\b|chu\s*nhat\b|cn\b)"
_TIME = r"\d{1,2}\s*(?:(?:gio|h|g)\s*(?:\d{2})?|[:.]\s*\d{2})?(?!\d)"
_TO = r"\s*(?:-|–|—|~|den|toi|to)\s*"
_TOKENS = re.compile(
    r"(?P<always>\b24\s*(?:gio|h)?\s*/\s*(?:7|24)\s*(?:gio|h)?(?![\w/]))"
    rf"|(?P<dayrange>\b{_DAY}{_TO}{_DAY})"
    rf"|(?P<day>\b{_DAY})"
    rf"|(?P<interval>\b{_TIME}{_TO}{_TIME})"
    r"|(?P<part>\b(?:sang|trua|chieu|toi|dem)\b)"
)
_ONE_TIME = re.compile(r"(\d{1,2})\s*(gio|h|g|[:.])?\s*(\d{2})?")
_NOISE_WORDS = frozenset(
    "tu den va ca cac ngay hang trong tuan moi gio lam viec lv mo cua thoi gian tat and daily every"
    " day days all week".split())
_NOISE = re.compile(r"[\s,;:()\[\]/.&+\-–—|]+")


@dataclass(frozen=True)
class Rule:
    """Days of the week and their opening intervals (minutes after midnight; None: not said)."""

    days: frozenset[int]
    intervals: tuple[tuple[int, int], ...] | None


@dataclass(frozen=True)
class Schedule:
    """Everything a feed's hours text said, as rules."""

    rules: tuple[Rule, ...]


def _fold(text: str) -> str:
    s = unicodedata.normalize("NFD", text.lower()).translate(_D)
    return "".join(c for c in s if not unicodedata.combining(c))


def _day(token: str) -> int:
    token = re.sub(r"\s+", "", token)
    if token in ("cn", "chunhat"):
        return 6
    number = token[-1] if token[-1].isdigit() else _NUMBER_WORDS[token[3:]]
    return int(number) - 2  # Thứ 2 (Monday) is 0


def _day_range(token: str) -> frozenset[int]:
    first, last = (_day(m.group(0)) for m in re.finditer(_DAY, token))
    span = (last - first) % 7
    return frozenset((first + i) % 7 for i in range(span + 1))


def _minutes(token: str) -> tuple[int, bool] | None:
    """Return (minutes after midnight, written with an h/:/giờ marker), or None when invalid."""
    match = _ONE_TIME.fullmatch(token.strip())
    if match is None:
        return None
    hour, marker, minute = int(match.group(1)), match.group(2), int(match.group(3) or 0)
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        return None
    return hour * 60 + minute, marker is not None


def _interval(token: str, part: str | None) -> tuple[int, int] | None:
    ends = re.split(_TO, token, maxsplit=1)
    start, end = _minutes(ends[0]), _minutes(ends[1])
    if start is None or end is None or not (start[1] or end[1]):
        return None  # "7 - 11" alone is not a time range
    first, last = start[0], end[0]
    if part in ("chieu", "toi") and last <= 12 * 60:  # "chiều 1h-5h" is 13h-17h
        first, last = first + 12 * 60, last + 12 * 60
    if first == last or first == DAY_MINUTES:
        return None
    return first, last


def _tokens(text: str) -> list[tuple[str, object]] | None:
    """Split folded hours text into ("days", set) and ("interval", (start, end)) tokens."""
    tokens: list[tuple[str, object]] = []
    part, position = None, 0
    for match in _TOKENS.finditer(text):
        if not _is_noise(text[position:match.start()]):
            return None
        position = match.end()
        kind, value = match.lastgroup, match.group(0)
        if kind == "part":
            part = value
        elif kind == "always":
            tokens.append(("interval", (0, DAY_MINUTES)))
        elif kind in ("day", "dayrange"):
            days = _day_range(value) if kind == "dayrange" else frozenset({_day(value)})
            if tokens and tokens[-1][0] == "days":  # "T2, T4, T6" is one set of days
                days = days | tokens.pop()[1]  # type: ignore[operator]
            tokens.append(("days", days))
        else:
            interval = _interval(value, part)
            if interval is None:
                return None
            tokens.append(("interval", interval))
    return tokens if _is_noise(text[position:]) else None


def _is_noise(text: str) -> bool:
    return all(word in _NOISE_WORDS for word in _NOISE.split(text) if word)


def _rules(tokens: list[tuple[str, object]]) -> tuple[Rule, ...]:
    """Give each set of days its intervals: those after it ("T2-T6 7h-17h"), or before it
    when the text starts with a time ("7h-17h (T2-T6)")."""
    if not any(kind == "days" for kind, _ in tokens):
        return (Rule(ALL_DAYS, tuple(v for _, v in tokens)),)  # type: ignore[misc]
    days_first = tokens[0][0] == "days"
    groups: list[tuple[frozenset[int], list]] = []
    pending: list = []
    for kind, value in tokens:
        if kind == "days":
            if days_first:
                groups.append((value, []))  # type: ignore[arg-type]
            else:
                groups.append((value, pending))  # type: ignore[arg-type]
                pending = []
        elif days_first:
            groups[-1][1].append(value)
        else:
            pending.append(value)
    if pending:  # "7h-11h (T7), 13h-17h": trailing times belong to the last days
        groups[-1][1].extend(pending)
    return tuple(Rule(days, tuple(intervals) or None) for days, intervals in groups)


def parse_hours(text: str | None) -> Schedule | None:
    """Read a feed's opening-hours text; None when it is empty or not fully understood.

    >>> parse_hours("7h00 - 17h00 (T2-CN)")
    Schedule(rules=(Rule(days=frozenset({0, 1, 2, 3, 4, 5, 6}), intervals=((420, 1020),)),))
    >>> parse_hours("Sáng 7h-11h, chiều 1h-5h").rules[0].intervals
    ((420, 660), (780, 1020))
    >>> sorted(parse_hours("Thứ 2 - Thứ 6").rules[0].days), parse_hours("Thứ 2 - Thứ 6").rules[0].intervals
    ([0, 1, 2, 3, 4], None)
    >>> parse_hours("24/7").rules[0].intervals
    ((0, 1440),)
    >>> parse_hours("Liên hệ trước"), parse_hours(""), parse_hours("7h"), parse_hours("25h-26h")
    (None, None, None, None)
    """
    if not text or not text.strip():
        return None
    tokens = _tokens(_fold(text))
    return Schedule(_rules(tokens)) if tokens else None


cached_parse_hours = lru_cache(maxsize=4096)(parse_hours)  # feeds repeat the same few texts


def _local(when: datetime) -> datetime:
    return when.replace(tzinfo=VIETNAM) if when.tzinfo is None else when.astimezone(VIETNAM)


def is_open(schedule: Schedule | None, when: datetime) -> bool | None:
    """Tell whether a schedule is open at a time (naive times are Việt Nam's); None: unknown.

    >>> monday_9am, sunday_8pm = datetime(2021, 8, 16, 9, 0), datetime(2021, 8, 22, 20, 0)
    >>> weekdays = parse_hours("Thứ 2 - Thứ 6, 7h30-11h30, 13h30-17h")
    >>> is_open(weekdays, monday_9am), is_open(weekdays, sunday_8pm)
    (True, False)
    >>> is_open(parse_hours("T2-T6"), monday_9am), is_open(parse_hours("T2-T6"), sunday_8pm)
    (None, False)
    >>> is_open(None, monday_9am), is_open(parse_hours("24/7"), sunday_8pm)
    (None, True)
    """
    if schedule is None:
        return None
    local = _local(when)
    today, minute = local.weekday(), local.hour * 60 + local.minute
    yesterday = (today - 1) % 7
    unknown = False
    for rule in schedule.rules:
        if today in rule.days:
            if rule.intervals is None:
                unknown = True
                continue
            for start, end in rule.intervals:
                if start <= minute < end or (end < start and minute >= start):
                    return True
        if yesterday in rule.days and rule.intervals:
            if any(end < start and minute < end for start, end in rule.intervals):
                return True  # "22h - 6h" the night before
    return None if unknown else False


def next_opening(schedule: Schedule | None, when: datetime) -> datetime | None:
    """Return when a schedule next opens after a time (in Việt Nam), within a week; None: not said.

    >>> weekdays = parse_hours("Thứ 2 - Thứ 6, 7h30-11h30, 13h30-17h")
    >>> next_opening(weekdays, datetime(2021, 8, 16, 12, 0)).strftime("%a %H:%M")  # Monday noon
    'Mon 13:30'
    >>> next_opening(weekdays, datetime(2021, 8, 20, 18, 0)).strftime("%a %d %H:%M")  # Friday evening
    'Mon 23 07:30'
    >>> next_opening(parse_hours("T2-T6"), datetime(2021, 8, 16, 9, 0)) is None
    True
    """
    if schedule is None:
        return None
    local = _local(when)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    starts = (
        midnight + timedelta(days=offset, minutes=start)
        for offset in range(8)
        for rule in schedule.rules
        if rule.intervals and (local.weekday() + offset) % 7 in rule.days
        for start, _end in rule.intervals
    )
    return min((start for start in starts if start > local), default=None)


@lru_cache(maxsize=1024)
def open_at_minute(hours: str, minute: datetime) -> bool | None:
    """Tell whether an hours text is open at a whole minute (:func:`is_open`), cached.

    Hours open and close on whole minutes, so a request's minute gives the exact answer, and the
    sites of a finder's answer share a few hours texts: each is worked out once a minute.
    """
    return is_open(cached_parse_hours(hours), minute)


@lru_cache(maxsize=1024)
def next_opening_at_minute(hours: str, minute: datetime) -> datetime | None:
    """Return when an hours text next opens after a whole minute (:func:`next_opening`), cached."""
    return next_opening(cached_parse_hours(hours), minute)
