"""Cell and label helpers: NFC and diacritic folding, header labels, row classification."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC (composed) form.

    >>> nfc("cho\\u0302\\u0301t") == "chốt"
    True
    """
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _strip_char(char: str) -> str:
    if char in "đĐ":
        return "d" if char == "đ" else "D"
    return "".join(ch for ch in unicodedata.normalize("NFD", char) if not unicodedata.combining(ch))


# Latin letters with diacritics (Vietnamese included) -> base letters, combining marks -> nothing:
# what fold's NFD pass does, character by character, in one str.translate call.
_FOLD_TABLE = {
    code: _strip_char(chr(code))
    for block in (range(0xC0, 0x250), range(0x300, 0x370), range(0x1E00, 0x1F00))
    for code in block
    if _strip_char(chr(code)) != chr(code)
}


def fold(text: str) -> str:
    """Return a case- and diacritic-insensitive key for matching Vietnamese labels.

    >>> fold("  TỔNG   Cộng ")
    'tong cong'
    >>> fold("Đơn vị")
    'don vi'
    """
    quick = text.translate(_FOLD_TABLE)
    if quick.isascii():  # the usual case; anything else takes the general path below
        return " ".join(quick.lower().split())
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.casefold().split())


def clean_label(text: str) -> str:
    """Return header text in NFC with invisible characters removed and whitespace collapsed.

    >>> clean_label(" Tọa độ\\n(vĩ độ,\\xa0kinh độ) ")
    'Tọa độ (vĩ độ, kinh độ)'
    """
    return " ".join(nfc(text).translate(_INVISIBLE).split())


