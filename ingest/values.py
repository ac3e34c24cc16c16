"""Pure parsers for single cells of messy Vietnamese CDC spreadsheets.

Every parser takes one cell as an Excel reader hands it over (``str``, ``int``, ``float``,
``datetime.date``/``datetime.datetime`` or ``None``) and either returns a clean value or
raises :class:`ingest.errors.ValueProblem` with a stable snake_case code and a message in
Vietnamese and English that quotes the offending value.  Nothing here does I/O.

Codes raised by this module: ``invalid_number``, ``invalid_date``, ``invalid_phone`` and
``text_too_long``.  Coordinates, VN-2000 and WKT live in :mod:`ingest.coords`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta

from ingest.errors import ValueProblem

Cell = str | int | float | date | None

_SHOWN_MAX = 50
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def quote_value(value: object) -> str:
    """Return a cell as short printable text for use inside problem messages.

    >>> quote_value("  3,5\\tkg ")
    '3,5 kg'
    >>> quote_value("x" * 60)
    'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…'
    >>> quote_value(None)
    ''
    """
    text = "" if value is None else str(value)
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"


def _blank(value: object) -> bool:
    """Tell whether a cell is empty: None, NaN from pandas, or only whitespace."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not _INVISIBLE.sub("", value).strip()


# --------------------------------------------------------------------------- numbers

_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d+)?[eE][+-]?\d+")
_SPACED_GROUPS = re.compile(r"[+-]?\d{1,3}(?: \d{3})+(?:[.,]\d+)?")
_NUMBER_BODY = re.compile(r"([+-]?)(\d(?:[\d.,]*\d)?)")


def _number_problem(value: object, why_vi: str = "", why_en: str = "") -> ValueProblem:
    shown = quote_value(value)
    return ValueProblem(
        "invalid_number",
        f"Không đọc được số từ giá trị “{shown}”{why_vi}.",
        f"Cannot read a number from “{shown}”{why_en}.",
    )


def _decimal_mark(body: str, decimal: str) -> str:
    """Pick the decimal separator of a digit string in ``auto`` mode (see parse_number)."""
    if decimal != "auto":
        return decimal
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        return "," if body.rfind(",") > body.rfind(".") else "."
    if commas:
        return "," if commas == 1 else "."
    if dots == 1:
        whole, frac = body.split(".")
        return "," if len(frac) == 3 and not whole.startswith("0") else "."
    return "," if dots else "."


def _canonical_number(value: str, decimal: str) -> str:
    """Turn number text into ``[-]digits[.digits]`` or raise ``invalid_number``."""
    text = " ".join(_INVISIBLE.sub("", value).replace("\u2212", "-").split())
    if _SCIENTIFIC.fullmatch(text):
        return text
    if " " in text:
        if not _SPACED_GROUPS.fullmatch(text):
            raise _number_problem(value, " (có chữ, đơn vị hoặc khoảng trắng thừa)",
                                  " (it contains letters, a unit or stray spaces)")
        text = text.replace(" ", "")
    match = _NUMBER_BODY.fullmatch(text)
    if match is None:
        raise _number_problem(value)
    sign, body = match.groups()
    mark = _decimal_mark(body, decimal)
    thousands = "." if mark == "," else ","
    whole, _, frac = body.partition(mark)
    if mark in frac or thousands in frac:
        raise _number_problem(value)
    if thousands in whole:
        first, *groups = whole.split(thousands)
        if not 1 <= len(first) <= 3 or any(len(group) != 3 for group in groups):
            raise _number_problem(value, " (dấu phân cách hàng nghìn sai chỗ)",
                                  " (misplaced thousands separator)")
        whole = first + "".join(groups)
    return f"{'-' if sign == '-' else ''}{whole}" + (f".{frac}" if frac else "")


