"""Feed files written into tmp_path for the pipeline and CLI tests, and reads of the layer tables."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import text

from ingest.readers import read_tables
from tests.ingest.helpers import SAMPLES, expected

CHECKPOINTS = "chot_kiem_soat.csv"
ID, STATUS = "Mã chốt", "Trạng thái"


# --------------------------------------------------------------------------- reading samples


def sample_table(name: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Return the headers and the data rows of a sample feed (its first table)."""
    table = next(iter(read_tables(SAMPLES / name)))
    return list(table.headers), [dict(row.cells) for row in table.rows]


def checkpoint_rows(*ids: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Return the checkpoints sample's headers and rows (all, or the first row of each id given)."""
    headers, rows = sample_table(CHECKPOINTS)
    if ids:
        by_id = {}
        for row in rows:
            by_id.setdefault(row[ID], row)
        rows = [dict(by_id[i]) for i in ids]
    return headers, rows


def checkpoint(source_id: str, name: str, lat: float, lon: float, status: str = "Đang hoạt động") -> dict:
    """Return a new checkpoint row in the sample's columns."""
    return {ID: source_id, "Tên chốt": name, "Vị trí": f"Giao lộ {name}", "Kinh độ": str(lon),
            "Vĩ độ": str(lat), STATUS: status, "Đơn vị trực": "Công an"}


NEW_POINT = (10.980862, 106.651953)  # Phú Cường, Thủ Dầu Một (district 718)


def changed_checkpoints(path: Path) -> Path:
    """The checkpoints sample with CKS-004 reopened, CKS-010 and CKS-020 gone and CKS-026 new."""
    headers, rows = checkpoint_rows()
    for row in rows:
        if row[ID] == "CKS-004":
            row[STATUS] = "Đang hoạt động"
    rows = [r for r in rows if r[ID] not in ("CKS-010", "CKS-020")]
    rows.append(checkpoint("CKS-026", "Chốt Phú Cường", *NEW_POINT))
    return write_csv(path, headers, rows)


STATISTICS = "so_ca_theo_xa.xlsx"
# The sample's communes of Thành phố Thủ Dầu Một (district 718) in the demo's boundaries, by the names
# its rows give (the feed puts Phú Chánh in Tân Uyên, the 2011 polygons inside 718).
COMMUNES_718 = ("Tân An", "Phú Chánh", "Phú Thọ", "Hiệp Thành", "Phú Cường")


def statistics_feed(path: Path, *, changed: dict[tuple[str, str], float] | None = None,
                    new_day: tuple[str, float] | None = None,
                    communes: tuple[str, ...] | None = None) -> Path:
    """The statistics sample with values changed ({(commune, "dd/mm/yyyy"): value}), a day column
    added (every row given the same value) and only some communes' rows kept."""
    book = load_workbook(SAMPLES / STATISTICS, read_only=True)
    sheet = book.worksheets[0]
    header, *data = [list(row) for row in sheet.iter_rows(values_only=True)]
    title = sheet.title
    book.close()
    data = [row for row in data if communes is None or row[1] in communes]
    for (commune, day), value in (changed or {}).items():
        rows = [row for row in data if row[1] == commune]
        assert len(rows) == 1, commune
        rows[0][header.index(day)] = value
    if new_day:
        header.append(new_day[0])
        data = [[*row, new_day[1]] for row in data]
    return write_xlsx(path, [(title, [header, *data])])


# --------------------------------------------------------------------------- writing feeds


def write_csv(path: Path, headers: list[str], rows: list[dict[str, Any]] | list[list[Any]], *,
              encoding: str = "utf-8", delimiter: str = ",") -> Path:
    """Write a delimited text feed; rows are dicts keyed by header or plain lists."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers] if isinstance(row, dict) else row)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, sheets: list[tuple[str, list[list[Any]]]]) -> Path:
    """Write a workbook, one (title, rows) per sheet, every cell a value (never a formula)."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for line in rows:
            sheet.append(line)
    book.save(path)
    return path


def write_xls(path: Path, title: str, rows: list[list[Any]]) -> Path:
    """Write a legacy .xls workbook (BIFF8) with xlwt."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet(title)
    for r, line in enumerate(rows):
        for c, value in enumerate(line):
            if value is not None:
                sheet.write(r, c, value)
    book.save(str(path))
    return path


# --------------------------------------------------------------------------- testing sites


@dataclass(frozen=True)
class Site:
    """A real testing site of the xet_nghiem.xlsx sample with its expected commune."""

    row: int
    name: str
    address: str
    commune: str
    district: str
    phone: str
    lat: float | None
    lon: float | None
    unit_code: str


def sample_sites() -> list[Site]:
    """Return the sample's accepted testing sites (with coordinates first, then commune-only)."""
    truth = {r["row"]: r for r in expected("xet_nghiem.xlsx")["rows"]}
    table = next(iter(read_tables(SAMPLES / "xet_nghiem.xlsx")))
    sites = []
    for row in table.rows:
        want = truth.get(row.number)
        if not want or want["status"] != "accepted":
            continue
        cells = row.cells
        sites.append(Site(row.number, cells["Tên cơ sở xét nghiệm"], cells["Địa chỉ"],
                          cells["Xã/Phường/Thị trấn"], cells["Huyện/Thị xã/Thành phố"],
                          cells["Số điện thoại"], want.get("lat"), want.get("lon"), want["unit_code"]))
    return sites


SITES = [s for s in sample_sites() if s.lat is not None][:6]
COMMUNE_ONLY = next(s for s in sample_sites() if s.lat is None)


def dms(value: float, positive: str, negative: str) -> str:
    """Return an angle as degrees, minutes and seconds with the ′ and ″ symbols."""
    hemisphere = positive if value >= 0 else negative
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return f"{degrees}°{minutes:02d}′{seconds:05.2f}″{hemisphere}"


# --------------------------------------------------------------------------- hostile files


def zip_bomb(path: Path, megabytes: int = 300) -> Path:
    """Write a zip named like a workbook holding one member of zeros, streamed 1 MB at a time."""
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(chunk)
    return path


def encrypted_xlsx(path: Path) -> Path:
    """Write what Excel saves for a password-protected workbook: an OLE2 file with EncryptionInfo."""
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504)
                     + "EncryptionInfo".encode("utf-16-le") + bytes(2048))
    return path