def label(value: Any) -> str:
    """Return the header text shown for a cell value (dates as dd/mm/yyyy).

    >>> label(3.0), label(dt.date(2021, 8, 10)), label(None), label(" Xã ")
    ('3', '10/08/2021', '', 'Xã')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_label(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def column_letter(index: int) -> str:
    """Return the spreadsheet letter of a 0-based column index.

    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(702)
    ('A', 'Z', 'AA', 'AAA')
    """
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def unique_names(names: list[str]) -> list[str]:
    """Suffix repeated names (case-insensitively) with " (2)", " (3)", … keeping the first.

    >>> unique_names(["Tên", "Vĩ độ", "tên", "Tên"])
    ['Tên', 'Vĩ độ', 'tên (2)', 'Tên (3)']
    """
    originals = {n.casefold() for n in names}
    taken: set[str] = set()
    out = []
    for name in names:
        candidate = name
        if candidate.casefold() in taken:
            k = 2
            while (candidate := f"{name} ({k})").casefold() in taken | originals:
                k += 1
        taken.add(candidate.casefold())
        out.append(candidate)
    return out


def where(sheet: str | None, number: int | None = None) -> tuple[str, str]:
    """Return a Vietnamese and an English phrase locating a sheet/row, for messages.

    >>> where("Điểm XN", 5)
    ('trang tính “Điểm XN”, dòng 5', 'sheet "Điểm XN", row 5')
    >>> where(None, 7)
    ('dòng 7', 'row 7')
    """
    vi, en = [], []
    if sheet is not None:
        vi.append(f"trang tính “{sheet}”")
        en.append(f'sheet "{sheet}"')
    if number is not None:
        vi.append(f"dòng {number}")
        en.append(f"row {number}")
    return ", ".join(vi), ", ".join(en)


_NUMBER = re.compile(r"[+-]?(?:\d(?:[\d.,\s]*\d)?|[.,]\d+)(?:[eE][+-]?\d+)?\s*%?")


def is_blank(value: Any) -> bool:
    """Tell whether a cell is empty (``None`` or only whitespace).

    >>> is_blank(None), is_blank(" \\t"), is_blank(0)
    (True, True, False)
    """
    return value is None or (isinstance(value, str) and (not value or value.isspace()))


def is_label(value: Any) -> bool:
    """Tell whether a cell looks like a column label: non-numeric text, or a date.

    >>> is_label("Vĩ độ"), is_label("11,021671"), is_label(5), is_label("10/08/2021")
    (True, False, False, True)
    """
    if isinstance(value, str):
        return not _NUMBER.fullmatch(value.strip())
    return isinstance(value, (dt.date, dt.time))


_TOTAL = re.compile(r"(tong cong|tong so|tong|cong|grand total|sub-? ?total|totals?)\b(.*)")
_TOTAL_STARTS = frozenset(("ton", "con", "gra", "sub", "tot"))  # how _TOTAL's words start
_TOTAL_PAIRS = frozenset(start[:2] for start in _TOTAL_STARTS)
_HEAD_CHARS = 12
_TOTAL_NEXT_WORDS = {"toan", "cac", "chung", "so", "cong", "ca", "theo", "huyen", "tinh", "xa"}
_NOTE = re.compile(
    r"(\*|\(\*|ghi chu\b|chu thich\b|chu y\b|luu y\b|note\b|notes\b|source\b"
    r"|nguon(\s+(so lieu|du lieu|tin))?\s*:|nguoi (lap|bao cao|duyet|ky|tong hop)\b"
    r"|thu truong\b|ky ten\b|.*\bngay \d{1,2} thang \d{1,2} nam \d{4})"
)


def is_total_label(text: str) -> bool:
    """Tell whether a cell text labels a totals row ("Tổng cộng: 43 điểm", "Cộng", "Total").

    >>> [is_total_label(t) for t in ["Tổng cộng: 43 điểm", "TONG", "Cộng các xã", "Total"]]
    [True, True, True, True]
    >>> [is_total_label(t) for t in ["Tổng công ty Becamex", "Công an", "Cộng đồng"]]
    [False, False, False]
    """
    stripped = text.lstrip()
    first = stripped[:1].lower()
    if first not in ("t", "c", "g", "s"):
        return False
    second = stripped[1:2].translate(_FOLD_TABLE).lower()  # "" for a combining mark: fold drops it
    if second and second.isascii() and first + second not in _TOTAL_PAIRS:
        return False  # fold(text) starts with these two letters, as no word of _TOTAL does
    head = fold(text[:_HEAD_CHARS])  # folding works character by character: a prefix of fold(text)
    if len(head) >= 3 and head[:3] not in _TOTAL_STARTS:
        return False
    match = _TOTAL.match(fold(text))
    if not match:
        return False
    rest = match.group(2).strip()
    if not rest or rest[0] in ":=-–—(.,;" or rest[0].isdigit():
        return True
    return rest.split()[0] in _TOTAL_NEXT_WORDS


def _plain_cell_differs(cells: list[Any], header_keys: list[str]) -> bool:
    """Tell whether an ASCII text cell's label key differs from the header's (a cheap first test).

    For ASCII text, ``fold(label(value))`` is its words lowercased, single-spaced.
    """
    for c, value in enumerate(cells):
        if type(value) is str and value.isascii():
            if " ".join(value.lower().split()) != (header_keys[c] if c < len(header_keys) else ""):
                return True
    return False


def _plainly_data(cells: list[Any], header_keys: list[str] | None) -> bool:
    """Tell whether a row is data by the quick tests that settle most rows: its first three cells
    hold text (so it is neither blank nor a note), none of the first two labels a total, and a text
    cell differs from the header."""
    if len(cells) < 3:
        return False
    a, b, c = cells[0], cells[1], cells[2]
    if not (type(a) is str and type(b) is str and type(c) is str):
        return False
    if not a or not b or not c or a.isspace() or b.isspace() or c.isspace():
        return False
    if is_total_label(a) or is_total_label(b):
        return False
    return not header_keys or _plain_cell_differs(cells, header_keys)


def skip_reason(cells: list[Any], header_keys: list[str] | None = None) -> str | None:
    """Return why a row below the header is not data ("blank", "total", "note", …), or None.

    ``header_keys`` are the header row's cells as :func:`fold`-ed labels, to spot a header
    repeated further down ("repeated_header").

    >>> skip_reason(["", None]), skip_reason([None, "Tổng cộng: 43 điểm", None])
    ('blank', 'total')
    >>> skip_reason(["Ghi chú: số liệu tạm tính"]), skip_reason([1, "Trạm Y tế Phú Cường"])
    ('note', None)
    >>> skip_reason(["STT", " Tên "], ["stt", "ten"])
    'repeated_header'
    """
    if _plainly_data(cells, header_keys):
        return None
    filled = []  # the first three filled cells are all the tests below look at
    for c, v in enumerate(cells):
        if not (v is None or (isinstance(v, str) and (not v or v.isspace()))):  # is_blank, inlined
            filled.append((c, v))
            if len(filled) == 3:
                break
    if not filled:
        return "blank"
    if any(isinstance(v, str) and is_total_label(v) for _, v in filled[:2]):
        return "total"
    if len(filled) <= 2 and all(isinstance(v, str) for _, v in filled):
        if _NOTE.match(fold(" ".join(v for _, v in filled))):
            return "note"
    if header_keys and len(filled) >= 2 and not _plain_cell_differs(cells, header_keys):
        first, value = filled[0]
        if first < len(header_keys) and fold(label(value)) == header_keys[first]:
            keys = [fold(label(v)) for v in cells]
            width = max(len(keys), len(header_keys))
            if keys + [""] * (width - len(keys)) == header_keys + [""] * (width - len(header_keys)):
                return "repeated_header"
    return None
