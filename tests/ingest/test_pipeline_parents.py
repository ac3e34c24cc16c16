"""A point layer's district column constrains rows located by name and flags points lying elsewhere."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection

from tests.ingest.builders import write_csv
from tests.ingest.helpers import run

HEADERS = ["Tên cơ sở xét nghiệm", "Xã/Phường/Thị trấn", "Huyện/Thị xã/Thành phố", "Vĩ độ", "Kinh độ"]
HIEP_THANH_POINT = ("10.998112", "106.657595")  # Phường Hiệp Thành's label point, Thủ Dầu Một (718)


def test_named_rows_obey_their_district_and_points_elsewhere_are_flagged(connection: Connection,
                                                                         tmp_path: Path) -> None:
    path = write_csv(tmp_path / "diem.csv", HEADERS, [
        ["Trạm A", "Hiệp Thành", "TP. Thủ Dầu Một", "", ""],
        ["Trạm B", "Hiệp Thành", "Dĩ An", "", ""],  # Hiệp Thành lies in Thủ Dầu Một
        ["Trạm C", "Phú Mỹ", "Quận 7", "", ""],  # no such district in the province
        ["Trạm D", "", "Dĩ An", *HIEP_THANH_POINT],  # the point lies in Thủ Dầu Một
        ["Trạm E", "", "Thủ Dầu Một", *HIEP_THANH_POINT],
    ])
    report = run(connection, path, "testing_sites", dry_run=True)
    rows = {r.row: r for r in report.rows}
    assert [(n, rows[n].status, rows[n].reason, rows[n].column) for n in range(2, 7)] == [
        (2, "accepted", None, None),
        (3, "rejected", "out_of_scope", "Huyện/Thị xã/Thành phố"),
        (4, "rejected", "unknown_unit", "Huyện/Thị xã/Thành phố"),
        (5, "accepted", None, None),
        (6, "accepted", None, None),
    ]
    assert rows[2].unit_codes["commune"] == "25741"
    assert "Dĩ An" in rows[3].message_vi and "Thành phố Thủ Dầu Một" in rows[3].message_en
    assert "No district “Quận 7”" in rows[4].message_en
    assert [w["code"] for w in rows[5].warnings] == ["point_in_other_district"]
    assert "Thành phố Thủ Dầu Một" in rows[5].warnings[0]["message_en"]
    assert "“Dĩ An”" in rows[5].warnings[0]["message_vi"]
    assert rows[6].warnings == []
