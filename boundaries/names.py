"""Pure name-matching helpers for Vietnamese administrative units (no I/O)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

_D = str.maketrans({"đ": "d", "ð": "d"})  # Đ lowercases to đ; ð/Ð is a common Đ look-alike
_NON_WORD = re.compile(r"[\W_]+")
_SEP = r"(?:\s*[.:,\-]\s*|\s+|(?=\d))"
# (folded pattern, canonical kind, plain spelling is also an ordinary name syllable)
_FULL = [
    ("thanh pho", "Thành phố", True),
    ("thi tran", "Thị trấn", False),
    ("thi xa", "Thị xã", True),
    ("dac khu", "Đặc khu", False),
    ("tinh", "Tỉnh", True),
    ("huyen", "Huyện", True),
    ("quan", "Quận", True),
    ("phuong", "Phường", True),
    ("xa", "Xã", True),
]
_FULL_RE = [(re.compile(p.replace(" ", r"\s+") + _SEP), k, s) for p, k, s in _FULL]
_ABBR_RE = [
    (re.compile(r"t\.?p(?:\.\s*|\s+|(?=\d))"), "Thành phố"),
    (re.compile(r"t\.?x(?:\.\s*|\s+|(?=\d))"), "Thị xã"),
    (re.compile(r"t\.?t(?:\.\s*|\s+|(?=\d))"), "Thị trấn"),
    (re.compile(r"h\.\s*"), "Huyện"),
    (re.compile(r"x\.\s*"), "Xã"),
    (re.compile(r"q(?:\.\s*|\s*(?=\d))"), "Quận"),
    (re.compile(r"[pf](?:\.\s*|\s*(?=\d))"), "Phường"),  # "F." is how Saigon writes Phường
]
# A lone letter then a space ("P Hiệp Thành", "X An Sơn"): no Vietnamese syllable is one of these
# consonants alone, but the kind stays a guess, so the unsplit name is tried too.
_LOOSE_RE = [
    (re.compile(r"[pf]\s+"), "Phường"),
    (re.compile(r"x\s+"), "Xã"),
    (re.compile(r"h\s+"), "Huyện"),
    (re.compile(r"q\s+"), "Quận"),
]
# Matches where any pattern above matches: one test rules out most names having a kind at all.
_ANY_KIND = re.compile("|".join(f"(?:{r.pattern})" for r, *_ in (*_FULL_RE, *_ABBR_RE, *_LOOSE_RE)))
_ABBR_FOLD = {"tp": "thanh pho", "tx": "thi xa", "tt": "thi tran", "h": "huyen",
              "q": "quan", "p": "phuong", "f": "phuong", "x": "xa", "dk": "dac khu"}
_ROMAN = {r: str(n) for n, r in enumerate(
    ["", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv",
     "xvi", "xvii", "xviii", "xix", "xx"]) if r}


def _strip_marks_slowly(text: str) -> str:
    """Lowercase *text* and drop every diacritic, for any script."""
    s = unicodedata.normalize("NFD", text.lower()).translate(_D)
    return "".join(c for c in s if not unicodedata.combining(c))


# Over Latin letters and combining marks, lowercasing and NFD work character by character (the
# reordering of marks only moves marks, which are dropped), so one str.translate does the same.
_NOT_LATIN = re.compile("[^\x00-\u024f\u0300-\u036f\u1e00-\u1eff]")
# _NOT_LATIN's characters and the combining marks (U+0300-036F), the only Latin-range characters
# that strip to nothing: a name without them strips one character for one character.
_NOT_PLAIN_LATIN = re.compile("[^\x00-\u024f\u1e00-\u1eff]")
_STRIP_TABLE = {code: _strip_marks_slowly(chr(code))
                for block in (range(0x250), range(0x300, 0x370), range(0x1E00, 0x1F00)) for code in block}


def _strip_marks(text: str) -> str:
    """Lowercase *text* and drop every diacritic, keeping punctuation and spacing."""
    if _NOT_LATIN.search(text) is None:
        return text.translate(_STRIP_TABLE)
    return _strip_marks_slowly(text)


@lru_cache(maxsize=8192)
def _strip_char(char: str) -> str:
    """Strip one character's marks; cached, since a feed uses a few hundred characters."""
    return _strip_marks(char)


