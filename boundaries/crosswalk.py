"""Load an old→new conversion table of units (the 2025 reform's) into ``crosswalk``.

Two formats: the GSO conversion table as published (``gso``: a CSV with two header rows, province
banner rows, names like "Tỉnh Nghệ An (40)" carrying their code, notes such as "Nhập toàn bộ" /
"Nhập một phần") and the dvhcvn project's ``merges.json`` (``dvhcvn``: new unit → old units, each
``full`` or ``partial``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from boundaries.load import BoundaryError
from boundaries.names import fold
from epimap.db import Bind, session_scope

FORMATS = ("gso", "dvhcvn")
COMMUNE_CODE_DIGITS = 5

# The GSO table's second header row, folded, and the field each column holds.
GSO_HEADERS = {
    "tinh thanh pho": "new_parent", "ten xa moi": "new_name", "ma xa moi": "new_code",
    "ten xa cu": "old_name", "ma xa cu": "old_code", "ghi chu": "note",
    "quan huyen": "old_district", "tinh cu": "old_province",
}
NEW_SIDE = ("new_parent", "new_name", "new_code")


@dataclass(frozen=True)
class CrosswalkRow:
    """One old unit going (wholly or in part) into one new unit."""

    old_code: str
    old_name: str
    old_parent_name: str | None
    new_code: str
    new_name: str
    new_parent_name: str | None
    whole: bool
    note: str | None = None


@dataclass(frozen=True)
class CrosswalkLoad:
    """What a load did: rows stored, new units covered, lines skipped and why."""

    rows: int
    new_units: int
    skipped: list[str]


def split_code(value: str) -> tuple[str, str | None]:
    """Split a GSO cell such as "Thành phố Hà Nội (01)" into its name and code.

    >>> split_code("Thành phố Hà Nội (01)"), split_code(" Quận Ba Đình (001) "), split_code("Huế")
    (('Thành phố Hà Nội', '01'), ('Quận Ba Đình', '001'), ('Huế', None))
    """
    value = clean(value)
    found = re.fullmatch(r"(.*?)\s*\((\d+)\)", value)
    return (found[1], found[2]) if found else (value, None)


def clean(value: str | None) -> str:
    """Collapse a cell's whitespace, line breaks included.

    >>> clean(" Phường Thủ Dầu Một\\n"), clean(None)
    ('Phường Thủ Dầu Một', '')
    """
    return " ".join((value or "").split())


def commune_code(value: str | None) -> str | None:
    """Return a commune code as GSO writes it (5 digits), also when a spreadsheet dropped the zeros.

    >>> [commune_code(v) for v in ("4", "00004", "25747.0", " ", "x1")]
    ['00004', '00004', '25747', None, None]
    """
    value = clean(value)
    if re.fullmatch(r"\d+\.0", value):
        value = value[:-2]
    if not value.isdigit():
        return None
    return value.zfill(COMMUNE_CODE_DIGITS)


def is_whole(note: str) -> bool:
    """Tell from a GSO note whether the whole old unit went into the new one.

    >>> [is_whole(n) for n in ("Nhập toàn bộ", "Giữ nguyên ", "Nhâp một phần diện tích", "Nhập một  phần",
    ...  "Phần còn lại sau khi tách một phần vào xã Canh Vinh", "Đổi tên")]
    [True, True, False, False, False, True]
    """
    folded = fold(note)
    return not ("mot phan" in folded or "phan con lai" in folded)


def read_gso(path: Path) -> tuple[list[CrosswalkRow], list[str]]:
    """Read the GSO conversion table; return its rows and the lines skipped, with the reason."""
    lines = list(csv.reader(io.StringIO(_text(path))))
    columns, start = _gso_columns(lines, path)
    rows, skipped, carried = [], [], dict.fromkeys(NEW_SIDE, "")
    for number, line in enumerate(lines[start:], start=start + 1):
        cells = {field: (line[i] if i < len(line) else "") for field, i in columns.items()}
        if not any(clean(cells[f]) for f in ("old_name", "old_code", "note")):
            continue  # a province banner ("NGHỆ AN", "Tỉnh Bắc Ninh (24)") or a blank line
        for field in NEW_SIDE:  # a merged cell, exported blank under its first row
            cells[field] = cells[field] if clean(cells[field]) else carried[field]
            carried[field] = cells[field]
        row = _gso_row(cells)
        if row is None:
            skipped.append(f"row {number}: no code for {clean(cells['old_name']) or '?'}"
                           f" → {clean(cells['new_name']) or '?'}")
        else:
            rows.append(row)
    return rows, skipped


def _text(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BoundaryError(f"{path.name} is neither UTF-8 nor Windows-1258 text")


def _gso_columns(lines: list[list[str]], path: Path) -> tuple[dict[str, int], int]:
    """Find the header row naming the columns; return each field's column and the first data line."""
    for number, line in enumerate(lines[:10]):
        found = {GSO_HEADERS[fold(cell)]: i for i, cell in enumerate(line) if fold(cell) in GSO_HEADERS}
        if "new_code" in found and "old_code" in found:
            missing = set(GSO_HEADERS.values()) - found.keys()
            if missing & {"new_name", "old_name", "note"}:
                lacking = ", ".join(sorted(missing))
                raise BoundaryError(f"{path.name}: header row {number + 1} lacks {lacking}")
            return found, number + 1
    raise BoundaryError(f"{path.name}: no header row with “Mã Xã mới” and “Mã Xã cũ” in the first 10 lines")


