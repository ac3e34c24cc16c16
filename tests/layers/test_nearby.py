"""The nearest sites: exactly a brute-force geodesic sort, the KNN index, lockdown zones, hours."""

from __future__ import annotations

import random
import re
from datetime import datetime

import pytest
from pyproj import Geod
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers import nearby as nearby_module
from layers.catalog import default_catalog
from layers.nearby import knn_params, knn_sql, load_area, within_area

GEOD = Geod(ellps="WGS84")
BLOCKERS = tuple(layer.id for layer in default_catalog().access_blockers())


def nearby(*args, **kwargs):
    """Search as the portal does: flagging sites inside the catalogue's access blockers."""
    return nearby_module.nearby(*args, blockers=BLOCKERS, **kwargs)


TESTING = default_catalog().layers["testing_sites"]
VACCINATION = default_catalog().layers["vaccination_sites"]
SEEDED_SITES = 3000
DURING_LOCKDOWNS = datetime(2021, 8, 10, 9, 30)  # the demo's zones are in force 1–15 August 2021
LAI_HUNG_SITE = "diem xet nghiem luu dong lai hung@25834"  # inside "Toàn bộ Xã Lai Hưng"


@pytest.fixture
def session(connection):
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        yield session


def _publication(session: Session, layer_id: str) -> int:
    return session.execute(text(
        "INSERT INTO publication (layer_id, author, action, boundary_set, scope_code, scope_level)"
        " VALUES (:l, 'test', 'ingest', 'vn2021', '74', 'province') RETURNING id"),
        {"l": layer_id}).scalar_one()


@pytest.fixture
def seeded_sites(session):
    """Add (inside the test's transaction) thousands of testing sites spread over the province,
    each with a past version too, as a layer republished for a while has."""
    before, publication = _publication(session, "testing_sites"), _publication(session, "testing_sites")
    session.execute(text("SELECT setseed(0.2021)"))
    session.execute(text(
        """
        INSERT INTO feature (layer_id, source_id, geom, props, content_hash, valid_from_pub, valid_to_pub)
        SELECT 'testing_sites', 'seeded-' || (n / 2), p,
               jsonb_build_object('name', 'Điểm ' || (n / 2), 'note', 'nội bộ',
                                  'hours', (ARRAY['24/7', '7h - 17h', 'Liên hệ'])[1 + n / 2 % 3]),
               md5(n::text),
               CASE WHEN n % 2 = 0 THEN :pub ELSE :before END, CASE WHEN n % 2 = 0 THEN NULL ELSE :pub END
        FROM (SELECT n, ST_SetSRID(ST_MakePoint(ST_XMin(b) + random() * (ST_XMax(b) - ST_XMin(b)),
                                                 ST_YMin(b) + random() * (ST_YMax(b) - ST_YMin(b))),
                                   4326) AS p
              FROM generate_series(1, :n) AS n,
                   (SELECT geom::box2d AS b FROM admin_unit
                    WHERE boundary_set = 'vn2021' AND code = '74') q) r
        WHERE ST_Intersects(p, (SELECT geom FROM admin_unit WHERE boundary_set = 'vn2021' AND code = '74'))
        """), {"pub": publication, "before": before, "n": 2 * SEEDED_SITES})
    session.execute(text("ANALYZE feature"))
    return publication


def _all_sites(session: Session, layer_id: str, hours: str | None = None) -> list[tuple[str, float, float]]:
    return [tuple(r) for r in session.execute(text(
        "SELECT source_id, ST_X(geom), ST_Y(geom) FROM feature WHERE layer_id = :l AND valid_to_pub IS NULL"
        " AND (CAST(:h AS text) IS NULL OR props ->> 'hours' = :h)"), {"l": layer_id, "h": hours})]


def _brute_force(sites, lon: float, lat: float, limit: int) -> list[tuple[str, float]]:
    measured = [(sid, GEOD.inv(lon, lat, x, y)[2]) for sid, x, y in sites]
    return sorted(measured, key=lambda item: (item[1], item[0]))[:limit]