def parse_number(value: Cell, *, decimal: str = "auto") -> float | None:
    """Read a number written the Vietnamese or the English way.

    ``decimal`` is ``","`` (Vietnamese: ``.`` groups thousands), ``"."`` (English) or
    ``"auto"``: the last of ``.``/``,`` is the decimal mark when both appear; one comma is
    a decimal comma; one dot followed by exactly three digits groups thousands (unless the
    integer part starts with ``0``); several equal separators group thousands.

    >>> parse_number("2.000"), parse_number("1.234.567"), parse_number("1.234,5")
    (2000.0, 1234567.0, 1234.5)
    >>> parse_number("3,5"), parse_number("1,234.5"), parse_number("12.5"), parse_number("0.500")
    (3.5, 1234.5, 12.5, 0.5)
    >>> parse_number("\\u00a01 234 567 "), parse_number("-7"), parse_number(15), parse_number("  ")
    (1234567.0, -7.0, 15.0, None)
    >>> parse_number("2.000", decimal=".")
    2.0
    >>> parse_number("1e400")
    Traceback (most recent call last):
    ingest.errors.ValueProblem: Cannot read a number from “1e400” (too large).
    >>> parse_number("12 người")
    Traceback (most recent call last):
    ingest.errors.ValueProblem: Cannot read a number from “12 người” (it contains letters, a unit or stray spaces).
    """  # noqa: E501
    if decimal not in ("auto", ",", "."):
        raise ValueError(f"decimal must be 'auto', ',' or '.', not {decimal!r}")
    if _blank(value):
        return None
    if isinstance(value, bool) or isinstance(value, date):
        raise _number_problem(value)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise _number_problem(value)
        return float(value)
    if not isinstance(value, str):
        raise _number_problem(value)
    number = float(_canonical_number(value, decimal))
    if not math.isfinite(number):  # "1e400": no float holds it
        raise _number_problem(value, " (quá lớn)", " (too large)")
    return number


def parse_int(value: Cell, *, decimal: str = "auto") -> int | None:
    """Read a whole number, rejecting values with a fractional part or outside 64-bit integers.

    >>> parse_int("15.000"), parse_int(42.0), parse_int("2,0"), parse_int(None)
    (15000, 42, 2, None)
    >>> parse_int("1234567890123456789")
    1234567890123456789
    >>> parse_int("2,5")
    Traceback (most recent call last):
    ingest.errors.ValueProblem: Cannot read a number from “2,5” (not a whole number).
    >>> parse_int("1e20")
    Traceback (most recent call last):
    ingest.errors.ValueProblem: Cannot read a number from “1e20” (too large: a whole number from -9223372036854775808 to 9223372036854775807).
    """  # noqa: E501
    if _blank(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return _in_int_range(value, value)
    number = parse_number(value, decimal=decimal)
    assert number is not None
    if isinstance(value, str) and "e" not in (exact := _canonical_number(value, decimal)).lower():
        whole, _, frac = exact.partition(".")
        if not frac.strip("0"):
            return _in_int_range(int(whole), value)  # exact even beyond float precision
    elif number.is_integer():
        return _in_int_range(int(number), value)
    raise _number_problem(value, " (không phải số nguyên)", " (not a whole number)")


INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # PostgreSQL's bigint; JSON encoders take no more


def _in_int_range(number: int, value: Cell) -> int:
    """Return a whole number that fits 64 bits, or reject the cell it came from."""
    if INT_MIN <= number <= INT_MAX:
        return number
    raise _number_problem(value, f" (quá lớn: số nguyên từ {INT_MIN} đến {INT_MAX})",
                          f" (too large: a whole number from {INT_MIN} to {INT_MAX})")


# --------------------------------------------------------------------------- dates

_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31
_TIME = r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*(?:Z|[+-]\d{2}:?\d{2}))?)?"
_DAY_FIRST = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})" + _TIME)
_YEAR_FIRST = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})" + _TIME)


def _date_problem(value: object, calendar: bool = False, day_first: bool = False) -> ValueProblem:
    shown = quote_value(value)
    if calendar:
        hint_vi = " (đọc theo ngày/tháng/năm)" if day_first else ""
        hint_en = " (read as day/month/year)" if day_first else ""
        return ValueProblem(
            "invalid_date",
            f"Ngày “{shown}” không có thật trong lịch{hint_vi}.",
            f"Date “{shown}” does not exist in the calendar{hint_en}.",
        )
    return ValueProblem(
        "invalid_date",
        f"Không đọc được ngày từ giá trị “{shown}”; hãy ghi theo dạng ngày/tháng/năm"
        " (dd/mm/yyyy).",
        f"Cannot read a date from “{shown}”; write it as day/month/year (dd/mm/yyyy).",
    )


