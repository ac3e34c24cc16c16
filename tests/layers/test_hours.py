"""Opening hours as the CDC's feeds write them, and whether a site is open at a moment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from layers.hours import ALL_DAYS, Rule, Schedule, is_open, parse_hours

WEEKDAYS = frozenset(range(5))


@pytest.mark.parametrize(("text", "rules"), [
    ("7h00 - 17h00", [(ALL_DAYS, [(420, 1020)])]),
    ("7h00 - 17h00 (T2-CN)", [(ALL_DAYS, [(420, 1020)])]),
    ("7:30-11:30, 13:30-17:00", [(ALL_DAYS, [(450, 690), (810, 1020)])]),
    ("07.30 - 11.30", [(ALL_DAYS, [(450, 690)])]),
    ("24/7", [(ALL_DAYS, [(0, 1440)])]),
    ("24/24", [(ALL_DAYS, [(0, 1440)])]),
    ("Thứ 2 - Thứ 6", [(WEEKDAYS, None)]),
    ("Thứ Hai đến Thứ Sáu", [(WEEKDAYS, None)]),
    ("Từ thứ 2 đến thứ 6, 7h - 17h", [(WEEKDAYS, [(420, 1020)])]),
    ("Thứ 2 - Thứ 6: 7h00-11h00, 13h00-17h00", [(WEEKDAYS, [(420, 660), (780, 1020)])]),
    ("T2-T6 7h-17h; T7 7h-11h", [(WEEKDAYS, [(420, 1020)]), (frozenset({5}), [(420, 660)])]),
    ("7h-17h (T2-T6), 7h-11h (T7)", [(WEEKDAYS, [(420, 1020)]), (frozenset({5}), [(420, 660)])]),
    ("Thứ 7, Chủ nhật", [(frozenset({5, 6}), None)]),
    ("T7-CN 8h-12h", [(frozenset({5, 6}), [(480, 720)])]),
    ("CN: 7 giờ - 11 giờ", [(frozenset({6}), [(420, 660)])]),
    ("Sáng 7h-11h, chiều 13h-17h", [(ALL_DAYS, [(420, 660), (780, 1020)])]),
    ("Sáng 7h-11h, chiều 1h-5h", [(ALL_DAYS, [(420, 660), (780, 1020)])]),
    ("Giờ làm việc: 6h - 22h hằng ngày", [(ALL_DAYS, [(360, 1320)])]),
    ("22h - 6h", [(ALL_DAYS, [(1320, 360)])]),
    ("T6-T2", [(frozenset({4, 5, 6, 0}), None)]),
])
def test_parse_hours(text, rules):
    expected = Schedule(tuple(Rule(days, tuple(i) if i is not None else None) for days, i in rules))
    assert parse_hours(text) == expected


@pytest.mark.parametrize("text", [
    None, "", "   ", "Liên hệ trước", "Theo lịch", "7h", "7 - 11", "25h - 26h", "7h60 - 8h",
    "7h - 7h", "Nghỉ Chủ nhật, 7h-17h", "gọi 0912345678", "Thứ 8", "sáng",
])
def test_unparseable_hours_are_none(text):
    assert parse_hours(text) is None


MONDAY = datetime(2021, 8, 16)
SATURDAY, SUNDAY = datetime(2021, 8, 21), datetime(2021, 8, 22)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


@pytest.mark.parametrize(("text", "when", "expected"), [
    ("7h00 - 17h00", at(MONDAY, 6, 59), False),
    ("7h00 - 17h00", at(MONDAY, 7, 0), True),
    ("7h00 - 17h00", at(MONDAY, 16, 59), True),
    ("7h00 - 17h00", at(MONDAY, 17, 0), False),
    ("7h00 - 17h00 (T2-CN)", at(SUNDAY, 10), True),
    ("7:30-11:30, 13:30-17:00", at(MONDAY, 12, 0), False),
    ("7:30-11:30, 13:30-17:00", at(MONDAY, 13, 45), True),
    ("24/7", at(SUNDAY, 3), True),
    ("Thứ 2 - Thứ 6", at(MONDAY, 10), None),  # the day is right, the hours are not said
    ("Thứ 2 - Thứ 6", at(SATURDAY, 10), False),
    ("Thứ 2 - Thứ 6, 7h - 17h", at(SATURDAY, 10), False),
    ("Thứ 2 - Thứ 6, 7h - 17h", at(MONDAY, 10), True),
    ("7h00 - 17h00 (T2-T7)", at(SUNDAY, 10), False),
    ("Sáng 7h-11h, chiều 13h-17h", at(MONDAY, 12), False),
    ("Sáng 7h-11h, chiều 13h-17h", at(MONDAY, 14), True),
    ("T2-T6 7h-17h; T7 7h-11h", at(SATURDAY, 10), True),
    ("T2-T6 7h-17h; T7 7h-11h", at(SATURDAY, 14), False),
    ("22h - 6h", at(MONDAY, 23), True),
    ("22h - 6h", at(MONDAY, 5), True),
    ("22h - 6h", at(MONDAY, 12), False),
    ("T2 22h - 6h", at(datetime(2021, 8, 17), 3), True),  # Monday night, on Tuesday morning
    ("Liên hệ trước", at(MONDAY, 10), None),
    # Aware times are converted to Việt Nam's: 02:00 UTC is 09:00 in Hồ Chí Minh City.
    ("7h00 - 17h00", datetime(2021, 8, 16, 2, 0, tzinfo=UTC), True),
    ("7h00 - 17h00", datetime(2021, 8, 16, 11, 0, tzinfo=UTC), False),
])
def test_open_now(text, when, expected):
    assert is_open(parse_hours(text), when) is expected