def _random_points(session: Session, count: int, seed: int,
                   outside: bool = False) -> list[tuple[float, float]]:
    """Seeded random points inside the province, or outside it in a box 0.4° wider each way."""
    area = load_area(session, "vn2021")
    west, south, east, north = area.geometry.bounds
    grow = 0.4 if outside else 0.0
    rng, points = random.Random(seed), []
    while len(points) < count:
        lon, lat = rng.uniform(west - grow, east + grow), rng.uniform(south - grow, north + grow)
        if within_area(session, area, lon, lat, 0) != outside:
            points.append((lon, lat))
    return points


@pytest.fixture
def walks(monkeypatch):
    """How many features each statement ``nearby`` runs walked, and the ``k`` it asked to prove."""
    walked: list[tuple[int, int]] = []
    walk = nearby_module._walk

    def recording(driver, params, blockers):
        rows = walk(driver, params, blockers)
        walked.append((params["k"], len(rows)))
        return rows

    monkeypatch.setattr(nearby_module, "_walk", recording)
    return walked


def _assert_same(found: list[dict], expected: list[tuple[str, float]]) -> None:
    assert [s["id"] for s in found] == [sid for sid, _ in expected]
    for site, (_, metres) in zip(found, expected, strict=True):
        assert site["distance_m"] == pytest.approx(metres, abs=0.01)


def test_results_equal_a_brute_force_geodesic_sort(session, seeded_sites):
    sites = _all_sites(session, "testing_sites")
    assert len(sites) > 1500
    points = _random_points(session, 25, seed=5)
    for lon, lat in points:
        for limit in (1, 7, 25):
            _assert_same(nearby(session, TESTING, lon, lat, limit), _brute_force(sites, lon, lat, limit))


def test_one_walk_as_long_as_each_point_needs(session, seeded_sites, walks):
    """Inside the province the walk stops a few features after the answers; outside it, where
    every candidate is about as far and planar order is least trusted, it goes on further; each
    point takes one statement and the answer is exact."""
    sites = _all_sites(session, "testing_sites")
    lengths = {}
    for outside in (False, True):
        walks.clear()
        points = _random_points(session, 20, seed=17, outside=outside)
        for lon, lat in points:
            _assert_same(nearby(session, TESTING, lon, lat, 10), _brute_force(sites, lon, lat, 10))
        assert len(walks) == len(points)
        lengths[outside] = sorted(length for _, length in walks)
    assert lengths[False][10] <= 15, lengths  # the median point inside walks at most 15 features
    assert lengths[True][-1] > 15, lengths  # far outside, some walk much further


def test_exact_for_points_outside_the_province(session, seeded_sites):
    """Far from the sites every candidate is about as far: the planar order is least trusted."""
    sites = _all_sites(session, "testing_sites")
    for lon, lat in _random_points(session, 20, seed=17, outside=True):
        for limit in (1, 10):
            _assert_same(nearby(session, TESTING, lon, lat, limit), _brute_force(sites, lon, lat, limit))


def test_exact_with_the_filters(session, seeded_sites, walks):
    """Only sites open on a Sunday evening (the "24/7" ones) and outside a zone in force."""
    sunday_evening = datetime(2021, 8, 22, 20, 0)
    open_sites = _all_sites(session, "testing_sites", hours="24/7")
    for lon, lat in _random_points(session, 8, seed=23) + _random_points(session, 4, seed=29, outside=True):
        found = nearby(session, TESTING, lon, lat, 5, open_now=True, at=sunday_evening)
        _assert_same(found, _brute_force(open_sites, lon, lat, 5))
    assert any(k > 5 for k, _ in walks)  # a third are open: some points needed a longer walk
    lon, lat = 106.65, 10.98
    nearest = nearby(session, TESTING, lon, lat, 3)
    session.execute(text(
        "INSERT INTO feature (layer_id, source_id, geom, props, content_hash, valid_from_pub)"
        " SELECT 'lockdown_zones', 'around', ST_Buffer(geom, 0.0001), jsonb_build_object('name', 'x',"
        " 'decision_number', '1', 'valid_from', '2021-01-01'), 'x', :p FROM feature"
        " WHERE layer_id = 'testing_sites' AND valid_to_pub IS NULL AND source_id = :s"),
        {"p": _publication(session, "lockdown_zones"), "s": nearest[0]["id"]})
    kept = nearby(session, TESTING, lon, lat, 2, exclude_lockdown=True)
    assert [s["id"] for s in kept] == [s["id"] for s in nearest[1:]]