def fold(text: str) -> str:
    """Lowercase, strip diacritics and collapse whitespace/punctuation to single spaces.

    >>> fold("Hưng Dũng"), fold("  ĐỊNH  Hoà ")
    ('hung dung', 'dinh hoa')
    >>> fold("Phu\u031bo\u031b\u0300ng") == fold("Phường") == "phuong"  # CP1258-style tones
    True
    >>> fold("Thủ-Dầu_Một.  (cũ)"), fold("ÐÔNG"), fold(" .- ")
    ('thu dau mot cu', 'dong', '')
    """
    return " ".join(_NON_WORD.sub(" ", _strip_marks(text)).split())


def _flat(s: str) -> tuple[str, list[int] | None]:
    """Return *s* stripped of marks and each flat character's index in *s* (None: the same)."""
    if _NOT_PLAIN_LATIN.search(s) is None:
        return s.translate(_STRIP_TABLE), None  # one character for one character
    chars: list[str] = []
    pos: list[int] = []
    for i, c in enumerate(s):
        for x in _strip_char(c):
            chars.append(x)
            pos.append(i)
    return "".join(chars), pos


def _split(name: str) -> tuple[str | None, str, bool | None]:
    """Split a leading kind off *name*.

    The flag is True for a sure kind, False for a guess ("phuong Tan Binh", "P Tân Bình") and None
    for a guess less likely than the whole name being a name ("Quan Thành", "xa An Sơn").
    """
    s = unicodedata.normalize("NFC", name).strip()
    flat, pos = _flat(s)
    if not _ANY_KIND.match(flat):
        return None, s, True
    for regex, kind, syllable in _FULL_RE:
        m = regex.match(flat)
        if not m:
            continue
        end = pos[m.end() - 1] + 1 if pos else m.end()
        rest = s[end:].strip()
        if not fold(rest):
            continue  # the name *is* the kind word, e.g. "Xã"
        words = " ".join(re.findall(r"\w+", s[:end].lower()))
        if words == " ".join(re.findall(r"\w+", _strip_marks(s[:end]))):
            if syllable and _strip_marks(rest) != rest.lower():
                # "Quan Thành" is a name, but "xa An Sơn" is Xã An Sơn: the whole name goes first
                return kind, rest, None
            return kind, rest, False
        if words == kind.lower():
            return kind, rest, True
    for regex, kind in _ABBR_RE:
        m = regex.match(flat)
        if m:
            rest = s[(pos[m.end() - 1] + 1 if pos else m.end()) :].strip()
            if fold(rest):
                return kind, rest, True
    for regex, kind in _LOOSE_RE:
        m = regex.match(flat)
        if m:
            rest = s[(pos[m.end() - 1] + 1 if pos else m.end()) :].strip()
            if fold(rest):
                return kind, rest, False
    return None, s, True


def split_kind(name: str) -> tuple[str | None, str]:
    """Split a leading unit-type word or abbreviation from *name*.

    >>> split_kind("Phường 12"), split_kind("P.12"), split_kind("Q1")
    (('Phường', '12'), ('Phường', '12'), ('Quận', '1'))
    >>> split_kind("Xã"), split_kind("Thị xã"), split_kind("THỊ  XÃ Dĩ An")
    ((None, 'Xã'), (None, 'Thị xã'), ('Thị xã', 'Dĩ An'))
    >>> split_kind("TP.HCM"), split_kind("tx Ben Cat"), split_kind("H. Bàu Bàng")
    (('Thành phố', 'HCM'), ('Thị xã', 'Ben Cat'), ('Huyện', 'Bàu Bàng'))
    >>> split_kind("Hà Nội"), split_kind("Quan Thành"), split_kind("Quán Thánh")
    ((None, 'Hà Nội'), (None, 'Quan Thành'), (None, 'Quán Thánh'))
    >>> split_kind("quan thanh"), split_kind("Dac khu Con Dao")
    (('Quận', 'thanh'), ('Đặc khu', 'Con Dao'))
    """
    kind, rest, certain = _split(name)
    return (kind, rest) if certain is not None else (None, unicodedata.normalize("NFC", name).strip())


def _key(text: str) -> str:
    """Fold *text* and drop leading zeros from numeric words."""
    return _words_key(fold(text))


def name_key(name: str) -> str:
    """Return the matching key of *name*: kind removed, folded.

    >>> name_key("Hoà") == name_key("Hòa"), name_key("Thuỷ") == name_key("Thủy")
    (True, True)
    >>> name_key("Khoẻ") == name_key("Khỏe"), name_key("Phường 01"), name_key("Xã")
    (True, '1', 'xa')
    >>> name_key("Xã Cây Trường II"), name_key("TX.  Dĩ An")
    ('cay truong 2', 'di an')
    """
    s = unicodedata.normalize("NFC", name).strip()
    flat, pos = _flat(s)
    if pos is None and not _ANY_KIND.match(flat):  # no kind to split off; flat is s's marks stripped
        return _words_key(flat.translate(_GAPS_TABLE))
    return _key(split_kind(name)[1])