def _excel_serial(value: int | float) -> date:
    """Convert an Excel 1900-system serial day number to a date."""
    if not math.isfinite(value) or not 1 <= value < _EXCEL_MAX_SERIAL + 1:
        raise _date_problem(value)
    days = math.floor(value)
    if days == 60:  # Excel's fictitious 29/02/1900
        raise _date_problem(value, calendar=True)
    return _EXCEL_EPOCH + timedelta(days=days if days > 60 else days + 1)


def parse_date(value: Cell) -> date | None:
    """Read a day-first date, an ISO date, an Excel serial number or a date object.

    Day and month are never swapped: ``08/31/2021`` is rejected, not read as 31 August.
    A time part is ignored; the date is taken as written (no time-zone conversion).

    >>> parse_date("01/08/2021"), parse_date("1.8.2021"), parse_date("2021-08-01T07:30:00")
    (datetime.date(2021, 8, 1), datetime.date(2021, 8, 1), datetime.date(2021, 8, 1))
    >>> parse_date(44409), parse_date(44409.75), parse_date(datetime(2021, 8, 1, 23, 59))
    (datetime.date(2021, 8, 1), datetime.date(2021, 8, 1), datetime.date(2021, 8, 1))
    >>> parse_date(""), parse_date("29/02/2020")
    (None, datetime.date(2020, 2, 29))
    >>> parse_date("31/02/2021")
    Traceback (most recent call last):
    ingest.errors.ValueProblem: Date “31/02/2021” does not exist in the calendar (read as day/month/year).
    >>> parse_date("hôm qua")
    Traceback (most recent call last):
    ingest.errors.ValueProblem: Cannot read a date from “hôm qua”; write it as day/month/year (dd/mm/yyyy).
    """  # noqa: E501
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise _date_problem(value)
    if isinstance(value, int | float):
        return _excel_serial(value)
    if not isinstance(value, str):
        raise _date_problem(value)
    text = " ".join(_INVISIBLE.sub("", value).split())
    if match := _DAY_FIRST.fullmatch(text):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
    elif match := _YEAR_FIRST.fullmatch(text):
        year, month, day = int(match[1]), int(match[3]), int(match[4])
    else:
        raise _date_problem(value)
    try:
        return date(year, month, day)
    except ValueError:
        raise _date_problem(value, calendar=True, day_first=match.re is _DAY_FIRST) from None


# --------------------------------------------------------------------------- phones

_MOBILE = re.compile(r"0[35789]\d{8}")
_LANDLINE = re.compile(r"02\d{9}")
_HOTLINE = re.compile(r"1[89]00(?:\d{4}|\d{6})|11[1-5]")
_PHONE_CHARS = re.compile(r"\+?[\d\s().\-]+")
_PLAIN_PHONE = re.compile(r"0[1-9][0-9 ]*[0-9]")  # national digits in groups: no prefix to turn


def _phone_problem(value: object) -> ValueProblem:
    shown = quote_value(value)
    return ValueProblem(
        "invalid_phone",
        f"Số điện thoại “{shown}” không hợp lệ.",
        f"Phone number “{shown}” is not valid.",
    )


def _national(digits: str) -> bool:
    return bool(_MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits))


