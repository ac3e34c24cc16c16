"""Every sample feed ingests exactly as its ``.expected.json`` says, row by row."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.ingest.helpers import FEEDS, REASON_CATEGORIES, SAMPLES, expected, metres_between, run


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_sample_feed_row_by_row(connection, name):
    truth = expected(name)
    report = run(connection, SAMPLES / name, FEEDS[name])
    assert report.publication is not None and report.refused is None
    by_row = {r.row: r for r in report.rows}
    assert sorted(by_row) == sorted(e["row"] for e in truth["rows"])
    assert len(report.accepted) == truth["accepted"] and len(report.rejected) == truth["rejected"]
    for want in truth["rows"]:
        got = by_row[want["row"]]
        assert got.status == want["status"], (want, got)
        if want["status"] == "rejected":
            assert got.reason in REASON_CATEGORIES[want["reason"]], (want, got)
            assert got.message_vi and got.message_en
            continue
        assert got.unit_codes["commune"] == want["unit_code"], (want, got)
        assert got.unit_codes["province"] == "74"
        assert got.approximate == bool(want.get("approximate")), (want, got)
        if "lat" in want:
            distance = metres_between(want["lat"], want["lon"], got.lat, got.lon)
            assert distance <= want["tolerance_m"], (want, got, distance)


def test_lockdown_zones_are_whole_units_or_the_given_polygon(connection):
    run(connection, SAMPLES / "vung_phong_toa.csv", "lockdown_zones")
    rows = connection.execute(text(
        "SELECT f.source_row, f.unit_code, ST_Area(f.geom) AS area,"
        " ST_Equals(f.geom, a.geom) AS whole, f.props FROM feature f"
        " JOIN admin_unit a ON a.boundary_set = 'vn2021' AND a.code = f.unit_code"
        " WHERE f.layer_id = 'lockdown_zones' AND f.valid_to_pub IS NULL")).mappings().all()
    by_row = {r["source_row"]: r for r in rows}
    for want in expected("vung_phong_toa.csv")["rows"]:
        if want["status"] != "accepted":
            continue
        got = by_row[want["row"]]
        assert got["unit_code"] == want["unit_code"]
        if want["geometry"] == "whole_unit":
            assert got["whole"], want
        else:
            assert not got["whole"] and got["area"] == pytest.approx(want["area_deg2"], rel=1e-3)
    first = by_row[2]["props"]
    assert first["decision_number"] == "849/QĐ-UBND"
    assert (first["valid_from"], first["valid_to"]) == ("2021-08-01", "2021-08-15")
    assert first["households"] == 1547


def test_numbers_with_thousands_dots_and_vn2000_capacity(connection):
    run(connection, SAMPLES / "khu_cach_ly.xlsx", "quarantine_facilities")
    capacity = dict(connection.execute(text(
        "SELECT source_row, (props ->> 'capacity')::int FROM feature"
        " WHERE layer_id = 'quarantine_facilities' AND valid_to_pub IS NULL")).all())
    for want in expected("khu_cach_ly.xlsx")["rows"]:
        assert capacity[want["row"]] == want["capacity"]
    run(connection, SAMPLES / "diem_tiem_chung.csv", "vaccination_sites")
    per_day = connection.execute(text(
        "SELECT (props ->> 'capacity_per_day')::int FROM feature WHERE layer_id = 'vaccination_sites'"
        " AND source_row = 2")).scalar()
    assert per_day == 4000


def test_windows_1258_names_are_normalised(connection):
    run(connection, SAMPLES / "chot_kiem_soat.csv", "checkpoints")
    names = connection.execute(text(
        "SELECT props ->> 'name' FROM feature WHERE layer_id = 'checkpoints' AND source_id = 'CKS-002'"
    )).scalar()
    assert names == "Chốt Phước Hoà"
    assert names == __import__("unicodedata").normalize("NFC", names)
