"""Read CDC feed files (Excel workbooks or delimited text) into header-keyed rows.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "chot.csv"
>>> _ = path.write_text("Mã chốt;Tên chốt\\nCKS-001;Chốt An Điền\\nTổng cộng;1\\n", "utf-8-sig")
>>> [table] = read_tables(path)
>>> table.header_row, table.headers, table.encoding, table.delimiter
(1, ['Mã chốt', 'Tên chốt'], 'utf-8-sig', ';')
>>> [(row.number, row.cells) for row in table.rows]
[(2, {'Mã chốt': 'CKS-001', 'Tên chốt': 'Chốt An Điền'})]
>>> table.skipped
[(3, 'total')]

The format is judged by content, not by extension: a zip holding ``xl/`` is XLSX (an
OpenDocument zip is read too), an OLE2 file (``D0 CF 11 E0``) is XLS, anything else is text.

Errors are :class:`ingest.errors.FeedError` with these codes: ``file_too_large``,
``empty_file``, ``zip_bomb``, ``corrupt_file``, ``encrypted_file``, ``unsupported_format``,
``not_a_table``, ``encoding_error``, ``unknown_sheet``, ``no_header``, ``too_many_columns`` and
``cell_too_large``.  File-level checks run when :func:`read_tables` is called; problems found
in a sheet or a row are raised while iterating the tables or their rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ingest.errors import FeedError
from ingest.readers.excel import OLE_MAGIC, ZIP_MAGICS, check_ole, check_zip, excel_tables, megabytes
from ingest.readers.header import HEADER_SCAN_ROWS, HeaderHint
from ingest.readers.table import Limits, Row, Table
from ingest.readers.text import text_tables

__all__ = ["HEADER_SCAN_ROWS", "Limits", "Row", "Table", "read_tables"]

DEFAULT_LIMITS = Limits()
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
# Files people send by mistake, by their first bytes: what to call them in both languages.
_KNOWN_TYPES = (
    (b"%PDF", ("một tài liệu PDF", "a PDF document")),
    (b"\x89PNG", ("một ảnh PNG", "a PNG image")),
    (b"\xff\xd8\xff", ("một ảnh JPEG", "a JPEG image")),
    (b"GIF8", ("một ảnh GIF", "a GIF image")),
    (b"\x1f\x8b", ("một tệp nén gzip", "a gzip archive")),
    (b"Rar!", ("một tệp nén RAR", "a RAR archive")),
    (b"7z\xbc\xaf", ("một tệp nén 7-Zip", "a 7-Zip archive")),
)


TEXT_SUFFIXES = (".csv", ".tsv", ".txt")


def _expected(suffix: str) -> tuple[str, str]:
    """Return what a file's name says it is, in both languages.

    >>> _expected(".XLSX"), _expected(".csv"), _expected("")
    (('tệp Excel', 'an Excel file'), ('tệp CSV', 'a CSV file'), ('tệp Excel hay CSV', 'an Excel or CSV file'))
    """
    suffix = suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return "tệp Excel", "an Excel file"
    if suffix in TEXT_SUFFIXES:
        return "tệp CSV", "a CSV file"
    return "tệp Excel hay CSV", "an Excel or CSV file"


def _refuse_known_non_tables(path: Path, head: bytes, name: str | None = None) -> None:
    """Name what a file really is when it is no table: a PDF, an image, an archive, or binary data.

    A file named as a workbook that is neither OLE2 nor ZIP and holds NUL bytes is not one either.
    ``name`` is the file's name as sent (a stored upload's path has no suffix).
    """
    suffix = Path(name).suffix if name else path.suffix
    found = next((names for magic, names in _KNOWN_TYPES if head.startswith(magic)), None)
    workbook_name = suffix.lower() in EXCEL_SUFFIXES
    if found is None and workbook_name and head[:4] != OLE_MAGIC and head[:4] not in ZIP_MAGICS \
            and b"\x00" in head:
        found = ("dữ liệu nhị phân không nhận ra được", "unrecognised binary data")
    if found is None:
        return
    expected_vi, expected_en = _expected(suffix)
    raise FeedError("not_a_table",
                    f"Tệp này là {found[0]}, không phải {expected_vi}: không có bảng dữ liệu để đọc.",
                    f"This is {found[1]}, not {expected_en}: there is no data table to read.")


def read_tables(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    header_hint: HeaderHint | None = None,
    max_bytes: int | None = None,
    limits: Limits | None = None,
    name: str | None = None,
) -> Iterator[Table]:
    """Return the tables of a feed file: one per non-empty visible sheet, or one for text.

    ``sheet`` picks one sheet by name (case- and diacritic-insensitive) or 0-based index; it is
    ignored for text files.  Without it, hidden sheets and empty or header-less sheets are
    skipped.  ``header_hint`` scores candidate headers (the header names a row among the first
    30 would give, alone or combined with a sub-header row below); the best wins, and the
    built-in rule is used when every score is 0.  ``max_bytes`` overrides
    ``limits.max_bytes`` (default 50 MB).  ``name`` is the name the file was sent as, when the
    path's is not (a stored upload): errors say what the file was expected to be by it.
    """
    path = Path(path)
    limits = limits or DEFAULT_LIMITS
    cap = limits.max_bytes if max_bytes is None else max_bytes
    size = path.stat().st_size
    if size == 0:
        raise FeedError("empty_file", "Tệp rỗng, không có dữ liệu.", "The file is empty.")
    if size > cap:
        (vi_size, en_size), (vi_cap, en_cap) = megabytes(size), megabytes(cap)
        raise FeedError(
            "file_too_large",
            f"Tệp quá lớn ({vi_size}); giới hạn là {vi_cap}.",
            f"The file is too large ({en_size}); the limit is {en_cap}.",
        )
    with path.open("rb") as f:
        head = f.read(4096)
    magic = head[:4]
    _refuse_known_non_tables(path, head, name)
    if magic == OLE_MAGIC:
        check_ole(path)
        return excel_tables(path, sheet=sheet, header_hint=header_hint, limits=limits)
    if magic in ZIP_MAGICS:
        check_zip(path, limits)
        return excel_tables(path, sheet=sheet, header_hint=header_hint, limits=limits)
    return text_tables(path, header_hint=header_hint, limits=limits)