SAMPLE_XLSX = SAMPLES / "xet_nghiem.xlsx"
BAD = {  # kind of unusable feed -> (layer it is offered as, expected error code)
    "empty": ("testing_sites", "empty_file"),
    "random_bytes_xlsx": ("testing_sites", "not_a_table"),  # judged by content: no zip, no OLE -> text
    "corrupt_zip_xlsx": ("testing_sites", "corrupt_file"),
    "truncated_xlsx": ("testing_sites", "corrupt_file"),
    "password": ("testing_sites", "encrypted_file"),
    "zip_bomb": ("testing_sites", "zip_bomb"),
    "10000_columns": ("testing_sites", "too_many_columns"),
    "10mb_cell": ("testing_sites", "cell_too_large"),
    "unknown_headers": ("testing_sites", "unknown_layout"),
    "wrong_layer": ("lockdown_zones", "wrong_layer"),  # a testing sites file: named as such
    "unknown_layer": ("no_such_layer", "unknown_layer"),
}


def _write_bad(folder: Path, kind: str) -> Path:
    if kind == "empty":
        return _bytes(folder / "rong.csv", b"")
    if kind == "random_bytes_xlsx":
        return _bytes(folder / "hong.xlsx", random.Random(7).randbytes(8192))
    if kind == "corrupt_zip_xlsx":
        return _bytes(folder / "hong_zip.xlsx", b"PK\x03\x04" + random.Random(8).randbytes(8192))
    if kind == "truncated_xlsx":
        data = SAMPLE_XLSX.read_bytes()
        return _bytes(folder / "cat_ngang.xlsx", data[: len(data) // 2])
    if kind == "password":
        return encrypted_xlsx(folder / "mat_khau.xlsx")
    if kind == "zip_bomb":
        return zip_bomb(folder / "bom.xlsx")
    if kind == "10000_columns":
        return write_csv(folder / "rong_ngang.csv", [f"c{i}" for i in range(10_000)], [["1"] * 10_000])
    if kind == "10mb_cell":
        rows = [["A", "10.98, 106.65", "ok"], ["B", "10.98, 106.65", "x" * 10_000_000]]
        return write_csv(folder / "o_lon.csv", ["Tên", "Tọa độ", "Ghi chú"], rows)
    if kind == "unknown_headers":
        return write_csv(folder / "la.csv", ["Foo", "Bar", "Baz"], [["1", "2", "3"], ["4", "5", "6"]])
    return SAMPLE_XLSX  # a good file offered as the wrong or an unknown layer


def bad_file(folder: Path, kind: str) -> tuple[Path, str, str]:
    """Write one kind of unusable feed into folder; return (path, layer, expected error code)."""
    return (_write_bad(folder, kind), *BAD[kind])


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- database reads


def layer_counts(conn, layer: str | None = None) -> dict[str, int]:
    """Count publications, feature rows (history included) and current features, of one or all layers."""
    return dict(conn.execute(text(
        "SELECT (SELECT count(*) FROM publication WHERE layer_id LIKE :l) AS publications,"
        " (SELECT count(*) FROM feature WHERE layer_id LIKE :l) AS rows,"
        " (SELECT count(*) FROM feature WHERE layer_id LIKE :l AND valid_to_pub IS NULL) AS current"),
        {"l": layer or "%"}).mappings().one())


def current_features(conn, layer: str) -> dict[str, dict[str, Any]]:
    """Return a layer's current features by source id: props, units, geometry (WKT), valid_from_pub."""
    rows = conn.execute(text(
        "SELECT source_id, props, units, ST_AsText(geom) AS wkt, valid_from_pub FROM feature"
        " WHERE layer_id = :l AND valid_to_pub IS NULL"), {"l": layer}).mappings()
    return {r["source_id"]: dict(r) for r in rows}


def publication(conn, publication_id: int) -> dict[str, Any]:
    """Return a publication row."""
    return dict(conn.execute(text("SELECT * FROM publication WHERE id = :p"),
                             {"p": publication_id}).mappings().one())


def latest_publication(conn, layer: str) -> int:
    """Return the id of a layer's latest publication."""
    return conn.execute(text("SELECT max(id) FROM publication WHERE layer_id = :l"),
                        {"l": layer}).scalar_one()