# Each character _NON_WORD matches, to a space: in one str.translate, what its substitution does to
# the words of a name stripped by _STRIP_TABLE (whose non-word characters all lie below U+0250).
_GAPS_TABLE = {code: " " for code in range(0x250) if _NON_WORD.match(chr(code))}


def _words_key(folded: str) -> str:
    """Join folded words, dropping leading zeros from numeric ones and writing Roman ones in digits.

    A first word of several is never a numeral ("Vi Xuyên"), so it is kept as it is.

    >>> _words_key("cay truong ii"), _words_key("phuong 01"), _words_key("vi xuyen"), _words_key("iv")
    ('cay truong 2', 'phuong 1', 'vi xuyen', '4')
    """
    words = folded.split()
    if "0" in folded:
        words = [w.lstrip("0") or "0" if w.isdecimal() else w for w in words]
    if ("i" in folded or "v" in folded or "x" in folded) and not _ROMAN.keys().isdisjoint(words):
        words[len(words) > 1:] = [_ROMAN.get(w, w) for w in words[len(words) > 1:]]
    return " ".join(words)


@lru_cache(maxsize=16384)
def _keys(name: str) -> tuple[str, ...]:
    """Return the likeliest key of *name*, then its other key when the kind was a guess.

    Cached: a search compares the query with the same unit names again and again.
    """
    _, rest, certain = _split(name)
    if certain:
        return (_key(rest),)
    return (_key(rest), _key(name)) if certain is False else (_key(name), _key(rest))


def _kind_fold(kind: str | None) -> str | None:
    """Fold a kind word or abbreviation to a comparable form."""
    if kind is None:
        return None
    f = fold(kind)
    return _ABBR_FOLD.get(f.replace(" ", ""), f) or None


@dataclass(frozen=True)
class UnitName:
    """A lightweight candidate administrative unit."""

    code: str
    name: str
    parent_code: str | None = None
    kind: str | None = None


def match_names(
    query: str, candidates: Iterable[UnitName], *, kind: str | None = None
) -> list[UnitName]:
    """Return the candidates whose name key equals the query's, preferring agreeing kinds.

    >>> c = [UnitName("1", "Phường Tân Bình"), UnitName("2", "Thị trấn Tân Bình"),
    ...      UnitName("3", "Xã Quan Thành")]
    >>> def codes(q, **kw): return [u.code for u in match_names(q, c, **kw)]
    >>> codes("tan binh"), codes("TT Tân Bình"), codes("Xã Tân Bình"), codes("Phường"), codes("")
    (['1', '2'], ['2'], ['1', '2'], [], [])
    >>> codes("Tân Bình", kind="p."), codes("Quan Thanh")  # plain "Quan" is not Quận after all
    (['1'], ['3'])
    """
    qkind, _, _ = _split(query)
    qkeys = _keys(query)
    if not qkeys[-1]:
        return []
    pool = [(c, _keys(c.name)) for c in candidates]
    found: list[UnitName] = []
    for qkey in qkeys:
        found = [c for c, keys in pool if keys[0] == qkey]
        if found:
            break
    if not found:
        found = [c for c, keys in pool if not set(qkeys).isdisjoint(keys)]
    want = _kind_fold(kind if kind is not None else qkind)
    if want and len(found) > 1:
        agree = [c for c in found if _kind_fold(c.kind or split_kind(c.name)[0]) == want]
        if agree:
            return agree
    return found


def _initials(key: str) -> str:
    return "".join(w[0] for w in key.split())


def parent_matches(hint: str, parent_code: str, parent_name: str) -> bool:
    """Tell whether *hint* names a parent: by code, by name, or by its initials ("TDM", "Tp.HCM").

    >>> parent_matches("TDM", "718", "Thành phố Thủ Dầu Một"), parent_matches("TP. HCM", "79", "Hồ Chí Minh")
    (True, True)
    >>> parent_matches("tx thu dau mot", "718", "Thành phố Thủ Dầu Một"), parent_matches("T", "7", "Tân An")
    (True, False)
    """
    hint = hint.strip()
    if hint == parent_code:
        return True
    hint_key, parent_key = name_key(hint), name_key(parent_name)
    if not hint_key:
        return False
    return hint_key == parent_key or (
        len(hint_key) > 1 and " " not in hint_key and " " in parent_key and hint_key == _initials(parent_key))


