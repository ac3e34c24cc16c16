"""Lockdown zones whose period ended are never drawn or counted as current (demo facts)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import text

from tests.browser import watch_errors

LEGEND = re.compile(r"epimap\.addLegend\(\w+, (\[.*?\])\);")


def _metas(client, url: str) -> dict[str, dict]:
    html = client.get(url).get_data(as_text=True)
    return {m["id"]: m for m in json.loads(LEGEND.search(html).group(1))}


def _in_force(connection, day: str, unit_level: str | None = None, code: str | None = None) -> int:
    where = " AND units ->> :lvl = :code" if unit_level else ""
    return connection.execute(text(
        "SELECT count(*) FROM feature WHERE layer_id = 'lockdown_zones' AND valid_to_pub IS NULL"  # noqa: S608
        " AND props ->> 'valid_from' <= :d AND (props ->> 'valid_to' IS NULL OR props ->> 'valid_to' >= :d)"
        + where), {"d": day, "lvl": unit_level, "code": code}).scalar()


def _ended(connection) -> int:
    return connection.execute(text(
        "SELECT count(*) FROM feature WHERE layer_id = 'lockdown_zones' AND valid_to_pub IS NULL"  # noqa: S608
        " AND props ->> 'valid_to' < :today"), {"today": date.today().isoformat()}).scalar()


@pytest.mark.parametrize("url", ["/", "/map/718", "/embed/74", "/?lang=en"])
def test_ended_zones_are_not_counted_as_current(client, connection, url):
    assert _ended(connection) > 0  # the demo's zones of August 2021 have all ended
    zones = _metas(client, url)["lockdown_zones"]
    assert zones["count"] == _in_force(connection, date.today().isoformat()) == 0
    assert zones["period"]["day"] == zones["period"]["today"]


def test_a_past_date_counts_the_zones_in_force_that_day_in_the_unit(client, connection):
    zones = _metas(client, "/?date=2021-08-10")["lockdown_zones"]
    assert zones["count"] == _in_force(connection, "2021-08-10", "province", "74") > 0
    assert zones["period"] == {"day": "2021-08-10", "today": zones["period"]["today"]}
    commune = _metas(client, "/map/25747?date=2021-08-10")["lockdown_zones"]
    assert commune["count"] == _in_force(connection, "2021-08-10", "commune", "25747")
    assert commune["count"] < zones["count"]  # the commune's, not the province's


def _zone_paths(page) -> int:
    """Count the lockdown zone outlines Leaflet drew (stroke on, in the zones' colour)."""
    return page.evaluate(
        "() => [...document.querySelectorAll('.leaflet-tile-container path')]"
        ".filter(p => p.getAttribute('stroke') === '#d92d20' && p.getAttribute('fill') !== 'none').length")


def test_the_map_draws_no_ended_zone_and_marks_a_past_days_zones_as_ended(browser, live_server):
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors = watch_errors(page)
    page.goto(live_server + "/", wait_until="networkidle")
    page.wait_for_selector(".leaflet-tile-container path", state="attached")
    assert _zone_paths(page) == 0
    assert "Vùng phong tỏa (0)" in page.locator(".legend").inner_text()
    page.goto(live_server + "/?date=2021-08-10", wait_until="networkidle")
    page.wait_for_function("() => document.querySelectorAll('.leaflet-tile-container path').length > 0")
    assert _zone_paths(page) > 0
    legend = page.locator(".legend").inner_text()
    assert "hiệu lực ngày 10/08/2021" in legend
    dashed = page.evaluate(
        "() => [...document.querySelectorAll('.leaflet-tile-container path')]"
        ".filter(p => p.getAttribute('stroke') === '#d92d20')"
        ".every(p => p.getAttribute('stroke-dasharray') && p.getAttribute('fill').startsWith('url(#hatch'))")
    assert dashed  # ended (dashed) and hatched, unlike the choropleth's flat reds
    assert errors == []
    page.close()
