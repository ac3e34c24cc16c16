"""Statistics feeds written with 2021 communes, ingested into a 2025 set through the crosswalk."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from ingest.report import Report
from ingest.stats import ingest_stats
from layers.catalog import Catalog, default_catalog
from tests.ingest.builders import write_csv, write_xlsx

D10, D11 = date(2021, 8, 10), date(2021, 8, 11)
TRUONG_VINH = "16690"  # Phường Trường Vinh (2025): seven 2021 communes of Vinh merged whole
THANH_VINH = "16681"  # Phường Thành Vinh (2025): six of them
THU_DAU_MOT, PHU_LOI = "25747", "25750"  # 2025 wards sharing 2021 Phường Hiệp Thành (25741)


@pytest.fixture
def catalog(connection: Connection) -> Catalog:
    connection.execute(text("DELETE FROM unit_stat"))
    return default_catalog()


def ingest(connection: Connection, path: Path, catalog: Catalog, scope: str = "40", set_name: str = "vn2025",
           **kwargs) -> Report:
    return ingest_stats(connection, path, catalog=catalog, set_name=set_name, scope_code=scope, **kwargs)


def stored(connection: Connection, set_name: str = "vn2025") -> dict[tuple[str, date], tuple[float, bool]]:
    rows = connection.execute(text(
        "SELECT unit_code, day, value, estimated FROM unit_stat WHERE boundary_set = :s"
        " AND metric = 'new_cases'"), {"s": set_name})
    return {(r.unit_code, r.day): (r.value, r.estimated) for r in rows}


def notes(report: Report) -> dict[int, list[tuple[str, str, str, str]]]:
    return {r.row: [(w["code"], w["column"], w["message_vi"], w["message_en"]) for w in r.warnings]
            for r in report.rows if r.warnings}


VINH_ROWS = [  # 2021 communes of Thành phố Vinh, by name, by code and with their district
    ["10/08/2021", "Phường Hưng Dũng", "Thành phố Vinh", 3],
    ["10/08/2021", "Hưng Phúc", "", 4],
    ["10/08/2021", "16693", "", 5],  # Phường Bến Thủy, by its 2021 code
    ["11/08/2021", "Phường Hưng Dũng", "TP Vinh", 2],
    ["10/08/2021", "Phường Lê Lợi", "", 7],  # into Phường Thành Vinh
    ["10/08/2021", "Phường Cửa Nam", "", 1],
]


def test_whole_merges_are_summed_and_every_row_noted(connection, catalog, tmp_path):
    path = write_csv(tmp_path / "vinh_2021.csv", ["Ngày", "Xã", "Huyện", "Ca mới"], VINH_ROWS)
    report = ingest(connection, path, catalog)
    assert report.refused is None and len(report.accepted) == 6 and report.rejected == []
    values = stored(connection)
    assert values == {(TRUONG_VINH, D10): (3 + 4 + 5, False), (TRUONG_VINH, D11): (2, False),
                      (THANH_VINH, D10): (7 + 1, False)}
    assert report.diff.added == 3
    found = notes(report)
    assert sorted(found) == [2, 3, 4, 5, 6, 7]  # every data row, none repeated or conflicting
    assert found[2] == [("carried_2021", "Xã", "Phường Hưng Dũng (2021) → Phường Trường Vinh (2025)",
                         "Phường Hưng Dũng (2021) carried to Phường Trường Vinh (2025)")]
    assert found[4][0][2] == "Phường Bến Thủy (2021) → Phường Trường Vinh (2025)"
    assert {r.row: r.unit_codes for r in report.rows}[6] == {"commune": THANH_VINH}


def test_an_xlsx_of_2021_names_and_codes(connection, catalog, tmp_path):
    rows = [["Xã/phường", "10/08/2021", "11/08/2021"],
            ["Phường Trường Thi", 6, 1], [16714, 2, None],  # Vinh Tân, its code a number cell
            ["P. Trung Đô", 1, 1], ["Phường Lê Lợi", 9, 0]]
    path = write_xlsx(tmp_path / "f0_2021.xlsx", [("F0 theo xã", rows)])
    report = ingest(connection, path, catalog)
    assert len(report.accepted) == 4 and report.rejected == []
    assert stored(connection) == {(TRUONG_VINH, D10): (9, False), (TRUONG_VINH, D11): (2, False),
                                  (THANH_VINH, D10): (9, False), (THANH_VINH, D11): (0, False)}
    assert [w["code"] for r in report.rows for w in r.warnings] == ["carried_2021"] * 4


def test_repeats_of_one_old_commune_are_repeats_not_parts(connection, catalog, tmp_path):
    rows = [["10/08/2021", "Hưng Dũng", 3], ["10/08/2021", "Phường Hưng Dũng", 3],
            ["10/08/2021", "Hưng Phúc", 4], ["10/08/2021", "16673", 5]]  # 16673 is Hưng Phúc: 4 ≠ 5
    report = ingest(connection, write_csv(tmp_path / "lap.csv", ["Ngày", "Xã", "Ca mới"], rows), catalog)
    status = {r.row: (r.status, r.reason) for r in report.rows}
    assert status == {2: ("accepted", None), 3: ("accepted", None), 4: ("rejected", "duplicate_unit"),
                      5: ("rejected", "duplicate_unit")}
    assert "repeated_row" in [w["code"] for w in report.rows[1].warnings]
    assert stored(connection) == {(TRUONG_VINH, D10): (3, False)}


def test_a_ward_given_by_its_own_row_is_not_added_to(connection, catalog, tmp_path):
    rows = [["10/08/2021", "Phường Trường Vinh", 20], ["10/08/2021", "Hưng Dũng", 3],
            ["11/08/2021", "Hưng Dũng", 2]]
    report = ingest(connection, write_csv(tmp_path / "tron.csv", ["Ngày", "Xã", "Ca mới"], rows), catalog)
    row = {r.row: r for r in report.rows}
    assert (row[3].status, row[3].reason) == ("rejected", "carried_conflict")
    assert "Dòng 2" in row[3].message_vi and "Row 2" in row[3].message_en
    assert row[4].status == "accepted"
    assert stored(connection) == {(TRUONG_VINH, D10): (20, False), (TRUONG_VINH, D11): (2, False)}


def test_unknown_names_stay_unknown_and_ambiguous_old_names_ask_for_the_district(connection, catalog,
                                                                                  tmp_path):
    ambiguous = connection.execute(text(
        "SELECT old_name FROM crosswalk WHERE new_set = 'vn2025' AND new_parent_name = 'Tỉnh Nghệ An'"
        " GROUP BY old_name HAVING count(DISTINCT old_code) > 1 ORDER BY old_name LIMIT 1")).scalar()
    rows = [["10/08/2021", "Xã Không Có", "", 1], ["10/08/2021", ambiguous, "", 2]]
    path = write_csv(tmp_path / "x.csv", ["Ngày", "Xã", "Huyện", "Ca mới"], rows)
    report = ingest(connection, path, catalog)
    assert [(r.status, r.reason) for r in report.rows] == [("rejected", "unknown_unit"),
                                                           ("rejected", "ambiguous_unit")]
    assert "hãy ghi rõ huyện" in report.rows[1].message_vi
    assert "give the district" in report.rows[1].message_en


def test_the_2021_scope_carries_nothing(connection, catalog, tmp_path):
    rows = [["10/08/2021", "Phường Hưng Dũng", 3], ["10/08/2021", "Phường Hiệp Thành", 4]]
    path = write_csv(tmp_path / "bd.csv", ["Ngày", "Xã", "Ca mới"], rows)
    report = ingest(connection, path, catalog, scope="74", set_name="vn2021")
    assert [(r.status, r.reason, r.warnings) for r in report.rows] == [
        ("rejected", "unknown_unit", []), ("accepted", None, [])]
    assert stored(connection, "vn2021") == {("25741", D10): (4, False)}


def _shares(connection, old: str) -> dict[str, float]:
    rows = connection.execute(text(
        "SELECT n.code, ST_Area(ST_Intersection(o.geom, n.geom)::geography) / ST_Area(o.geom::geography) AS f"
        " FROM crosswalk c JOIN admin_unit o ON o.boundary_set = 'vn2021' AND o.code = c.old_code"
        " JOIN admin_unit n ON n.boundary_set = 'vn2025' AND n.code = c.new_code"
        " WHERE c.new_set = 'vn2025' AND c.old_code = :o"), {"o": old})
    return {r.code: r.f for r in rows}


def test_a_split_commune_is_shared_by_area_and_marked_estimated(connection, catalog, tmp_path,
                                                               former_binh_duong):
    rows = [["10/08/2021", "Phường Hiệp Thành", "Thủ Dầu Một", 10],  # split: Thủ Dầu Một, Phú Lợi
            ["10/08/2021", "Phường Phú Cường", "Thủ Dầu Một", 4],  # whole into Thủ Dầu Một
            ["10/08/2021", "Phường Phú Lợi", "Thủ Dầu Một", 2]]  # also a 2025 ward's name
    path = write_csv(tmp_path / "tdm.csv", ["Ngày", "Phường", "Quận/Huyện", "Ca mới"], rows)
    report = ingest(connection, path, catalog, scope="79")
    assert len(report.accepted) == 3 and report.rejected == []
    shares = _shares(connection, "25741")
    # the 2011 polygons and the 2025 wards match imperfectly: a few per cent falls outside both
    assert set(shares) == {THU_DAU_MOT, PHU_LOI} and 0.9 < sum(shares.values()) <= 1.001
    values = stored(connection)
    assert values[(THU_DAU_MOT, D10)][0] == pytest.approx(10 * shares[THU_DAU_MOT] + 4)
    assert values[(PHU_LOI, D10)][0] == pytest.approx(10 * shares[PHU_LOI] + 2)
    assert values[(THU_DAU_MOT, D10)][1] and values[(PHU_LOI, D10)][1]  # estimated
    hiep_thanh = notes(report)[2][0]
    assert hiep_thanh[0] == "carried_2021" and hiep_thanh[2].startswith("Phường Hiệp Thành (2021) → ")
    assert "(ước tính)" in hiep_thanh[2] and "(estimated)" in hiep_thanh[3]
    assert f"Phường Thủ Dầu Một (2025, {shares[THU_DAU_MOT]:.0%})" in hiep_thanh[2]
    # "Phú Lợi" names a 2025 ward too: read as the 2021 commune, part of its ward's figure, and noted
    assert notes(report)[4][0][2] == "Phường Phú Lợi (2021) → Phường Phú Lợi (2025)"


def test_a_split_commune_without_its_2021_boundary_is_not_guessed(connection, catalog, tmp_path,
                                                                  former_binh_duong):
    connection.execute(text("DELETE FROM admin_unit WHERE boundary_set = 'vn2021' AND code = '25741'"))
    rows = [["10/08/2021", "Phường Hiệp Thành", 10], ["10/08/2021", "Phường Phú Cường", 4]]
    report = ingest(connection, write_csv(tmp_path / "tdm.csv", ["Ngày", "Phường", "Ca mới"], rows), catalog,
                    scope="79")
    row = report.rows[0]
    assert (row.status, row.reason, row.column) == ("rejected", "unknown_share", "Phường")
    assert "Phường Thủ Dầu Một [25747] (2025)" in row.message_vi and "Phường Phú Lợi" in row.message_en
    assert stored(connection) == {(THU_DAU_MOT, D10): (4, False)}


def test_the_cli_report_lists_the_carried_rows(connection, catalog, run_cli, tmp_path):
    path = write_csv(tmp_path / "vinh_2021.csv", ["Ngày", "Xã", "Huyện", "Ca mới"], VINH_ROWS[:2])
    args = ("ingest", str(path), "--layer", "unit_stats", "--set", "vn2025", "--scope", "40", "--dry-run")
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    assert "carried_2021" in result.output
    assert "Phường Hưng Dũng (2021) → Phường Trường Vinh (2025)" in result.output
    english = run_cli(*args, "--lang", "en").output
    assert "Phường Hưng Phúc (2021) carried to Phường Trường Vinh (2025)" in english


def test_the_ward_page_marks_an_estimated_week(connection, catalog, client, tmp_path, former_binh_duong):
    rows = [["10/08/2021", "Phường Hiệp Thành", 10], ["10/08/2021", "Phường Hưng Dũng", 3]]
    ingest(connection, write_csv(tmp_path / "a.csv", ["Ngày", "Phường", "Ca mới"], rows), catalog, scope="79")
    ingest(connection, write_csv(tmp_path / "b.csv", ["Ngày", "Phường", "Ca mới"], rows[1:]), catalog)
    week = '<p class="week-total">'
    shared = client.get("/map/vn2025/25747?date=2021-08-10").get_data(as_text=True).split(week)[1]
    assert '<small class="estimated">(ước tính)</small>' in shared.split("</p>")[0]
    whole = client.get("/map/vn2025/16690?date=2021-08-10").get_data(as_text=True).split(week)[1]
    assert "3" in whole.split("</p>")[0] and "estimated" not in whole.split("</p>")[0]


def test_a_rollback_restores_the_estimated_mark(connection, catalog, run_cli, tmp_path, former_binh_duong):
    headers = ["Ngày", "Phường", "Ca mới"]
    shared = write_csv(tmp_path / "a.csv", headers, [["10/08/2021", "Phường Hiệp Thành", 10]])
    first = ingest(connection, shared, catalog, scope="79").publication
    estimate = stored(connection)[(THU_DAU_MOT, D10)]
    direct = write_csv(tmp_path / "b.csv", headers, [["10/08/2021", "Phường Thủ Dầu Một", 9]])
    ingest(connection, direct, catalog, scope="79")
    assert stored(connection)[(THU_DAU_MOT, D10)] == (9, False)
    result = run_cli("layers", "rollback", "unit_stats", str(first), "--author", "test")
    assert result.exit_code == 0, result.output
    assert stored(connection)[(THU_DAU_MOT, D10)] == estimate and estimate[1]


def test_a_2021_province_column_is_read_through_the_crosswalk(connection, catalog, tmp_path,
                                                              former_binh_duong):
    rows = [["10/08/2021", "Bình Dương", "Thủ Dầu Một", "Phú Cường", 4],  # a province merged in 2025
            ["10/08/2021", "Tỉnh Bình Dương", "", "Xã Không Có", 1],
            ["10/08/2021", "Đồng Nai", "", "Phường Tân Phong", 2]]  # a province still there: not ours
    path = write_csv(tmp_path / "bd.csv", ["Ngày", "Tỉnh", "Huyện", "Xã", "Ca mới"], rows)
    report = ingest(connection, path, catalog, scope="79")
    assert [(r.status, r.reason, r.column) for r in report.rows] == [
        ("accepted", None, None), ("rejected", "unknown_unit", "Xã"), ("rejected", "out_of_scope", "Tỉnh")]
    assert notes(report)[2][0][2] == "Phường Phú Cường (2021) → Phường Thủ Dầu Một (2025)"
    assert stored(connection) == {(THU_DAU_MOT, D10): (4, False)}


def test_a_feed_of_2021_names_reads_them_all_as_2021_names(connection, catalog, tmp_path):
    # Xã Đông Thành (2021) went into Xã Yên Thành; the 2025 Xã Đông Thành was formed of Đô Thành,
    # Thọ Thành and Phú Thành.  In a feed of 2021 names, "Xã Đông Thành" is the 2021 commune.
    rows = [["10/08/2021", "Xã Đông Thành", 5], ["10/08/2021", "Xã Đô Thành", 2],
            ["10/08/2021", "Xã Thọ Thành", 3]]
    report = ingest(connection, write_csv(tmp_path / "yt.csv", ["Ngày", "Xã", "Ca mới"], rows), catalog)
    assert report.rejected == [], report.rejected[0].message_en
    assert stored(connection) == {("17506", D10): (5, False), ("17530", D10): (2 + 3, False)}
    assert notes(report)[2][0][2] == "Xã Đông Thành (2021) → Xã Yên Thành (2025)"
    assert report.rows[0].unit_codes == {"commune": "17506"}


def test_a_feed_of_2025_names_keeps_them_2025_names(connection, catalog, tmp_path):
    rows = [["10/08/2021", "Xã Đông Thành", 5], ["10/08/2021", "Xã Yên Thành", 1]]  # both 2025 wards
    report = ingest(connection, write_csv(tmp_path / "yt.csv", ["Ngày", "Xã", "Ca mới"], rows), catalog)
    assert stored(connection) == {("17530", D10): (5, False), ("17506", D10): (1, False)}
    assert notes(report) == {}


def test_every_2021_commune_of_nghe_an_lands_on_its_ward(connection, catalog, tmp_path):
    """The province's whole 2021 table, with districts: each ward gets the sum of its communes' rows."""
    olds = connection.execute(text(
        "SELECT old_code, old_name, split_part(old_parent_name, ',', 1) AS district, new_code FROM crosswalk"
        " WHERE new_set = 'vn2025' AND new_parent_name = 'Tỉnh Nghệ An' ORDER BY old_code")).all()
    rows = [["10/08/2021", o.old_name, o.district, int(o.old_code) % 97] for o in olds]
    header = ["Ngày", "Xã", "Huyện", "Ca mới"]
    path = write_xlsx(tmp_path / "nghe_an_2021.xlsx", [("Ca mới", [header, *rows])])
    report = ingest(connection, path, catalog)
    assert len(report.accepted) == len(olds) > 400 and report.rejected == []
    assert all([w["code"] for w in r.warnings] == ["carried_2021"] for r in report.rows)
    expected: dict[str, int] = {}
    for old, row in zip(olds, rows, strict=True):
        expected[old.new_code] = expected.get(old.new_code, 0) + row[3]
    assert stored(connection) == {(code, D10): (value, False) for code, value in expected.items()}


def test_rows_of_a_2021_province_gone_in_2025_are_counted_as_another_province(connection, catalog, tmp_path):
    rows = [["10/08/2021", "Quảng Bình", "", "Xã Quảng Trung", 2],  # into Quảng Trị in 2025
            ["10/08/2021", "Tỉnh Bình Dương", "", "Phường Phú Cường", 4],  # into Hồ Chí Minh: not Nghệ An
            ["10/08/2021", "Hà Tĩnh", "", "Xã Kỳ Anh", 1],  # still a province
            ["10/08/2021", "Tỉnh Không Có", "", "Xã A", 1],
            ["10/08/2021", "Nghệ An", "", "Phường Hưng Dũng", 3]]
    path = write_csv(tmp_path / "national.csv", ["Ngày", "Tỉnh", "Huyện", "Xã", "Ca mới"], rows)
    report = ingest(connection, path, catalog, scope="40")
    assert [(r.status, r.reason, r.column) for r in report.rows] == [
        ("rejected", "out_of_scope", "Tỉnh"), ("rejected", "out_of_scope", "Tỉnh"),
        ("rejected", "out_of_scope", "Tỉnh"), ("rejected", "unknown_unit", "Tỉnh"), ("accepted", None, None)]
    assert dict(report.other_provinces()) == {
        "Tỉnh Quảng Bình (2021)": 1, "Tỉnh Bình Dương (2021)": 1, "Tỉnh Hà Tĩnh": 1}
    assert [r.reason for r in report.rejected] == ["unknown_unit"]  # other provinces are no failure
    assert stored(connection) == {(TRUONG_VINH, D10): (3, False)}
