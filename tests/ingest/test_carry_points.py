"""Point feeds located by a 2021 commune's name in a 2025 set: placed in the ward it went whole into,
rejected when it was split (only coordinates can tell), unchanged in the 2021 set."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import IngestOptions, ingest_feed
from ingest.report import Report
from layers.catalog import default_catalog
from tests.ingest.builders import write_csv

HEADERS = ["Tên cơ sở xét nghiệm", "Xã/Phường/Thị trấn", "Huyện/Thị xã/Thành phố", "Vĩ độ", "Kinh độ"]
TRUONG_VINH = "16690"


def run(connection, path: Path, scope: str, set_name: str = "vn2025") -> Report:
    options = IngestOptions(set_name=set_name, scope_code=scope, dry_run=True)
    return ingest_feed(connection, path, "testing_sites", default_catalog(), options)


def test_a_2021_commune_merged_whole_places_its_rows(connection, tmp_path):
    path = write_csv(tmp_path / "diem.csv", HEADERS, [
        ["Trạm A", "Phường Hưng Dũng", "Thành phố Vinh", "", ""],
        ["Trạm B", "16675", "", "", ""],  # Hưng Dũng by its 2021 code
        ["Trạm C", "Xã Không Có", "", "", ""],
        ["Trạm D", "Phường Hưng Dũng", "", "18.6635", "105.6950"],  # coordinates decide
    ])
    report = run(connection, path, "40")
    rows = {r.row: r for r in report.rows}
    for n in (2, 3):
        assert (rows[n].status, rows[n].unit_codes["commune"], rows[n].approximate) == (
            "accepted", TRUONG_VINH, True)
        assert rows[n].warnings == [{
            "code": "carried_2021", "column": "Xã/Phường/Thị trấn",
            "message_vi": "Phường Hưng Dũng (2021) → Phường Trường Vinh (2025)",
            "message_en": "Phường Hưng Dũng (2021) carried to Phường Trường Vinh (2025)"}]
    assert (rows[4].status, rows[4].reason) == ("rejected", "no_location")
    assert rows[5].status == "accepted" and not rows[5].approximate and rows[5].warnings == []


def test_a_split_2021_commune_asks_for_coordinates(connection, tmp_path, former_binh_duong):
    path = write_csv(tmp_path / "diem.csv", HEADERS, [
        ["Trạm A", "Phường Hiệp Thành", "Thủ Dầu Một", "", ""],  # split: Thủ Dầu Một and Phú Lợi
        ["Trạm B", "Phường Phú Cường", "Thủ Dầu Một", "", ""],  # whole into Thủ Dầu Một
    ])
    report = run(connection, path, "79")
    split, whole = report.rows
    assert (split.status, split.reason, split.column, split.value) == (
        "rejected", "split_commune", "Xã/Phường/Thị trấn", "Phường Hiệp Thành")
    assert "Phường Phú Lợi [25750] (2025), Phường Thủ Dầu Một [25747] (2025)" in split.message_vi
    assert "hãy ghi tọa độ" in split.message_vi and "give coordinates" in split.message_en
    assert whole.status == "accepted" and whole.unit_codes["commune"] == "25747"
    assert whole.warnings[0]["message_vi"] == "Phường Phú Cường (2021) → Phường Thủ Dầu Một (2025)"


def test_the_2021_set_places_as_before(connection, tmp_path):
    path = write_csv(tmp_path / "diem.csv", HEADERS, [
        ["Trạm A", "Phường Hiệp Thành", "Thủ Dầu Một", "", ""],
        ["Trạm B", "Phường Hưng Dũng", "", "", ""],
    ])
    report = run(connection, path, "74", set_name="vn2021")
    assert [(r.status, r.reason, r.warnings) for r in report.rows] == [
        ("accepted", None, []), ("rejected", "no_location", [])]
    assert report.rows[0].unit_codes["commune"] == "25741"


def test_a_feed_of_2021_names_places_them_all_as_2021_names(connection, tmp_path):
    path = write_csv(tmp_path / "diem.csv", HEADERS, [
        ["Trạm A", "Xã Đông Thành", "", "", ""],  # 2021: now in Xã Yên Thành, not the 2025 Đông Thành
        ["Trạm B", "Xã Đô Thành", "", "", ""],  # 2021 only: now in Xã Đông Thành
    ])
    dong_thanh, do_thanh = run(connection, path, "40").rows
    assert dong_thanh.unit_codes["commune"] == "17506" and do_thanh.unit_codes["commune"] == "17530"
    assert dong_thanh.warnings[0]["message_vi"] == "Xã Đông Thành (2021) → Xã Yên Thành (2025)"
    mixed = write_csv(tmp_path / "hon_hop.csv", HEADERS, [
        ["Trạm A", "Xã Đông Thành", "", "", ""], ["Trạm B", "Xã Đô Thành", "", "", ""],
        ["Trạm C", "Phường Trường Vinh", "", "", ""]])  # a 2025 name: the feed is written with those
    dong_thanh, do_thanh, _ = run(connection, mixed, "40").rows
    assert dong_thanh.unit_codes["commune"] == "17530" and dong_thanh.warnings == []
    assert do_thanh.unit_codes["commune"] == "17530" and do_thanh.warnings[0]["code"] == "carried_2021"
