"""ingest_feed end to end: publication and history, rollback, as_of, refusals, atomicity, bad input,
inert formulas, header and format variants, location checks and scopes — asserted on the tables."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from epimap.db import session_scope
from epimap.errors import Problem
from ingest.errors import FeedError
from ingest.report_export import report_csv, report_xlsx
from layers import versions
from layers.catalog import default_catalog
from layers.rollback import rollback
from layers.store import features
from tests.ingest.builders import (
    BAD,
    COMMUNE_ONLY,
    NEW_POINT,
    SITES,
    STATUS,
    bad_file,
    changed_checkpoints,
    checkpoint,
    checkpoint_rows,
    current_features,
    dms,
    latest_publication,
    layer_counts,
    publication,
    write_csv,
    write_xls,
    write_xlsx,
)
from tests.ingest.helpers import SAMPLES, run


def diff_of(report) -> tuple[int, int, int, int]:
    return report.diff.added, report.diff.changed, report.diff.removed, report.diff.unchanged


@pytest.fixture
def first_pub(connection) -> int:
    """The demo's publication of the checkpoints layer (the only one at test start)."""
    assert layer_counts(connection, "checkpoints")["publications"] == 1
    return latest_publication(connection, "checkpoints")


@pytest.fixture
def second_pub(connection, first_pub, tmp_path) -> int:
    report = run(connection, changed_checkpoints(tmp_path / "chot_moi.csv"), "checkpoints",
                 author="cdc-binhduong", note="cập nhật 15/8", legal_ref="QĐ 2145/QĐ-UBND")
    assert report.refused is None and report.publication is not None
    return report.publication


# --------------------------------------------------------------------------- 1. publication & history


