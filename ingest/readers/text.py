"""Read delimited text feeds (CSV, TSV, TXT): encoding detection, delimiter sniffing, streaming.

Encoding rule, judged on the first 64 KB (plus, when those are pure ASCII, the first later
chunk holding non-ASCII bytes):

1. a byte-order mark decides: UTF-8, UTF-32 or UTF-16 (LE/BE);
2. UTF-16 without a BOM is recognised by NUL bytes at every other position;
3. any other NUL byte means the file is binary -> ``not_a_table``;
4. bytes that decode as UTF-8 are UTF-8;
5. otherwise, if Windows-1258 yields Vietnamese (tone marks combining onto vowels, or ă/đ/ơ/ư,
   making up at least a quarter of the non-ASCII characters) the file is Windows-1258
   (charset-normalizer tends to call short Vietnamese cp1258 text cp1252 or cp1250);
6. otherwise charset-normalizer's best guess; none -> ``not_a_table``.

The file is then streamed through :class:`io.TextIOWrapper` and :mod:`csv`; every field is
normalised to NFC (cp1258 stores tone marks as separate combining characters).  Row numbers are
CSV record numbers, i.e. the row a spreadsheet shows (a quoted field spanning lines is one row).
"""

from __future__ import annotations

import codecs
import collections
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from charset_normalizer import from_bytes

from ingest.errors import FeedError
from ingest.readers.header import HeaderHint
from ingest.readers.table import Limits, Table, build_table, cell_too_large, check_row

SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
SNIFF_LINES = 50

_TONE_AFTER = re.compile("(.)[\u0300\u0301\u0303\u0309\u0323]", re.DOTALL)
_VOWELS = frozenset("aăâeêioôơuưyAĂÂEÊIOÔƠUƯY")
_VIET_LETTERS = "ăđơưĂĐƠƯ"
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NON_ASCII_BYTE = re.compile(rb"[\x80-\xff]")


def not_a_table(reason_vi: str, reason_en: str) -> FeedError:
    """Return the error for a text file that is not a delimited table."""
    return FeedError(
        "not_a_table",
        f"Tệp không phải bảng dữ liệu dạng văn bản (CSV): {reason_vi}.",
        f"The file is not a delimited text table (CSV): {reason_en}.",
    )


def looks_vietnamese_cp1258(data: bytes) -> bool:
    """Tell whether ``data`` decoded as Windows-1258 reads as Vietnamese.

    >>> looks_vietnamese_cp1258("Mã chốt,Đang hoạt động".encode("utf-8"))
    False
    >>> looks_vietnamese_cp1258(b"Ma\\xde cho\\xf4\\xect,\\xd0ang hoa\\xf2t \\xf0o\\xf4\\xf2ng")
    True
    """
    try:
        text = data.decode("cp1258")
    except UnicodeDecodeError:
        return False
    good = bad = 0
    for match in _TONE_AFTER.finditer(text):
        if match.group(1) in _VOWELS:
            good += 1
        else:
            bad += 1
    strong = good + sum(text.count(ch) for ch in _VIET_LETTERS)
    non_ascii = len(_NON_ASCII.findall(text))
    return strong >= 2 and bad * 4 <= good + 1 and strong * 4 >= non_ascii