def test_small_layers_and_points_outside_the_province(session):
    sites = _all_sites(session, "vaccination_sites")
    for lon, lat in [(106.65, 10.98), (106.4, 11.45), (105.0, 9.0), (108.2, 16.05)]:
        _assert_same(nearby(session, VACCINATION, lon, lat, 100), _brute_force(sites, lon, lat, 100))
    assert nearby(session, default_catalog().layers["pharmacies"], 106.65, 10.98, 5) == []


def test_walk_returns_only_proven_answers_when_cut_short(session, seeded_sites, monkeypatch):
    """When even the longest walk leaves too few open sites, the answer keeps only those proven
    nearest: a prefix of the true order, never a farther site in a nearer one's place."""
    monkeypatch.setattr(nearby_module, "MAX_CANDIDATES", 12)
    sunday_evening = datetime(2021, 8, 22, 20, 0)
    open_sites = _all_sites(session, "testing_sites", hours="24/7")
    cut_short = 0
    for lon, lat in _random_points(session, 10, seed=31):
        found = nearby(session, TESTING, lon, lat, 10, open_now=True, at=sunday_evening)
        _assert_same(found, _brute_force(open_sites, lon, lat, len(found)))
        cut_short += len(found) < 10
    assert cut_short


def _feature_scans(session: Session) -> tuple[int, int]:
    """Return the sequential and index scans of the testing sites' partition in this transaction."""
    return session.execute(text(
        "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables"
        " WHERE relid = feature_partition('testing_sites')::regclass")).one()


@pytest.mark.parametrize("plan_cache_mode", ["auto", "force_custom_plan", "force_generic_plan"])
def test_the_walk_keeps_to_the_indexes(session, seeded_sites, plan_cache_mode):
    """The walk inside ``nearest_candidates`` and the statement around it read the walked layer
    through indexes only, however PostgreSQL plans them (psycopg prepares a statement run five times,
    and PL/pgSQL its queries: either may get one plan for any parameters)."""
    session.execute(text(f"SET LOCAL plan_cache_mode = {plan_cache_mode}"))
    seq_before, index_before = _feature_scans(session)
    for lon, lat in _random_points(session, 8, seed=37) + [(106.2, 10.8)]:
        assert len(nearby(session, TESTING, lon, lat, 10)) == 10
    seq_after, index_after = _feature_scans(session)
    assert seq_after == seq_before
    assert index_after > index_before