def test_changed_feed_diff_history_and_publication_row(connection, first_pub, tmp_path):
    before = layer_counts(connection, "checkpoints")
    old = current_features(connection, "checkpoints")
    path = changed_checkpoints(tmp_path / "chot_moi.csv")
    report = run(connection, path, "checkpoints", author="cdc-binhduong", note="cập nhật 15/8",
                 legal_ref="QĐ 2145/QĐ-UBND")
    assert report.refused is None and report.publication is not None
    pub = report.publication
    assert (report.diff.added, report.diff.changed, report.diff.removed) == (1, 1, 2)
    assert report.diff.unchanged == len(old) - 3 == 22
    assert len(report.accepted) == 24 and [r.reason for r in report.rejected] == ["duplicate_id"]

    after = layer_counts(connection, "checkpoints")
    assert after["publications"] == before["publications"] + 1
    assert after["rows"] == before["rows"] + 2  # a new version of CKS-004 and CKS-026; nothing deleted
    assert after["current"] == before["current"] - 1
    closed = connection.execute(text(
        "SELECT source_id, props ->> 'status' FROM feature WHERE layer_id = 'checkpoints'"
        " AND valid_to_pub = :p ORDER BY source_id"), {"p": pub}).all()
    assert closed == [("CKS-004", "Đã giải tỏa"), ("CKS-010", "Đang hoạt động"),
                      ("CKS-020", "Đang hoạt động")]
    now = current_features(connection, "checkpoints")
    assert set(now) == set(old) - {"CKS-010", "CKS-020"} | {"CKS-026"}
    assert now["CKS-004"]["props"]["status"] == "Đang hoạt động" and now["CKS-004"]["valid_from_pub"] == pub
    assert now["CKS-026"]["valid_from_pub"] == pub and now["CKS-026"]["units"]["district"] == "718"
    assert all(now[i]["valid_from_pub"] == first_pub for i in now if i not in ("CKS-004", "CKS-026"))

    row = publication(connection, pub)
    assert row["layer_id"] == "checkpoints" and row["action"] == "ingest"
    assert row["author"] == "cdc-binhduong" and row["source_name"] == "chot_moi.csv"
    assert row["source_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == report.sha256
    assert [row[k] for k in ("added", "changed", "removed", "unchanged", "rejected")] == [1, 1, 2, 22, 1]
    assert row["note"] == "cập nhật 15/8" and row["legal_ref"] == "QĐ 2145/QĐ-UBND"
    assert (row["boundary_set"], row["scope_code"], row["scope_level"]) == ("vn2021", "74", "province")
    assert row["restores_publication"] is None


def test_same_feed_again_changes_nothing_but_is_recorded(connection, first_pub):
    before = current_features(connection, "checkpoints")
    report = run(connection, SAMPLES / "chot_kiem_soat.csv", "checkpoints")
    assert diff_of(report) == (0, 0, 0, 25)
    assert current_features(connection, "checkpoints") == before
    assert layer_counts(connection, "checkpoints")["publications"] == 2


# --------------------------------------------------------------------------- 2-3. rollback and as_of


def _snapshot(connection, as_of: int | None) -> dict:
    layer = default_catalog().layer("checkpoints")
    with session_scope(connection) as session:
        found = features(session, layer, as_of=as_of, public_only=False)
    return {f["source_id"]: (f["props"], f["geometry"], f["units"]) for f in found}


def test_as_of_returns_the_state_at_each_publication(connection, first_pub, second_pub):
    at_first, at_second, now = (_snapshot(connection, p) for p in (first_pub, second_pub, None))
    assert len(at_first) == 25 and {"CKS-010", "CKS-020"} <= set(at_first) and "CKS-026" not in at_first
    assert at_first["CKS-004"][0]["status"] == "Đã giải tỏa"
    assert len(at_second) == 24 and "CKS-010" not in at_second and "CKS-026" in at_second
    assert at_second["CKS-004"][0]["status"] == "Đang hoạt động"
    assert now == at_second
    assert _snapshot(connection, first_pub - 1) == {}  # before the layer's first publication


def test_rollback_publishes_the_old_state_as_a_new_publication(connection, first_pub, second_pub):
    at_first = _snapshot(connection, first_pub)
    rows_before = layer_counts(connection, "checkpoints")["rows"]
    layer = default_catalog().layer("checkpoints")
    new_id, change = rollback(connection, layer, first_pub, author="tester", note="sai số liệu")
    assert new_id > second_pub
    assert (change.added, change.changed, change.removed, change.unchanged) == (2, 1, 1, 22)
    assert _snapshot(connection, None) == at_first
    assert _snapshot(connection, second_pub)["CKS-026"]  # history of the undone publication is kept
    row = publication(connection, new_id)
    assert row["action"] == "rollback" and row["restores_publication"] == first_pub
    assert row["author"] == "tester" and row["note"] == "sai số liệu"
    assert (row["added"], row["changed"], row["removed"], row["unchanged"]) == (2, 1, 1, 22)
    counts = layer_counts(connection, "checkpoints")
    assert counts["publications"] == 3 and counts["rows"] == rows_before + 3 and counts["current"] == 25


def test_rollback_to_unknown_publication_is_a_feed_error(connection, first_pub):
    layer = default_catalog().layer("checkpoints")
    other = latest_publication(connection, "testing_sites")
    for bad in (10**9, other):
        with pytest.raises(Problem) as caught:
            rollback(connection, layer, bad, author="tester")
        assert caught.value.code == "unknown_publication"
    assert layer_counts(connection, "checkpoints")["publications"] == 1


# --------------------------------------------------------------------------- 4. dry run


def test_dry_run_reports_the_diff_and_changes_nothing(connection, first_pub, tmp_path):
    before, current = layer_counts(connection), current_features(connection, "checkpoints")
    report = run(connection, changed_checkpoints(tmp_path / "chot.csv"), "checkpoints", dry_run=True)
    assert report.dry_run and report.publication is None and report.refused is None
    assert diff_of(report) == (1, 1, 2, 22)
    assert report.accepted[0].unit_codes["province"] == "74"  # rows are located in a dry run too
    assert layer_counts(connection) == before
    assert current_features(connection, "checkpoints") == current


# --------------------------------------------------------------------------- 5. safety


def test_feed_removing_more_than_half_is_refused_unless_forced(connection, first_pub, tmp_path):
    headers, rows = checkpoint_rows()
    path = write_csv(tmp_path / "chot_it.csv", headers, rows[:10])
    before = layer_counts(connection)
    report = run(connection, path, "checkpoints")
    assert report.refused is not None and report.refused.code == "too_many_removed"
    assert report.refused.message_vi and report.refused.message_en
    assert report.publication is None and report.diff.removed == 15
    assert layer_counts(connection) == before
    forced = run(connection, path, "checkpoints", force=True)
    assert forced.refused is None and forced.publication is not None
    assert layer_counts(connection, "checkpoints")["current"] == 10
    assert publication(connection, forced.publication)["removed"] == 15


def test_removing_up_to_half_is_not_refused(connection, first_pub, tmp_path):
    headers, rows = checkpoint_rows()
    report = run(connection, write_csv(tmp_path / "chot.csv", headers, rows[:13]), "checkpoints")
    assert report.refused is None and report.diff.removed == 12 and report.publication is not None


def test_feed_without_accepted_rows_is_refused(connection, first_pub, tmp_path):
    headers, rows = checkpoint_rows()
    for row in rows:
        row["Kinh độ"] = row["Vĩ độ"] = "0"
    path = write_csv(tmp_path / "chot_0.csv", headers, rows)
    before = layer_counts(connection)
    report = run(connection, path, "checkpoints")
    assert not report.accepted and len(report.rejected) == len(rows)
    assert report.refused is not None and report.refused.code == "no_accepted_rows"
    assert layer_counts(connection) == before
    forced = run(connection, path, "checkpoints", force=True)
    assert forced.publication is not None and layer_counts(connection, "checkpoints")["current"] == 0


# --------------------------------------------------------------------------- 6. atomicity


def test_failure_after_the_publication_row_leaves_the_previous_publication(connection, first_pub,
                                                                          tmp_path, monkeypatch):
    before, current = layer_counts(connection), current_features(connection, "checkpoints")
    real, seen = versions.publish, []

    class FailingSession:
        """Pass statements through, but fail the INSERT of the new features."""

        def __init__(self, session):
            self._session = session

        def __getattr__(self, name):
            return getattr(self._session, name)

        def execute(self, statement, *args, **kwargs):
            sql = str(statement).lstrip()
            seen.append(sql.split(" (")[0])
            if sql.startswith("INSERT INTO feature"):
                raise RuntimeError("disk full")
            return self._session.execute(statement, *args, **kwargs)

    monkeypatch.setattr("ingest.pipeline.publish", lambda session, *a: real(FailingSession(session), *a))
    with pytest.raises(RuntimeError, match="disk full"):
        run(connection, changed_checkpoints(tmp_path / "chot.csv"), "checkpoints")
    assert seen[0].startswith("SELECT pg_advisory_xact_lock")  # the layer's publishing lock, then
    assert seen[1] == "INSERT INTO publication" and seen[-1] == "INSERT INTO feature"
    assert layer_counts(connection) == before
    assert current_features(connection, "checkpoints") == current


def test_feed_error_after_some_rows_publishes_nothing(connection, first_pub, tmp_path):
    headers, _ = checkpoint_rows()
    rows = [checkpoint(f"CKS-{n:04d}", f"Chốt số {n}", 11.0 + n / 10000, 106.65) for n in range(2, 600)]
    rows[500 - 2]["Vị trí"] = "x" * 40_000  # data row at CSV line 500
    path = write_csv(tmp_path / "chot_dai.csv", headers, rows)
    before = layer_counts(connection)
    with pytest.raises(FeedError) as caught:
        run(connection, path, "checkpoints", force=True)
    assert caught.value.code == "cell_too_large" and "500" in caught.value.message_en
    assert layer_counts(connection) == before
    assert connection.execute(text("SELECT to_regclass('ingest_staging')")).scalar() is None


# --------------------------------------------------------------------------- 7. bad input


@pytest.mark.parametrize("kind", BAD)
def test_bad_input_is_one_feed_error_and_publishes_nothing(connection, tmp_path, kind):
    path, layer, code = bad_file(tmp_path, kind)
    before = layer_counts(connection)
    with pytest.raises(FeedError) as caught:
        run(connection, path, layer)
    error = caught.value
    assert error.code == code, (error.code, error.message_en)
    assert error.message_vi and error.message_en and error.message_vi != error.message_en
    assert layer_counts(connection) == before


# --------------------------------------------------------------------------- 8. inert formulas and HTML

HOSTILE = {
    "link": '=HYPERLINK("http://evil","x")',
    "html": "<img src=x onerror=alert(1)>",
    "sum": "@SUM(A1)",
    "plus": "+cmd|' /C calc'!A0",
}


def test_formula_and_html_cells_are_stored_and_exported_as_text(connection, tmp_path):
    headers = ["Mã chốt", "Tên chốt", "Vị trí", "Loại", "Vĩ độ", "Kinh độ", "Đơn vị trực"]
    rows = [
        [HOSTILE["link"], HOSTILE["link"], HOSTILE["html"], "chốt", *map(str, NEW_POINT), HOSTILE["sum"]],
        [HOSTILE["sum"], HOSTILE["html"], HOSTILE["plus"], "=1+2", "11.100947", "106.644117", "-2+3"],
        [HOSTILE["link"], "Chốt trùng", "", "chốt", "11.0", "106.7", ""],  # duplicate id, rejected
    ]
    report = run(connection, write_csv(tmp_path / "doc.csv", headers, rows), "checkpoints", force=True)
    assert report.publication is not None and len(report.accepted) == 2
    stored = current_features(connection, "checkpoints")
    assert set(stored) == {HOSTILE["link"], HOSTILE["sum"]}
    first, second = stored[HOSTILE["link"]]["props"], stored[HOSTILE["sum"]]["props"]
    assert (first["name"], first["location"], first["staffed_by"]) == (HOSTILE["link"], HOSTILE["html"],
                                                                      HOSTILE["sum"])
    assert (second["name"], second["location"], second["kind"]) == (HOSTILE["html"], HOSTILE["plus"],
                                                                     "checkpoint")
    assert second["staffed_by"] == "-2+3"
    assert [w["code"] for w in report.accepted[1].warnings] == ["unknown_choice"]

    lines = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    cells = [c for line in lines for c in line]
    assert f"'{HOSTILE['link']}" in cells and f"'{HOSTILE['sum']}" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    book = load_workbook(io.BytesIO(report_xlsx(report)))
    values = []
    for sheet in book.worksheets:
        for line in sheet.iter_rows():
            for cell in line:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                values.append(cell.value)
    assert f"'{HOSTILE['link']}" in values and f"'{HOSTILE['sum']}" in values
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@")) for v in values)


# --------------------------------------------------------------------------- 9. family variants


def _site_rows(columns: list[str], sites=SITES) -> list[list]:
    values = {"name": lambda s: s.name, "address": lambda s: s.address, "commune": lambda s: s.commune,
              "district": lambda s: s.district, "phone": lambda s: s.phone, "lat": lambda s: s.lat,
              "lon": lambda s: s.lon, "latlon": lambda s: f"{s.lat}, {s.lon}",
              "lat_dms": lambda s: dms(s.lat, "N", "S"), "lon_dms": lambda s: dms(s.lon, "E", "W")}
    return [[values[c](s) if c in values else None for c in columns] for s in sites]


VI_SPLIT = (["STT", "Tên điểm", "Địa chỉ", "Phường/Xã", "Vĩ độ", "Kinh độ", "Điện thoại"],
            ["n", "name", "address", "commune", "lat", "lon", "phone"])
ASCII = (["Ten co so", "Dia chi", "Xa/Phuong", "Toa do"], ["name", "address", "commune", "latlon"])
ENGLISH = (["Name", "Address", "Latitude", "Longitude", "Commune"],
           ["name", "address", "lat", "lon", "commune"])
SHEET_A = (["Tên cơ sở xét nghiệm", "Địa chỉ", "Xã/Phường/Thị trấn", "Huyện/Thị xã/Thành phố", "Tọa độ"],
           ["name", "address", "commune", "district", "latlon"])


def _with_numbers(rows: list[list]) -> list[list]:
    return [[i + 1 if v is None and c == 0 else v for c, v in enumerate(r)] for i, r in enumerate(rows)]


def _variant(kind: str, tmp_path: Path) -> tuple[Path, dict, list]:
    """Return (file, extra options, expected sites in row order) for one family variant."""
    if kind == "other_words_xlsx":
        headers, columns = VI_SPLIT
        rows = _with_numbers(_site_rows(columns, [*SITES, COMMUNE_ONLY]))
        return write_xlsx(tmp_path / "a.xlsx", [("XN", [headers, *rows])]), {}, [*SITES, COMMUNE_ONLY]
    if kind == "no_diacritics_csv":
        headers, columns = ASCII
        return write_csv(tmp_path / "b.csv", headers, _site_rows(columns)), {}, SITES
    if kind in ("second_sheet_after_empty", "second_sheet_named"):
        headers, columns = SHEET_A
        first = [] if kind == "second_sheet_after_empty" else [
            ["Ghi chú: số liệu ở trang “Dữ liệu”."], ["Người lập: Phòng Nghiệp vụ Y"]]
        path = write_xlsx(tmp_path / "c.xlsx", [("Hướng dẫn", first),
                                                ("Dữ liệu", [headers, *_site_rows(columns)])])
        return path, ({} if kind == "second_sheet_after_empty" else {"sheet": "Dữ liệu"}), SITES
    if kind == "header_on_row_8":
        headers, columns = SHEET_A
        title = [["UBND TỈNH BÌNH DƯƠNG"], ["SỞ Y TẾ"], [], ["DANH SÁCH ĐIỂM XÉT NGHIỆM COVID-19"],
                 ["(Cập nhật đến 17 giờ ngày 15/8/2021)"], [], ["Đơn vị tính: điểm"]]
        path = write_xlsx(tmp_path / "d.xlsx", [("DS", [*title, headers, *_site_rows(columns)])])
        return path, {}, SITES
    if kind == "english_csv":
        headers, columns = ENGLISH
        return write_csv(tmp_path / "e.csv", headers, _site_rows(columns)), {}, SITES
    if kind == "swapped_lat_lon":
        headers, columns = VI_SPLIT
        rows = _with_numbers(_site_rows(columns))
        for row in rows[::2]:
            row[4], row[5] = row[5], row[4]
        return write_xlsx(tmp_path / "f.xlsx", [("XN", [headers, *rows])]), {}, SITES
    if kind == "dms_symbols":
        headers = ["Tên", "Xã", "Vĩ độ", "Kinh độ"]
        rows = _site_rows(["name", "commune", "lat_dms", "lon_dms"])
        return write_csv(tmp_path / "g.csv", headers, rows), {}, SITES
    if kind == "tsv":
        headers, columns = SHEET_A
        return write_csv(tmp_path / "h.tsv", headers, _site_rows(columns), delimiter="\t"), {}, SITES
    if kind == "utf16_csv":
        headers, columns = SHEET_A
        return write_csv(tmp_path / "h16.csv", headers, _site_rows(columns), encoding="utf-16"), {}, SITES
    if kind == "xls":
        headers, columns = VI_SPLIT
        rows = _with_numbers(_site_rows(columns))
        title = [["DANH SÁCH ĐIỂM XÉT NGHIỆM"], []]
        return write_xls(tmp_path / "i.xls", "Điểm XN", [*title, headers, *rows]), {}, SITES
    raise AssertionError(kind)


VARIANTS = ["other_words_xlsx", "no_diacritics_csv", "second_sheet_after_empty", "second_sheet_named",
            "header_on_row_8", "english_csv", "swapped_lat_lon", "dms_symbols", "tsv", "utf16_csv", "xls"]


@pytest.mark.parametrize("kind", VARIANTS)
def test_family_variants_ingest_without_code_changes(connection, tmp_path, kind):
    path, options, sites = _variant(kind, tmp_path)
    report = run(connection, path, "testing_sites", force=True, **options)
    assert report.refused is None and report.publication is not None
    assert not report.rejected, [(r.row, r.reason, r.message_en) for r in report.rejected]
    assert [r.unit_codes["commune"] for r in report.accepted] == [s.unit_code for s in sites]
    for got, site in zip(report.accepted, sites, strict=True):
        assert got.approximate == (site.lat is None)
        if site.lat is not None:
            assert (got.lat, got.lon) == pytest.approx((site.lat, site.lon), abs=2e-4)
    stored = current_features(connection, "testing_sites")
    assert sorted((f["props"]["name"], f["units"]["commune"]) for f in stored.values()) == sorted(
        (s.name, s.unit_code) for s in sites)
    if kind == "swapped_lat_lon":
        assert [[w["code"] for w in r.warnings if "lat" in w["code"]] for r in report.accepted] == [
            ["swapped_lat_lon"] if i % 2 == 0 else [] for i in range(len(sites))]
    if kind in ("other_words_xlsx", "xls"):
        phones = {f["props"]["name"]: f["props"]["phone"] for f in stored.values()}
        assert all(phones[s.name] for s in SITES)


def test_notes_sheet_before_the_data_needs_no_sheet_option(connection, tmp_path):
    path, _, sites = _variant("second_sheet_named", tmp_path)
    report = run(connection, path, "testing_sites", force=True)
    assert report.publication is not None and len(report.accepted) == len(sites)
    assert {r.sheet for r in report.rows} == {"Dữ liệu"}


# --------------------------------------------------------------------------- 11. location checks


def test_points_outside_the_province_at_sea_or_at_zero_are_rejected(connection, tmp_path):
    headers = ["Tên cơ sở", "Vĩ độ", "Kinh độ"]
    rows = [[SITES[0].name, SITES[0].lat, SITES[0].lon], ["Điểm 0,0", 0, 0], ["Điểm trên biển", 10.0, 109.5],
            ["Điểm Vũng Tàu", 10.346, 107.0843], ["Điểm Hà Nội", 21.0285, 105.8542]]
    report = run(connection, write_csv(tmp_path / "xa.csv", headers, rows), "testing_sites", dry_run=True)
    assert [(r.status, r.reason) for r in report.rows] == [
        ("accepted", None), ("rejected", "outside_vietnam"), ("rejected", "outside_province"),
        ("rejected", "outside_province"), ("rejected", "outside_province")]
    assert all(r.message_vi and r.message_en for r in report.rejected)


# --------------------------------------------------------------------------- 12. scope


def test_district_scope_rejects_rows_outside_and_replaces_only_its_features(connection, first_pub, tmp_path):
    before = current_features(connection, "checkpoints")
    in_718 = {i for i, f in before.items() if f["units"]["district"] == "718"}
    assert in_718 == {"CKS-007", "CKS-018", "CKS-023", "CKS-024"}
    headers, rows = checkpoint_rows("CKS-001", "CKS-007", "CKS-018", "CKS-023", "CKS-002")
    rows[2][STATUS] = "Đang hoạt động"  # CKS-018 reopened
    rows.append(checkpoint("CKS-030", "Chốt Phú Cường", *NEW_POINT))
    report = run(connection, write_csv(tmp_path / "chot_tdm.csv", headers, rows), "checkpoints", scope="718")
    assert report.refused is None and report.publication is not None
    assert [(r.row, r.reason) for r in report.rejected] == [(2, "out_of_scope"), (6, "out_of_scope")]
    assert all(r.unit_codes["district"] == "718" for r in report.accepted) and len(report.accepted) == 4
    assert diff_of(report) == (1, 1, 1, 2)
    after = current_features(connection, "checkpoints")
    assert set(after) == set(before) - {"CKS-024"} | {"CKS-030"}
    for source_id, feature in before.items():
        if source_id not in in_718:
            assert after[source_id] == feature  # untouched outside the scope
    row = publication(connection, report.publication)
    assert (row["scope_code"], row["scope_level"], row["removed"]) == ("718", "district", 1)


def test_district_scope_with_vn2000_coordinates(connection):
    report = run(connection, SAMPLES / "khu_cach_ly.xlsx", "quarantine_facilities", scope="718", dry_run=True)
    assert {r.reason for r in report.rejected} == {"out_of_scope"}
    assert sorted(r.row for r in report.accepted) == [4, 7, 9, 16]
    assert all(r.unit_codes["district"] == "718" for r in report.accepted)
    assert (report.diff.added, report.diff.removed, report.diff.unchanged) == (0, 0, 4)


def test_rows_without_an_id_are_numbered_by_name_and_commune_in_row_order(connection, tmp_path):
    site, other = SITES[0], SITES[1]
    headers = ["Tên cơ sở", "Vĩ độ", "Kinh độ"]
    rows = [[site.name, site.lat, site.lon], [other.name, other.lat, other.lon], ["Điểm 0,0", 0, 0],
            [site.name, site.lat, site.lon], [site.name + " ", site.lat, site.lon]]
    report = run(connection, write_csv(tmp_path / "trung.csv", headers, rows), "testing_sites",
                 dry_run=True)
    ids = [r.source_id for r in report.rows]
    first = ids[0]
    assert first.endswith("@" + report.rows[0].unit_codes["commune"]) and "#" not in first
    assert ids[1] != first and ids[2] is None
    assert ids[3:] == [first + "#2", first + "#3"]


# --------------------------------------------------------------------------- out-of-range numbers


def test_numbers_beyond_64_bits_are_rejected_rows_naming_row_and_column(connection, tmp_path, run_cli):
    path = write_csv(tmp_path / "khu.csv", ["Tên khu", "Sức chứa", "Vĩ độ", "Kinh độ"], [
        ["Khu A", "1e20", "10.98", "106.65"],
        ["Khu B", "99999999999999999999", "10.99", "106.66"],
        ["Khu C", "1e400", "11.00", "106.67"],
        ["Khu D", "120", "11.01", "106.68"],
    ])
    report = run(connection, path, "quarantine_facilities", dry_run=True)
    rejected = {r.row: r for r in report.rejected}
    assert sorted(rejected) == [2, 3, 4] and [r.row for r in report.accepted] == [5]
    for row in rejected.values():
        assert (row.reason, row.column) == ("invalid_number", "Sức chứa")
        assert "quá lớn" in row.message_vi and "too large" in row.message_en
    result = run_cli("ingest", str(path), "--layer", "quarantine_facilities", "--dry-run", "--lang", "en")
    assert result.exit_code in (0, 1) and "Traceback" not in result.output
    assert result.output.count("invalid_number") >= 3
