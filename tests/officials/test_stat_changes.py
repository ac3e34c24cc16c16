"""The preview's list of a statistics feed's changes: per unit, each value old → new, capped."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from epimap.db import session_scope
from layers.stat_versions import drop_staging, stage_values
from layers.versions import resolve_scope
from officials.stat_changes import list_value_changes

D16, D17 = date(2021, 8, 16), date(2021, 8, 17)


def _communes(connection) -> list[str]:
    """Return the sample's communes of Thủ Dầu Một that have a 16/08 value, by code."""
    return list(connection.execute(text(
        "SELECT s.unit_code FROM unit_stat s JOIN admin_unit a ON a.boundary_set = s.boundary_set"
        " AND a.code = s.unit_code WHERE s.boundary_set = 'vn2021' AND a.parent_code = '718'"
        " AND s.metric = 'new_cases' AND s.day = :d ORDER BY s.unit_code"), {"d": D16}).scalars())


def test_changes_are_listed_per_unit_and_capped(connection):
    communes = _communes(connection)
    assert len(communes) == 5
    values = {(code, "new_cases", D17): 2.0 for code in communes}  # five added
    values[(communes[0], "new_cases", D16)] = 1000.0  # one changed
    values[(communes[1], "new_cases", D16)] = connection.execute(text(  # one unchanged
        "SELECT value FROM unit_stat WHERE boundary_set = 'vn2021' AND unit_code = :c"
        " AND metric = 'new_cases' AND day = :d"), {"c": communes[1], "d": D16}).scalar()
    rows = {key: number for number, key in enumerate(values, 2)}
    with session_scope(connection) as session:
        stage_values(session, values, rows)
        scope = resolve_scope(session, "vn2021", "718")
        listed = list_value_changes(session, scope, limit=3)
        everything = list_value_changes(session, scope, limit=100)
        drop_staging(session)
    assert listed["values_listed"] == {"added": 3, "changed": 1, "removed": 0}
    assert [item["source_id"] for item in listed["added"]] == communes[:3]
    assert everything["values_listed"]["added"] == 5 and everything["removed"] == []
    [changed] = everything["changed"]
    assert changed["source_id"] == communes[0] and changed["name"].startswith("Phường ")
    assert changed["row"] == rows[(communes[0], "new_cases", D16)]
    assert changed["values"][0][:2] == ["new_cases", "2021-08-16"] and changed["values"][0][3] == 1000.0
    assert changed["geometry"]["type"] == "MultiPolygon"
    assert all(item["values"] == [["new_cases", "2021-08-17", None, 2.0]] for item in everything["added"])