def test_generic_plan_of_the_prepared_statement_keeps_to_the_indexes(session, seeded_sites):
    """The statement around the walk, planned once for any parameters, reads the zones from their
    own partition only (a generic plan once scanned every feature for them)."""
    types = {"lon": "float8", "lat": "float8", "layer": "text", "day": "text", "k": "int", "cap": "int"}
    names: list[str] = []

    def placeholder(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    body = re.sub(r"(?<!:):(\w+)", placeholder, knn_sql(BLOCKERS))
    values = knn_params("testing_sites", 106.65, 10.98, 10, "2021-08-10")
    session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    session.execute(text(f"PREPARE knn ({', '.join(types[n] for n in names)}) AS {body}"))
    arguments = ", ".join(repr(values[n]) if isinstance(values[n], str) else str(values[n]).lower()
                          for n in names)
    plan = "\n".join(r[0] for r in session.execute(text(f"EXPLAIN EXECUTE knn ({arguments})")))
    session.execute(text("DEALLOCATE knn"))
    assert "Function Scan on nearest_candidates" in plan, plan
    scanned = re.findall(r"Scan(?: using \w+)? on (feature\w*)", plan)
    assert scanned and set(scanned) == {"feature_lockdown_zones"}, plan


def test_only_public_attributes(session, seeded_sites):
    site = nearby(session, TESTING, 106.65, 10.98, 50)
    seeded = [s for s in site if s["id"].startswith("seeded-")]
    assert seeded and all("note" not in s["props"] for s in seeded)
    assert all(set(s["props"]) <= set(TESTING.public_attributes) for s in site)


def test_lockdown_flag_and_exclusion(session):
    expected = {r[0] for r in session.execute(text(
        "SELECT f.source_id FROM feature f JOIN feature z ON z.layer_id = 'lockdown_zones'"
        " AND z.valid_to_pub IS NULL AND ST_Intersects(z.geom, f.geom)"
        " AND z.props ->> 'valid_from' <= '2021-08-10' AND z.props ->> 'valid_to' >= '2021-08-10'"
        " WHERE f.layer_id = 'testing_sites' AND f.valid_to_pub IS NULL"))}
    assert expected == {LAI_HUNG_SITE}
    lon, lat = next((x, y) for sid, x, y in _all_sites(session, "testing_sites") if sid == LAI_HUNG_SITE)
    during = nearby(session, TESTING, lon, lat, 40, at=DURING_LOCKDOWNS)
    assert during[0]["id"] == LAI_HUNG_SITE and during[0]["in_lockdown"] is True
    assert {s["id"] for s in during if s["in_lockdown"]} == expected
    excluded = nearby(session, TESTING, lon, lat, 5, exclude_lockdown=True, at=DURING_LOCKDOWNS)
    assert LAI_HUNG_SITE not in {s["id"] for s in excluded} and len(excluded) == 5
    assert excluded[0]["id"] == during[1]["id"]
    later = nearby(session, TESTING, lon, lat, 1, at=datetime(2021, 9, 1, 9, 0))
    assert later[0]["id"] == LAI_HUNG_SITE and later[0]["in_lockdown"] is False


def test_a_zone_without_an_end_date_is_in_force(session):
    publication = _publication(session, "lockdown_zones")
    session.execute(text(
        "INSERT INTO feature (layer_id, source_id, geom, props, content_hash, valid_from_pub)"
        " VALUES ('lockdown_zones', 'open-ended', ST_Buffer(ST_SetSRID(ST_MakePoint(106.651953, 10.980862),"
        " 4326), 0.001), jsonb_build_object('name', 'Khu phố 1', 'decision_number', '1/QĐ',"
        " 'valid_from', '2021-01-01'), 'x', :p)"), {"p": publication})
    found = nearby(session, TESTING, 106.65, 10.98, 2)
    assert found[0]["id"] == "tram y te phu cuong@25747" and found[0]["in_lockdown"] is True
    assert found[1]["in_lockdown"] is False
    assert nearby(session, TESTING, 106.65, 10.98, 1, exclude_lockdown=True)[0]["id"] == found[1]["id"]


def test_open_now_filter(session):
    lon, lat = 106.65, 10.98
    morning, evening = datetime(2021, 8, 16, 9, 0), datetime(2021, 8, 16, 19, 0)
    open_sites = nearby(session, TESTING, lon, lat, 5, open_now=True, at=morning)
    assert len(open_sites) == 5 and all(s["open_now"] is True for s in open_sites)
    assert nearby(session, TESTING, lon, lat, 5, open_now=True, at=evening) == []
    everything = nearby(session, TESTING, lon, lat, 5, at=evening)
    assert [s["open_now"] for s in everything] == [False] * 5
    vaccination = nearby(session, VACCINATION, lon, lat, 3, at=morning)
    assert [s["open_now"] for s in vaccination] == [None] * 3  # the feed gives no hours


def test_within_area(session):
    area = load_area(session, "vn2021")
    assert within_area(session, area, 106.65, 10.98, 50_000)  # Thủ Dầu Một
    assert within_area(session, area, 106.70, 10.78, 50_000)  # Hồ Chí Minh City, next door
    assert not within_area(session, area, 105.85, 21.03, 50_000)  # Hà Nội
    # Near the 50 km line the planar bounds cannot decide: PostGIS measures on the ellipsoid.
    edge = session.execute(text(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Project(ST_ClosestPoint(geom,"
        " ST_SetSRID(ST_MakePoint(107.6, 11.2), 4326))::geography, :d, radians(90))::geometry AS p"
        " FROM admin_unit WHERE boundary_set = 'vn2021' AND code = '74') q"), {"d": 49_900}).one()
    assert within_area(session, area, edge[0], edge[1], 50_000)
    assert not within_area(session, area, edge[0], edge[1], 49_000)
    assert not within_area(session, load_area(session, "no-such-set"), 106.65, 10.98, 50_000)
