"""Read Excel (XLSX, XLS) and OpenDocument workbooks with python-calamine, safely."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from python_calamine import (
    CalamineSheet,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from ingest.errors import FeedError
from ingest.readers.cells import fold, nfc
from ingest.readers.header import HeaderHint
from ingest.readers.table import Limits, Table, build_table, check_row

OLE_MAGIC = b"\xd0\xcf\x11\xe0"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_SCAN_CHUNK = 1 << 20
_MAX_ZIP_MEMBERS = 10_000


def megabytes(size: float) -> tuple[str, str]:
    """Return a size in MB formatted the Vietnamese way (decimal comma) and the English way.

    >>> megabytes(52_428_800)
    ('50,0 MB', '50.0 MB')
    """
    en = f"{size / (1024 * 1024):.1f} MB"
    return en.replace(".", ","), en


def corrupt(detail: object) -> FeedError:
    """Return the error for a workbook calamine cannot read."""
    return FeedError(
        "corrupt_file",
        f"Tệp bảng tính bị hỏng hoặc không đầy đủ, không đọc được ({detail}). "
        "Hãy mở tệp bằng Excel, lưu lại rồi gửi lại.",
        f"The spreadsheet is corrupt or truncated and cannot be read ({detail}). "
        "Open it in Excel, save it again and re-upload it.",
    )


def encrypted() -> FeedError:
    """Return the error for a password-protected workbook."""
    return FeedError(
        "encrypted_file",
        "Tệp Excel đang được đặt mật khẩu (mã hóa), hệ thống không đọc được. Hãy gỡ mật khẩu rồi gửi lại.",
        "The Excel file is password-protected (encrypted) and cannot be read. "
        "Remove the password and upload it again.",
    )


def check_ole(path: Path) -> None:
    """Raise ``encrypted_file`` if an OLE2 file holds an ``EncryptionInfo`` stream."""
    overlap = len(_ENCRYPTION_INFO) - 1
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(_SCAN_CHUNK):
            if _ENCRYPTION_INFO in tail + chunk:
                raise encrypted()
            tail = chunk[-overlap:]


def check_zip(path: Path, limits: Limits) -> str:
    """Vet a zip container before calamine opens it; return "xlsx" or "ods"."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            mimetype = b""
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 200:
                mimetype = archive.read("mimetype")
    except Exception as exc:  # zipfile raises several types for damaged archives
        raise corrupt(exc) from exc
    total = sum(info.file_size for info in infos)
    suspicious = [
        info
        for info in infos
        if info.file_size >= limits.zip_ratio_min_bytes
        and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1)
    ]
    if len(infos) > _MAX_ZIP_MEMBERS or total > limits.max_unzipped_bytes or suspicious:
        vi_total, en_total = megabytes(total)
        vi_cap, en_cap = megabytes(limits.max_unzipped_bytes)
        raise FeedError(
            "zip_bomb",
            f"Tệp nén giải nén ra tới {vi_total} ({len(infos)} thành phần; giới hạn {vi_cap}, "
            f"tỉ lệ nén tối đa {limits.max_zip_ratio:g}), nghi là tệp độc hại (zip bomb) "
            "nên không mở.",
            f"The archive would expand to {en_total} ({len(infos)} members; limit {en_cap}, "
            f"maximum compression ratio {limits.max_zip_ratio:g}); refusing to open a "
            "likely zip bomb.",
        )
    if any(name.startswith("xl/") for name in names):
        return "xlsx"
    if "content.xml" in names and mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return "ods"
    raise FeedError(
        "unsupported_format",
        "Tệp là tệp nén ZIP nhưng không phải bảng tính Excel (.xlsx) hay OpenDocument (.ods).",
        "The file is a ZIP archive but not an Excel (.xlsx) or OpenDocument (.ods) workbook.",
    )


def _open(path: Path) -> CalamineWorkbook:
    """Open a workbook, turning calamine's errors into feed errors."""
    try:
        return CalamineWorkbook.from_path(str(path))
    except PasswordError as exc:
        raise encrypted() from exc
    except Exception as exc:  # calamine raises CalamineError subclasses, ValueError, …
        raise corrupt(exc) from exc


