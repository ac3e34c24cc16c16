"""The 2025 reform crosswalk: loading the GSO table and dvhcvn's JSON, predecessors and successors."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.crosswalk import read_gso
from boundaries.lineage import predecessors, successors
from tests.conftest import DATA

FIXTURES = Path(__file__).parent / "data"
MESSY = FIXTURES / "crosswalk_gso_messy.csv"
DVHCVN = FIXTURES / "crosswalk_dvhcvn_merges.json"
DEMO_TABLE = DATA / "crosswalk" / "reform_2025_gso_nghe_an_binh_duong.csv"


def _rows(connection, new_set: str) -> dict[tuple[str, str], tuple]:
    rows = connection.execute(text(
        "SELECT old_code, new_code, old_name, new_name, old_parent_name, new_parent_name, whole"
        " FROM crosswalk WHERE new_set = :s"), {"s": new_set})
    return {(r.old_code, r.new_code): tuple(r)[2:] for r in rows}


def test_the_messy_gso_table_loads_through_the_cli(connection, run_cli):
    result = run_cli("boundaries", "crosswalk", "load", str(MESSY),
                     "--old-set", "x2021", "--new-set", "x2025")
    assert result.exit_code == 0, result.output
    assert "9 crosswalk rows loaded: 6 x2025 units formed from x2021 units" in result.output
    assert "Khu vực bãi bồi ven biển do huyện Kim Sơn quản lý" in result.output  # no code: skipped, said
    rows = _rows(connection, "x2025")
    assert len(rows) == 9  # the banners, the header rows and the repeated Thụy Khuê row are not rows
    # codes padded back to five digits; a blank merged cell takes the new unit of the row above
    assert rows[("00004", "00004")] == ("Phường Trúc Bạch", "Phường Ba Đình",
                                        "Quận Ba Đình, Thành phố Hà Nội", "Thành phố Hà Nội", True)
    assert rows[("00013", "00004")][4] is True
    # notes in their many spellings: "Nhập một phần\n", "Nhâp một phần diện tích", "Phần còn lại ..."
    assert not rows[("00016", "00004")][4] and not rows[("00112", "00004")][4]
    assert not rows[("11041", "10999")][4] and not rows[("21997", "21997")][4]
    assert rows[("14698", "14698")][4] is True  # "Giữ nguyên "
    # a name broken over two lines is one name; a whole district made a special zone stands for itself
    assert rows[("26506", "26506")][1] == "Phường Vũng Tàu"
    assert rows[("755", "26732")][:2] == ("Huyện Côn Đảo", "Đặc khu Côn Đảo")


def test_loading_again_replaces_the_rows_of_the_units_listed(connection, run_cli):
    run_cli("boundaries", "crosswalk", "load", str(MESSY), "--new-set", "x2025")
    connection.execute(text("UPDATE crosswalk SET old_name = 'stale' WHERE new_set = 'x2025'"))
    run_cli("boundaries", "crosswalk", "load", str(MESSY), "--new-set", "x2025")
    names = connection.execute(text("SELECT old_name FROM crosswalk WHERE new_set = 'x2025'")).scalars().all()
    assert len(names) == 9 and "stale" not in names


def test_dvhcvn_merges_agree_with_the_gso_table(connection, run_cli):
    result = run_cli("boundaries", "crosswalk", "load", str(DVHCVN), "--new-set", "d2025")
    assert result.exit_code == 0, result.output
    dvhcvn, gso = _rows(connection, "d2025"), read_gso(MESSY)[0]
    assert len(dvhcvn) == 10 and dvhcvn[("00016", "00004")][-1] is False
    for row in gso:
        if row.new_code == "00004":
            assert dvhcvn[(row.old_code, row.new_code)][-1] == row.whole


def test_a_file_that_is_not_a_crosswalk_is_refused(run_cli, tmp_path):
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps({"data": [{"level1_id": "01", "level3s": []}]}), encoding="utf-8")
    result = run_cli("boundaries", "crosswalk", "load", str(splits))
    assert result.exit_code != 0 and "splits" in result.output
    table = tmp_path / "table.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    result = run_cli("boundaries", "crosswalk", "load", str(table), "--format", "gso")
    assert result.exit_code != 0 and "Mã Xã mới" in result.output


def test_every_2025_ward_of_the_demo_province_has_its_predecessors(connection):
    wards = connection.execute(text(
        "SELECT code, name FROM admin_unit WHERE boundary_set = 'vn2025' AND level = 'commune'")).all()
    assert len(wards) == 130
    table = read_gso(DEMO_TABLE)[0]
    with Session(connection) as session:
        for code, name in wards:
            found = predecessors(session, "vn2025", code)
            assert found, f"{code} {name} has no predecessors"
            expected = {(r.old_code, r.old_name) for r in table if r.new_code == code}
            assert {(p.code, p.name) for p in found} == expected
            # the 2021 communes of Nghệ An are not loaded: the records stand on their own
            assert all(p.set_name == "vn2021" and not p.loaded and p.parent_name for p in found)
        vinh = predecessors(session, "vn2025", "16681")
    assert {p.name for p in vinh} >= {"Phường Đông Vĩnh", "Phường Lê Lợi", "Phường Hưng Bình"}
    assert all(p.parent_name == "Thành phố Vinh, Tỉnh Nghệ An" for p in vinh if p.name == "Phường Lê Lợi")


def test_a_2021_commune_knows_where_it_went(connection):
    with Session(connection) as session:
        hiep_thanh = successors(session, "vn2021", "25741")
        phu_cuong = successors(session, "vn2021", "25747")
    assert {(s.code, s.whole) for s in hiep_thanh} == {("25747", False), ("25750", False)}
    assert [(s.set_name, s.code, s.name, s.parent_name, s.whole) for s in phu_cuong] == [
        ("vn2025", "25747", "Phường Thủ Dầu Một", "Thành phố Hồ Chí Minh", True)]
    every = connection.execute(text(
        "SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM crosswalk c WHERE c.old_set = 'vn2021'"
        " AND c.old_code = u.code)), count(*) FROM admin_unit u"
        " WHERE boundary_set = 'vn2021' AND level = 'commune'")).one()
    assert every[0] == every[1] == 88  # every Bình Dương commune of the demo went somewhere
