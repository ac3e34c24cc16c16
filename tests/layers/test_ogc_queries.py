"""layers.ogc: composable clauses with bound values, one statement per page, extents."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers import ogc
from layers.catalog import default_catalog

TESTING = default_catalog().layer("testing_sites")
ZONES = default_catalog().layer("lockdown_zones")


@pytest.fixture
def session(connection):
    with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
        yield s


def _ids(session, **query) -> list[str]:
    page = ogc.items(session, ogc.ItemQuery(layer=TESTING, limit=ogc.MAX_LIMIT, **query))
    return [f["id"] for f in json.loads(page.features)]


def test_clauses_bind_every_value():
    clause = ogc.combine([ogc.in_layer(TESTING), ogc.alive(None), ogc.in_bbox(106.6, 10.9, 106.7, 11.0),
                          ogc.property_equals(0, TESTING, "name", "x' OR 1=1 --")])
    assert "x'" not in clause.sql and "106.6" not in clause.sql and "testing_sites" not in clause.sql
    assert clause.params == {"layer": "testing_sites", "bbox_w": 106.6, "bbox_s": 10.9, "bbox_e": 106.7,
                             "bbox_n": 11.0, "prop_0": "name", "value_0": "x' OR 1=1 --"}
    assert clause.sql.count(" AND ") >= 3
    sql, params = ogc.items_statement(ogc.ItemQuery(layer=TESTING, since=datetime(2021, 8, 1, tzinfo=UTC),
                                                    until=datetime(2021, 9, 1, tzinfo=UTC)))
    assert "2021" not in sql and params["since"].year == 2021 and params["until"].month == 9
    names = TESTING.public_attributes
    assert {params[f"attr_{i}"] for i in range(len(names))} == set(names)


def test_clauses_refuse_private_attributes_and_clashing_parameters():
    with pytest.raises(ValueError, match="not a public attribute"):
        ogc.property_equals(0, TESTING, "note", "x")
    with pytest.raises(ValueError, match="bound twice"):
        ogc.combine([ogc.in_layer(TESTING), ogc.in_layer(ZONES)])
    assert ogc.combine([]).sql == "true"


def test_a_page_counts_every_match_and_returns_its_slice(session, connection):
    total = connection.execute(text(
        "SELECT count(*) FROM feature WHERE layer_id = 'testing_sites' AND valid_to_pub IS NULL")
    ).scalar_one()
    page = ogc.items(session, ogc.ItemQuery(layer=TESTING, limit=15, offset=30))
    assert page.matched == total == 40 and page.returned == 10
    everything = _ids(session)
    assert everything == sorted(everything) and len(everything) == 40
    assert [f["id"] for f in json.loads(page.features)] == everything[30:]
    empty = ogc.items(session, ogc.ItemQuery(layer=TESTING, offset=100))
    assert (empty.matched, empty.returned, empty.features) == (40, 0, "[]")


def test_bbox_matches_postgis_and_crossing_the_antimeridian_works(session, connection):
    inside = connection.execute(text(
        "SELECT array_agg(source_id ORDER BY source_id) FROM feature WHERE layer_id = 'testing_sites'"
        " AND valid_to_pub IS NULL AND ST_Intersects(geom, ST_MakeEnvelope(106.6, 10.9, 106.75, 11.05, 4326))"
    )).scalar_one()
    assert _ids(session, bbox=(106.6, 10.9, 106.75, 11.05)) == inside
    assert len(_ids(session, bbox=(106.0, 10.0, -170.0, 12.0))) == 40  # 106°E eastwards to 170°W
    assert _ids(session, bbox=(107.0, 10.0, -170.0, 12.0)) == []


def test_property_filters_and_hostile_values(session, connection):
    assert _ids(session, properties=(("name", "x' OR '1'='1"),)) == []
    pcr = _ids(session, properties=(("test_types", "RT-PCR"),))
    expected = connection.execute(text(
        "SELECT count(*) FROM feature WHERE layer_id = 'testing_sites' AND valid_to_pub IS NULL"
        " AND props ->> 'test_types' = 'RT-PCR'")).scalar_one()
    assert len(pcr) == expected > 0
    assert connection.execute(text("SELECT count(*) FROM feature")).scalar_one() > 0  # still there


def test_as_of_a_time_and_published_since(session, connection):
    first = connection.execute(text(
        "SELECT created_at FROM publication WHERE layer_id = 'testing_sites' ORDER BY id LIMIT 1")
    ).scalar_one()
    assert len(_ids(session, until=first)) == 40
    assert _ids(session, until=datetime(2000, 1, 1, tzinfo=UTC)) == []
    assert len(_ids(session, since=first)) == 40
    assert _ids(session, since=datetime(2999, 1, 1, tzinfo=UTC)) == []


def test_one_item_and_public_properties_in_catalogue_order(session, connection):
    source_id = _ids(session)[0]
    feature = json.loads(ogc.item(session, TESTING, source_id))
    assert feature["id"] == source_id
    assert list(feature["properties"]) == list(TESTING.public_attributes)
    assert ogc.item(session, TESTING, "nope") is None
    assert ogc.item(session, ZONES, source_id) is None  # ids are per layer


def test_extents_of_several_layers_in_one_statement(session):
    found = ogc.extents(session, [TESTING, ZONES, default_catalog().layer("pharmacies")])
    west, south, east, north = found["testing_sites"].bbox
    assert 106.3 < west < east < 107.0 and 10.8 < south < north < 11.5
    assert found["testing_sites"].first_published <= found["testing_sites"].last_published
    assert found["pharmacies"] == ogc.Extent(None, None, None)


def test_bbox_pages_count_in_one_scan_and_past_the_end(session):
    province = (106.0, 10.0, 107.5, 12.0)
    page = ogc.items(session, ogc.ItemQuery(layer=TESTING, bbox=province, limit=15, offset=30))
    assert (page.matched, page.returned) == (40, 10)
    assert [f["id"] for f in json.loads(page.features)] == _ids(session)[30:]  # the same order
    beyond = ogc.items(session, ogc.ItemQuery(layer=TESTING, bbox=province, offset=40))
    assert (beyond.matched, beyond.returned, beyond.features) == (40, 0, "[]")
    nothing = ogc.items(session, ogc.ItemQuery(layer=TESTING, bbox=(0.0, 0.0, 1.0, 1.0)))
    assert (nothing.matched, nothing.returned) == (0, 0)
    assert "OVER ()" in ogc.items_statement(ogc.ItemQuery(layer=TESTING, bbox=province))[0]
    assert "OVER ()" not in ogc.items_statement(ogc.ItemQuery(layer=TESTING))[0]