def _gso_row(cells: dict[str, str]) -> CrosswalkRow | None:
    """Build a row; an old district made whole into a special zone stands for itself."""
    note = clean(cells["note"])
    old_name, old_code = clean(cells["old_name"]), commune_code(cells["old_code"])
    district, district_code = split_code(cells.get("old_district", ""))
    if old_code is None and not old_name and district_code and "toan bo" in fold(note):
        old_name, old_code = district, district_code  # "Sắp xếp toàn bộ huyện Côn Đảo thành đặc khu"
    new_code = commune_code(cells["new_code"])
    if old_code is None or new_code is None:
        return None
    province = split_code(cells.get("old_province", ""))[0]
    return CrosswalkRow(
        old_code=old_code, old_name=old_name,
        old_parent_name=", ".join(p for p in (district if old_name != district else "", province) if p)
        or None,
        new_code=new_code, new_name=clean(cells["new_name"]),
        new_parent_name=split_code(cells["new_parent"])[0] or None,
        whole=is_whole(note), note=note or None)


def read_dvhcvn(path: Path) -> tuple[list[CrosswalkRow], list[str]]:
    """Read dvhcvn's ``merges.json`` (new unit → old units, full or partial): its commune rows."""
    try:
        provinces = json.loads(_text(path))["data"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BoundaryError(f"{path.name} is not dvhcvn's merges JSON (an object with “data”)") from exc
    if provinces and "level2s" not in provinces[0]:
        raise BoundaryError(f"{path.name} has no “level2s”: load the merges (new → old) file, not the splits")
    rows, skipped = [], []
    for province in provinces:
        for unit in province.get("level2s", []):
            for old in unit.get("merges", []):
                old_code, new_code = commune_code(old.get("old_id")), commune_code(unit.get("level2_id"))
                if old_code is None or new_code is None:
                    skipped.append(f"{unit.get('name')}: no code for {old.get('name')}")
                    continue
                rows.append(CrosswalkRow(old_code, clean(old.get("name")), None, new_code,
                                         clean(unit.get("name")), clean(province.get("name")) or None,
                                         whole=old.get("type") == "full", note=old.get("type")))
    return rows, skipped


def unique_pairs(rows: list[CrosswalkRow]) -> list[CrosswalkRow]:
    """Keep one row per (old, new) pair; a pair listed as both whole and part is a part."""
    pairs: dict[tuple[str, str], CrosswalkRow] = {}
    for row in rows:
        seen = pairs.get((row.old_code, row.new_code))
        pairs[(row.old_code, row.new_code)] = row if seen is None or seen.whole else seen
    return list(pairs.values())


READERS = {"gso": read_gso, "dvhcvn": read_dvhcvn}


def guess_format(path: Path) -> str:
    """Return the format a file's name suggests: JSON is dvhcvn's, anything else the GSO table."""
    return "dvhcvn" if path.suffix.lower() == ".json" else "gso"


_INSERT = text(
    """
    INSERT INTO crosswalk (old_set, old_code, old_name, old_parent_name, new_set, new_code, new_name,
        new_parent_name, whole, note, source)
    VALUES (:old_set, :old_code, :old_name, :old_parent_name, :new_set, :new_code, :new_name,
        :new_parent_name, :whole, :note, :source)
    """
)


def load_crosswalk(bind: Bind, path: Path, *, old_set: str, new_set: str,
                   fmt: str | None = None) -> CrosswalkLoad:
    """Replace the crosswalk rows of the new units a file lists, between two boundary sets."""
    path = Path(path)
    fmt = fmt or guess_format(path)
    if fmt not in READERS:
        raise BoundaryError(f"unknown crosswalk format {fmt}; known: {', '.join(FORMATS)}")
    rows, skipped = READERS[fmt](path)
    rows = unique_pairs(rows)
    if not rows:
        raise BoundaryError(f"{path.name} has no old → new rows with codes")
    new_codes = sorted({r.new_code for r in rows})
    with session_scope(bind) as session:
        session.execute(text("DELETE FROM crosswalk WHERE old_set = :o AND new_set = :n"
                             " AND new_code = ANY(:codes)"), {"o": old_set, "n": new_set, "codes": new_codes})
        session.execute(_INSERT, [{**r.__dict__, "old_set": old_set, "new_set": new_set,
                                   "source": path.name} for r in rows])
    return CrosswalkLoad(len(rows), len(new_codes), skipped)
