"""Numbers and dates in one locale per language, through Babel: ``2.694,9`` and ``16/08/2021`` in
Vietnamese, ``2,694.9`` and ``16 Aug 2021`` in English."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask import Flask

from layers.catalog import Attribute
from portal.i18n import current_language

DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def number(value: float | int | None, digits: int = 0, lang: str | None = None) -> str:
    """Format a number with the language's separators.

    >>> number(2694.93, 1, "vi"), number(2694.93, 1, "en"), number(1526, lang="vi"), number(None, lang="en")
    ('2.694,9', '2,694.9', '1.526', '')
    """
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=lang or current_language())


def day(value: date | None, lang: str | None = None) -> str:
    """Format a date: ``16/08/2021`` in Vietnamese, ``16 Aug 2021`` in English.

    >>> day(date(2021, 8, 16), "vi"), day(date(2021, 8, 6), "en"), day(None, "vi")
    ('16/08/2021', '6 Aug 2021', '')
    """
    if value is None:
        return ""
    lang = lang or current_language()
    return format_date(value, DATE_PATTERNS.get(lang, DATE_PATTERNS["vi"]), locale=lang)


def weekday_time(value: datetime, lang: str | None = None) -> str:
    """Format a moment of the coming week in Việt Nam: ``Thứ Hai 07:30`` / ``Monday 07:30``.

    >>> from zoneinfo import ZoneInfo
    >>> monday = datetime(2021, 8, 23, 7, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    >>> weekday_time(monday, "vi"), weekday_time(monday, "en")
    ('Thứ Hai 07:30', 'Monday 07:30')
    """
    return format_datetime(value, "EEEE HH:mm", tzinfo=VIETNAM, locale=lang or current_language())


def attribute_value(attribute: Attribute, value: object, lang: str | None = None) -> str:
    """Return a feature's value as people read it: a choice's label, a date or number in the locale.

    >>> from layers.catalog import default_catalog
    >>> kind = next(a for a in default_catalog().layer("checkpoints").attributes if a.name == "kind")
    >>> attribute_value(kind, "roadblock", "vi"), attribute_value(kind, "roadblock", "en")
    ('Rào chắn', 'Roadblock')
    """
    lang = lang or current_language()
    if value is None or value == "":
        return ""
    if attribute.type == "choice":
        return attribute.choice_label(value, lang)
    if attribute.type == "date" and isinstance(value, str):
        try:
            return day(date.fromisoformat(value[:10]), lang)
        except ValueError:
            return value
    if attribute.type in ("int", "number") and isinstance(value, int | float) and not isinstance(value, bool):
        return number(value, 0 if float(value).is_integer() else 2, lang)
    return str(value)


def init_app(app: Flask) -> None:
    """Expose ``number``, ``day`` and ``attribute_value`` to templates as filters."""
    app.jinja_env.filters.update(number=number, day=day, attribute_value=attribute_value)