def parse_phone(value: Cell) -> str | None:
    """Read a Vietnamese phone number and return its national digits.

    A leading zero dropped by Excel is restored; ``+84``/``84``/``0084`` prefixes are
    turned into ``0``.  Hotlines (``1800…``, ``1900…``, ``111``–``115``) are returned
    as bare digits.  Mobiles have 10 digits (``03/05/07/08/09``), landlines 11 (``02``).

    >>> parse_phone(912345678), parse_phone(912345678.0), parse_phone("+84 912 345 678")
    ('0912345678', '0912345678', '0912345678')
    >>> parse_phone("(0274) 3822 222"), parse_phone(2743822222), parse_phone("84912345678")
    ('02743822222', '02743822222', '0912345678')
    >>> parse_phone("1900 9095"), parse_phone(115), parse_phone(" ")
    ('19009095', '115', None)
    >>> parse_phone("0912 345 678 / 0987 654 321")
    Traceback (most recent call last):
    ingest.errors.ValueProblem: Phone number “0912 345 678 / 0987 654 321” is not valid.
    """
    if type(value) is str and _PLAIN_PHONE.fullmatch(value) and _national(digits := value.replace(" ", "")):
        return digits  # the usual cell: what the general path below returns, sooner
    if _blank(value):
        return None
    if isinstance(value, bool) or isinstance(value, date):
        raise _phone_problem(value)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise _phone_problem(value)
        value_text = str(int(value))
    elif isinstance(value, int | str):
        value_text = re.sub(r"^(\d+)\.0$", r"\1", _INVISIBLE.sub("", str(value)).strip())
    else:
        raise _phone_problem(value)
    if not _PHONE_CHARS.fullmatch(value_text) or value_text.startswith("-"):
        raise _phone_problem(value)
    digits = re.sub(r"\D", "", value_text)
    if value_text.startswith("+") or digits.startswith("00"):
        rest = digits if value_text.startswith("+") else digits[2:]
        if not rest.startswith("84"):
            raise _phone_problem(value)  # a foreign number
        national = "0" + rest[2:].removeprefix("0")  # also "+84 (0) 912…"
    elif _HOTLINE.fullmatch(digits):
        return digits
    elif digits.startswith("84") and len(digits) in (11, 12):
        national = "0" + digits[2:]
    elif not digits.startswith("0") and len(digits) in (9, 10):
        national = "0" + digits
    else:
        national = digits
    if not _national(national):
        raise _phone_problem(value)
    return national


def phone_e164(national: str) -> str:
    """Turn a national number from parse_phone into E.164 form; hotlines have none.

    >>> phone_e164("0912345678"), phone_e164("02743822222")
    ('+84912345678', '+842743822222')
    >>> phone_e164("19009095")
    Traceback (most recent call last):
    ingest.errors.ValueProblem: Phone number “19009095” is not valid.
    """
    if not isinstance(national, str) or not _national(national):
        raise _phone_problem(national)
    return "+84" + national[1:]


# --------------------------------------------------------------------------- text

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean_text(value: Cell, max_len: int = 500) -> str | None:
    """Normalise a text cell: NFC, no invisible or control characters, single spaces.

    Text that looks like a spreadsheet formula (``=``, ``+``, ``-``, ``@``) is kept as it
    is: it is never evaluated here.  Escape it with :func:`neutralise_formula` on export.
    Leading tabs/CRs are whitespace and are stripped like any other.  Text longer than
    ``max_len`` characters raises ``text_too_long`` rather than being cut.

    >>> clean_text("  Phường\\u00a0 Bến   Nghé\\n "), clean_text("Ha\\u0300 Nô\\u0323i")
    ('Phường Bến Nghé', 'Hà Nội')
    >>> clean_text("=1+1"), clean_text(12.0), clean_text(date(2021, 8, 1)), clean_text(" ")
    ('=1+1', '12', '2021-08-01', None)
    >>> clean_text("abcdef", max_len=5)
    Traceback (most recent call last):
    ingest.errors.ValueProblem: Text “abcdef” is 6 characters long, over the limit of 5.
    """
    if isinstance(value, str) and value.isprintable():
        # The usual cell: printable text holds no invisible (Cf) or control (Cc) characters.
        text = " ".join(unicodedata.normalize("NFC", value).split())
    elif _blank(value):
        return None
    else:
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        elif isinstance(value, date):
            text = value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
        else:
            text = str(value)
        text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
        text = " ".join(_CONTROL.sub(" ", text).split())
    if not text:
        return None
    if len(text) > max_len:
        shown = quote_value(text)
        raise ValueProblem(
            "text_too_long",
            f"Văn bản “{shown}” dài {len(text)} ký tự, vượt quá giới hạn {max_len} ký tự.",
            f"Text “{shown}” is {len(text)} characters long, over the limit of {max_len}.",
        )
    return text


def neutralise_formula(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula, for CSV/Excel exports.

    Anything starting with ``=``, ``+``, ``-``, ``@``, tab or CR is escaped, including
    number-like text such as ``"-5"``: export real numbers as numbers, not as text.

    >>> neutralise_formula("=1+1"), neutralise_formula("-5"), neutralise_formula("@SUM(A1)")
    ("'=1+1", "'-5", "'@SUM(A1)")
    >>> neutralise_formula("Bình Dương"), neutralise_formula(""), neutralise_formula("a=b")
    ('Bình Dương', '', 'a=b')
    """
    return "'" + text if text.startswith(_FORMULA_START) else text