def _select(workbook: CalamineWorkbook, sheet: str | int | None) -> list[int]:
    """Return the indexes of the sheets to read (visible worksheets by default)."""
    names = workbook.sheet_names
    if sheet is None:
        return [
            i
            for i, meta in enumerate(workbook.sheets_metadata)
            if meta.typ == SheetTypeEnum.WorkSheet and meta.visible == SheetVisibleEnum.Visible
        ]
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if 0 <= sheet < len(names):
            return [sheet]
    elif isinstance(sheet, str):
        for key in (lambda s: s, lambda s: fold(nfc(s))):
            matches = [i for i, name in enumerate(names) if key(name) == key(sheet)]
            if matches:
                return matches[:1]
    listing = ", ".join(f"“{name}”" for name in names)
    raise FeedError(
        "unknown_sheet",
        f"Không có trang tính “{sheet}”. Các trang tính trong tệp: {listing}.",
        f'No sheet "{sheet}" in the workbook. Its sheets are: {listing}.',
    )


def _cell(value: Any) -> Any:
    """Return a calamine value as a feed value: '' -> None, integral float -> int, NFC text."""
    if isinstance(value, str):
        return nfc(value) if value else None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _records(sheet: CalamineSheet, limits: Limits) -> Iterator[tuple[int, list[Any]]]:
    """Yield ``(row_number, cells)`` for every row of a sheet, enforcing the size limits."""
    start, end = sheet.start, sheet.end
    if start is None or end is None:
        return
    row_offset = col_offset = 0
    try:
        rows = sheet.iter_rows()
        for index, raw in enumerate(rows):
            if index == 0:
                # iter_rows() pads rows above the data but not columns left of it; check both
                # so row numbers and column letters are always those shown by Excel.
                if start[0] > 0 and any(v != "" for v in raw):
                    row_offset = start[0]
                if start[1] > 0 and len(raw) == end[1] - start[1] + 1:
                    col_offset = start[1]
            cells = [None] * col_offset + [_cell(v) for v in raw]
            while cells and cells[-1] is None:
                cells.pop()
            number = index + 1 + row_offset
            check_row(cells, sheet.name, number, limits)
            yield number, cells
    except FeedError:
        raise
    except Exception as exc:
        raise corrupt(exc) from exc


def excel_tables(
    path: Path,
    *,
    sheet: str | int | None,
    header_hint: HeaderHint | None,
    limits: Limits,
) -> Iterator[Table]:
    """Open a workbook and return an iterator over the tables of the chosen sheets."""
    workbook = _open(path)
    try:
        indexes = _select(workbook, sheet)
    except Exception:
        workbook.close()
        raise
    return _tables(workbook, indexes, sheet is not None, header_hint, limits)


def _tables(
    workbook: CalamineWorkbook,
    indexes: list[int],
    explicit: bool,
    header_hint: HeaderHint | None,
    limits: Limits,
) -> Iterator[Table]:
    """Yield one table per sheet; without an explicit sheet, skip empty/header-less sheets."""
    found = False
    problems: list[FeedError] = []
    for index in indexes:
        try:
            sheet = workbook.get_sheet_by_index(index)
            merges = sheet.merged_cell_ranges
        except PasswordError as exc:
            raise encrypted() from exc
        except Exception as exc:
            raise corrupt(exc) from exc
        try:
            table = build_table(
                _records(sheet, limits), sheet=sheet.name, merges=merges, header_hint=header_hint
            )
        except FeedError as exc:
            if explicit or exc.code not in ("empty_file", "no_header"):
                raise
            problems.append(exc)
            continue
        found = True
        yield table
    if not found:
        headerless = [p for p in problems if p.code == "no_header"]
        if len(headerless) == 1:
            raise headerless[0]
        if headerless:
            raise FeedError(
                "no_header",
                "Không tìm thấy dòng tiêu đề cột ở trang tính nào trong tệp.",
                "No column header row was found on any sheet of the workbook.",
            )
        raise FeedError(
            "empty_file",
            "Tệp Excel không có trang tính nào chứa dữ liệu.",
            "The workbook has no sheet with data.",
        )