def _utf8_ok(data: bytes, final: bool) -> bool:
    """Tell whether ``data`` is valid UTF-8 (allowing a cut sequence at the end unless final)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final)
    except UnicodeDecodeError:
        return False
    return True


def _utf16_without_bom(head: bytes) -> str | None:
    """Return "utf-16-le"/"utf-16-be" when NULs sit at every other byte, else None."""
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    zeros_even, zeros_odd = even.count(0), odd.count(0)
    if zeros_odd > 0.3 * len(odd) and zeros_even <= 0.02 * len(even):
        return "utf-16-le"
    if zeros_even > 0.3 * len(even) and zeros_odd <= 0.02 * len(odd):
        return "utf-16-be"
    return None


def detect_encoding(head: bytes, extra: bytes = b"", at_eof: bool = True) -> str:
    """Return the codec name of a text feed from its first bytes.

    >>> detect_encoding(b"\\xef\\xbb\\xbfSTT;T\\xc3\\xaan")
    'utf-8-sig'
    >>> detect_encoding("Mã chốt".encode("utf-16"))
    'utf-16'
    >>> detect_encoding(b"Ma\\xde cho\\xf4\\xect,T\\xean cho\\xf4\\xect")
    'cp1258'
    """
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    guess = _utf16_without_bom(head)
    if guess:
        return guess
    if b"\x00" in head or b"\x00" in extra:
        raise not_a_table("có byte NUL (dữ liệu nhị phân)", "it contains NUL bytes (binary data)")
    if _utf8_ok(head, at_eof and not extra) and _utf8_ok(extra, at_eof):
        return "utf-8"
    data = head + extra
    if looks_vietnamese_cp1258(data):
        return "cp1258"
    best = from_bytes(data).best()
    if best is None:
        raise not_a_table(
            "không nhận ra bảng mã ký tự (có thể là tệp nhị phân)",
            "no text encoding fits (it is probably binary)",
        )
    return best.encoding


def _field_counts(sample: str, delimiter: str) -> tuple[float, int]:
    """Return (share of rows with the most common field count, that count) for a delimiter."""
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter, quotechar='"')
    try:
        counts = [len(row) for row in reader if any(f.strip() for f in row)]
    except csv.Error:
        return 0.0, 0
    if not counts:
        return 0.0, 0
    mode, hits = collections.Counter(counts).most_common(1)[0]
    if mode < 2:
        return 0.0, 0
    return round(hits / len(counts), 3), mode


def sniff_delimiter(sample: str) -> str:
    """Return the delimiter of a text table among , ; tab and | (default ",").

    csv.Sniffer's guess is kept only when it is as consistent as the best quote-aware count of
    fields per line; otherwise the most consistent delimiter (then the one giving most fields)
    wins, so decimal commas in a ";" file do not fool it.

    >>> sniff_delimiter("STT;Tên;Vĩ độ\\n1;A;11,021671\\n2;B;10,973051\\n")
    ';'
    >>> sniff_delimiter('a,b,c\\n1,"x;y",2\\n')
    ','
    >>> sniff_delimiter("Mã\\tTên\\n1\\tA\\n")
    '\\t'
    """
    lines = sample.splitlines(keepends=True)[:SNIFF_LINES]
    sample = "".join(lines)
    scores = {d: _field_counts(sample, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: scores[d])
    if scores[best][1] < 2:
        return ","
    try:
        guess = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        guess = None
    if guess in scores and scores[guess] == scores[best]:
        return guess
    return best


def _read_sample(raw: BinaryIO) -> tuple[bytes, bytes, bool]:
    """Read the first 64 KB, plus the first later non-ASCII chunk if those are pure ASCII."""
    head = raw.read(SAMPLE_BYTES)
    extra = b""
    at_eof = len(head) < SAMPLE_BYTES
    if not at_eof and head.isascii():
        while chunk := raw.read(SAMPLE_BYTES):
            found = _NON_ASCII_BYTE.search(chunk)
            if found:
                following = raw.read(SAMPLE_BYTES)
                extra = chunk[max(0, found.start() - 1024) :] + following
                at_eof = len(following) < SAMPLE_BYTES
                break
        else:
            at_eof = True
    raw.seek(0)
    return head, extra, at_eof


def _check_text(text: str) -> None:
    """Reject decoded text that is binary, or an HTML/XML page passed off as a table."""
    if "\x00" in text:
        raise not_a_table("có ký tự NUL (dữ liệu nhị phân)", "it contains NUL characters")
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f")
    if controls > max(2, len(text) // 100):
        raise not_a_table("có nhiều ký tự điều khiển (dữ liệu nhị phân)", "it is binary data")
    start = text.lstrip()[:2048].lower()
    if start.startswith("<") and any(t in start for t in ("<html", "<table", "<?xml", "<!doc")):
        raise FeedError(
            "unsupported_format",
            "Tệp là trang HTML/XML chứ không phải bảng tính hay CSV thật. "
            "Hãy mở bằng Excel và lưu lại dưới dạng .xlsx.",
            "The file is an HTML/XML page, not a real spreadsheet or CSV. "
            "Open it in Excel and save it as .xlsx.",
        )


def _nfc_fields(fields: list[str], number: int) -> list[str]:
    """Return the fields in NFC, normalising the row in one call; refuse a field holding a NUL.

    NUL composes with nothing, so normalisation never reaches across it.
    """
    line = "\x00".join(fields)
    if line.count("\x00") > max(len(fields) - 1, 0):
        raise not_a_table(f"dòng {number} có ký tự NUL (dữ liệu nhị phân)",
                          f"row {number} contains NUL characters (binary data)")
    if line.isascii():
        return fields
    return unicodedata.normalize("NFC", line).split("\x00")


def _records(
    stream: io.TextIOWrapper, delimiter: str, encoding: str, limits: Limits
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(row_number, fields)`` from the stream, enforcing the limits; close it at the end."""
    reader = csv.reader(stream, delimiter=delimiter, quotechar='"', doublequote=True)
    number = 0
    try:
        for fields in reader:
            number += 1
            cells = _nfc_fields(fields, number)
            while cells and not cells[-1]:
                cells.pop()
            if len(cells) > limits.max_columns or sum(map(len, cells)) > limits.max_cell_chars:
                check_row(cells, None, number, limits)
            yield number, cells
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise cell_too_large(None, number + 1, None, limits) from exc
        raise not_a_table(f"lỗi định dạng CSV ở dòng {number + 1}", f"{exc}") from exc
    except UnicodeDecodeError as exc:
        raise FeedError(
            "encoding_error",
            f"Không giải mã được tệp theo bảng mã {encoding} (gần dòng {number + 1}). "
            "Hãy lưu lại tệp dưới dạng “CSV UTF-8”.",
            f'Cannot decode the file as {encoding} (near row {number + 1}). Save it again as "CSV UTF-8".',
        ) from exc
    finally:
        stream.close()


def text_tables(path: Path, *, header_hint: HeaderHint | None, limits: Limits) -> Iterator[Table]:
    """Detect encoding and delimiter, find the header, and return the file's single table."""
    raw = path.open("rb")
    try:
        head, extra, at_eof = _read_sample(raw)
        encoding = detect_encoding(head, extra, at_eof)
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        cut = len(head) == SAMPLE_BYTES
        sample = decoder.decode(head, final=not cut)
        _check_text(sample)
        if cut:  # drop the last, possibly incomplete, line
            sample = sample[: max(sample.rfind("\n"), 0)] or sample
        delimiter = sniff_delimiter(sample)
        stream = io.TextIOWrapper(raw, encoding=encoding, newline="")
    except BaseException:
        raw.close()
        raise
    try:
        table = build_table(
            _records(stream, delimiter, encoding, limits),
            sheet=None,
            header_hint=header_hint,
            missing="",
            encoding=encoding,
            delimiter=delimiter,
        )
    except BaseException:
        stream.close()
        raise
    return iter([table])