def named_units(hint: str, candidates: Iterable[UnitName]) -> list[UnitName]:
    """Return the candidates a name designates, else those it names by code or initials.

    >>> c = [UnitName("718", "Thành phố Thủ Dầu Một", "74"), UnitName("724", "Thành phố Dĩ An", "74")]
    >>> [u.code for u in named_units("TP. Thủ Dầu Một", c)], [u.code for u in named_units("TDM", c)]
    (['718'], ['718'])
    >>> [u.code for u in named_units("724", c)], named_units("Quận 7", c)
    (['724'], [])
    """
    candidates = list(candidates)
    return match_names(hint, candidates) or [
        c for c in candidates if parent_matches(hint, c.code, c.name)]


def disambiguate(
    matches: list[UnitName], parent_hint: str | None, parents: Mapping[str, str]
) -> list[UnitName]:
    """Keep the matches whose parent's name (or code, or initials) matches *parent_hint*, if any do.

    >>> m = [UnitName("25945", "Phường Tân Bình", "724"), UnitName("25900", "TT Tân Bình", "726")]
    >>> p = {"724": "Thành phố Dĩ An", "726": "Huyện Bắc Tân Uyên"}
    >>> [u.code for u in disambiguate(m, "TX. Dĩ An", p)], disambiguate(m, " ", p) == m
    (['25945'], True)
    >>> [u.code for u in disambiguate(m, "726", p)], disambiguate(m, "Thuận An", p) == m
    (['25900'], True)
    >>> [u.code for u in disambiguate(m, "BTU", p)]
    ['25900']
    """
    hint = (parent_hint or "").strip()
    if not name_key(hint):
        return list(matches)
    kept = [
        m
        for m in matches
        if m.parent_code is not None and parent_matches(hint, m.parent_code, parents.get(m.parent_code, ""))
    ]
    return kept or list(matches)


_QUALIFIER = re.compile(r"\s*[,;(/\u2013\u2014-]\s*")


def split_qualifiers(query: str) -> tuple[str, list[str]]:
    """Split a name from the places that qualify it, nearest first.

    >>> split_qualifiers("Hiệp Thành, Thủ Dầu Một"), split_qualifiers("Hiệp Thành - TDM")
    (('Hiệp Thành', ['Thủ Dầu Một']), ('Hiệp Thành', ['TDM']))
    >>> split_qualifiers("P. Hiệp Thành (TP.TDM), Bình Dương"), split_qualifiers("Dĩ An")
    (('P. Hiệp Thành', ['TP.TDM', 'Bình Dương']), ('Dĩ An', []))
    """
    parts = [p.strip(" )") for p in _QUALIFIER.split(query)]
    parts = [p for p in parts if fold(p)]
    return (parts[0], parts[1:]) if parts else (query, [])


def narrow_by_parent(
    query: str, candidates: list[UnitName], parent_hint: str, parents: Mapping[str, str]
) -> list[UnitName]:
    """Match *query* among the candidates under the parent *parent_hint* names.

    The parent narrows before the kind word does: a feed's "Xã" may be a "Phường" today.
    """
    by_parent = disambiguate(match_names(split_kind(query)[1], candidates), parent_hint, parents)
    return match_names(query, by_parent) or by_parent


def find_names(
    query: str, candidates: Iterable[UnitName], parents: Mapping[str, str], *,
    parent_hint: str | None = None,
) -> list[UnitName]:
    """Return the candidates *query* names, however it is written, best first.

    A query that matches nothing or several units as a whole is also read as a name qualified by
    its parent ("Hiệp Thành, Thủ Dầu Một", "Hiệp Thành - TDM", "Hiệp Thành (TDM)"); *parents*
    maps the candidates' parent codes to names.

    >>> c = [UnitName("1", "Phường Tân Bình", "724"), UnitName("2", "Thị trấn Tân Bình", "726")]
    >>> p = {"724": "Thành phố Dĩ An", "726": "Huyện Bắc Tân Uyên"}
    >>> [u.code for u in find_names("Tân Bình - BTU", c, p)], [u.code for u in find_names("tan binh", c, p)]
    (['2'], ['1', '2'])
    """
    candidates = list(candidates)
    matches = match_names(query, candidates)
    if parent_hint and len(matches) != 1:
        matches = narrow_by_parent(query, candidates, parent_hint, parents)
    if len(matches) == 1:
        return matches
    name, hints = split_qualifiers(query)
    for hint in hints:
        narrowed = narrow_by_parent(name, candidates, hint, parents)
        if narrowed and (not matches or len(narrowed) < len(matches)):
            return narrowed
    return matches
