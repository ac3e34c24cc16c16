"""Province-level feeds: province names resolve to the country's provinces, and a feed of cases per
province colours the country map (the demo loads its own province feed with scope VN)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.queries import find_units
from ingest.stats import ingest_stats
from layers.catalog import default_catalog
from tests.conftest import DATA

# Real: antoancovid's daily cases per province, May-July 2021 (licence unknown: tests only).
REAL = Path(__file__).parent / "data" / "so_ca_nhiem_theo_tinh_2021.csv"
DEMO = DATA / "feeds" / "provinces" / "so_ca_theo_tinh_2021.csv"


def _names(path: Path, column: str) -> set[str]:
    with path.open(encoding="utf-8") as fh:
        return {row[column] for row in csv.DictReader(fh)}


@pytest.mark.parametrize(("path", "column", "count"), [(REAL, "tinh", 57), (DEMO, "Tỉnh/Thành phố", 63)])
def test_every_province_name_of_the_feeds_finds_one_province(connection, path, column, count):
    names = _names(path, column)
    assert len(names) == count
    with Session(connection) as session:
        found = {n: [u.code for u in find_units(session, "vn2021", n, within="VN") if u.level == "province"]
                 for n in names}
    assert {n: codes for n, codes in found.items() if len(codes) != 1} == {}
    assert len({codes[0] for codes in found.values()}) == count


def test_the_catalogue_knows_province_columns():
    assert "tinh" in default_catalog().stat_columns["province"]



@pytest.mark.parametrize("path", [REAL, DEMO])
def test_a_province_feed_ingests_by_province_name_and_colours_the_country(connection, client, path):
    report = ingest_stats(connection, path, catalog=default_catalog(), set_name="vn2021", scope_code="VN",
                          metric="new_cases")
    assert not report.rejected and len(report.accepted) > 400
    stored = connection.execute(text(
        "SELECT count(DISTINCT unit_code) FROM unit_stat v JOIN admin_unit u"
        " ON u.boundary_set = v.boundary_set AND u.code = v.unit_code"
        " WHERE v.boundary_set = 'vn2021' AND u.level = 'province'")).scalar()
    assert stored >= 57
    html = client.get("/map/vn2021/VN").get_data(as_text=True)
    assert re.search(r'epimap\.childStyle\("VN", \{[^}]*"01"\s*:\s*"#', html)  # Hà Nội is coloured
