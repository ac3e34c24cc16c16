"""No statement of the portal's public read paths is planned with a parallel node.

A parallel plan starts worker processes for each statement, 15-20 ms, to share scans and sorts
that take a few ms: it made the OGC items request five times slower (issue 19).  The demo's
testing sites are enlarged to a province-sized layer, inside the test's transaction on a
connection of the portal's own engine; every statement the requests run, those inside
``nearest_candidates`` too, is recorded by ``auto_explain`` as it is planned, custom and generic
alike.  The same requests with parallel query allowed must then show a parallel plan: the data is
large enough for the check to mean something.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from psycopg.errors import Diagnostic
from sqlalchemy import Connection, text

from epimap.settings import load_settings
from layers.catalog import default_catalog
from layers.overview import build_overview
from portal import create_app
from portal.database import engine_for

SITES = 200_000
SEED = 0.19
PARALLEL = re.compile(r"^\s*(?:->\s+)?(?:Gather|Parallel )", re.MULTILINE)  # a plan node's line
# Inserted as the demo's current testing sites, drawn inside the province as the CDC's feed would.
ENLARGE = """
INSERT INTO feature (layer_id, source_id, geom, props, units, approximate, content_hash, source_row,
                     valid_from_pub)
SELECT 'testing_sites', 'XN-' || lpad(d.path[1]::text, 7, '0'), d.geom,
       jsonb_build_object('name', 'Điểm xét nghiệm số ' || d.path[1], 'address', 'Số ' || d.path[1],
                          'test_types', 'RT-PCR', 'hours', '7h00 - 17h00', 'phone', '0274 3822222'),
       jsonb_build_object('province', '74'), false, md5(d.path[1]::text), d.path[1], :pub
FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, :n, 19))).* FROM admin_unit
      WHERE boundary_set = 'vn2021' AND code = '74') d
"""


def _public_paths(publication: int) -> list[str]:
    """Every public read path, as a visitor's browser, the finder or a GIS client asks for it."""
    tile = f"/tiles/testing_sites/{publication}"
    return [
        f"{tile}/8/203/120.mvt", f"{tile}/11/1630/963.mvt", f"{tile}/15/26086/15412.mvt",
        "/tiles/testing_sites.json", "/tiles/boundaries/vn2021/commune/11/1630/963.mvt",
        "/api/nearby?lat=10.98&lon=106.65&layer=testing_sites&limit=10",
        "/api/nearby?lat=10.98&lon=106.65&layer=testing_sites&limit=10&open_now=1&exclude_lockdown=1",
        "/ogc/collections", "/ogc/collections/testing_sites",
        "/ogc/collections/testing_sites/items?limit=100",
        "/ogc/collections/testing_sites/items?bbox=106.65,11.0,106.66,11.01&limit=100",
        "/ogc/collections/testing_sites/items?bbox=106.4,10.9,106.9,11.4&limit=100&offset=1000",
        "/ogc/collections/testing_sites/items/XN-0000042",
        "/", "/map/74", "/map/718",
        "/tim-diem?kind=testing&q=Hi%E1%BB%87p+Th%C3%A0nh", "/tim-diem?kind=testing&code=25741",
    ]


class Plans:
    """The plans ``auto_explain`` sends a connection as notices while it is recording."""

    def __init__(self, connection: Connection) -> None:
        self.driver = connection.connection.driver_connection
        self.texts: list[str] = []
        connection.exec_driver_sql("LOAD 'auto_explain'")
        for name, value in (("log_min_duration", "0"), ("log_nested_statements", "on"),
                            ("log_level", "notice")):
            connection.exec_driver_sql(f"SET LOCAL auto_explain.{name} = {value}")
        self.driver.add_notice_handler(self._notice)

    def _notice(self, diagnostic: Diagnostic) -> None:
        message = diagnostic.message_primary or ""
        if "plan:" in message:
            self.texts.append(message)

    def parallel(self) -> list[str]:
        """Return the recorded plans with a parallel node."""
        return [plan for plan in self.texts if PARALLEL.search(plan)]

    def close(self) -> None:
        self.driver.remove_notice_handler(self._notice)


@pytest.fixture
def serving(database_url: str, engine) -> Iterator[Connection]:
    """A connection of the portal's own engine in a transaction, never handed back to its pool
    (``engine`` is the session's: it loads the demo)."""
    connection = engine_for(load_settings({"database_url": database_url})).connect()
    transaction = connection.begin()
    try:
        yield connection
    finally:
        transaction.rollback()
        connection.invalidate()  # auto_explain stays loaded in its session
        connection.close()


def _enlarge(connection: Connection) -> int:
    layer = default_catalog().layer("testing_sites")
    publication = connection.execute(text(
        "SELECT max(id) FROM publication WHERE layer_id = 'testing_sites'")).scalar_one()
    connection.execute(text("SELECT setseed(:s)"), {"s": SEED})
    connection.execute(text(ENLARGE), {"pub": publication, "n": SITES})
    build_overview(connection, layer, publication)
    connection.exec_driver_sql("ANALYZE feature, cluster_overview")  # counts our own uncommitted rows
    return publication


def _run(client, paths: list[str]) -> None:
    for path in paths:
        response = client.get(path, headers={"Accept-Language": "vi"})
        assert response.status_code == 200, (path, response.status_code)


def test_public_reads_are_never_planned_in_parallel(serving: Connection, database_url: str):
    publication = _enlarge(serving)
    app = create_app({"bind": serving, "database_url": database_url, "basemap_url": "", "api_rate_limit": "",
                      "tile_cache_size": 0})
    client, paths = app.test_client(), _public_paths(publication)
    items = client.get("/ogc/collections/testing_sites/items?limit=1").json
    assert items["numberMatched"] > SITES  # the requests read the enlarged layer
    serving.connection.driver_connection.prepare_threshold = 0  # prepared at once: generic plans too
    plans = Plans(serving)
    try:
        for mode in ("force_custom_plan", "force_generic_plan"):
            serving.exec_driver_sql(f"SET LOCAL plan_cache_mode = {mode}")
            _run(client, paths)
        assert len(plans.texts) > 2 * len(paths)
        assert plans.parallel() == []
        serving.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 2")
        _run(client, paths)
        assert plans.parallel(), "no statement was worth a parallel plan: the data is too small"
    finally:
        plans.close()
