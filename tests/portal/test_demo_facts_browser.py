"""Demo facts: no map, legend, popup, embed, text view or map image of the demo shows an ended lockdown
zone as current, a zero for a unit without figures, or an internal key a person cannot read.

The truth is read from the database by the SQL below, independently of the portal's own queries.
"""

from __future__ import annotations

import html as htmllib
import re
from datetime import datetime

import pytest
from matplotlib.text import Text
from sqlalchemy import text

from boundaries import queries
from layers.catalog import load_catalog
from layers.hours import VIETNAM
from portal.database import db_session
from portal.i18n import messages
from portal.share.snapshot import draw, read_scene
from tests.browser import watch_errors

# The language is kept in a cookie once chosen: each page names its own.
MAP_PAGES = ["/?lang=vi", "/map/74?lang=vi", "/map/718?lang=vi", "/map/25741?lang=vi", "/map/25741?lang=en",
             "/?lang=en", "/embed/718?lang=vi"]
TEXT_VIEWS = [("/map/vn2021/74/van-ban?lang=vi", ("province", "74")),
              ("/map/vn2021/725/van-ban?lang=vi", ("district", "725")),
              ("/map/vn2021/718/van-ban?lang=en", ("district", "718")),
              ("/map/vn2021/25741/van-ban?lang=vi", ("commune", "25741"))]
PAST_DAY = "2021-08-10"  # the demo's zones were in force that day and have all ended since
ZONE_COLOUR = "#d92d20"
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
SOURCE_ID = re.compile(r"\S+@\d+")

# Zone outlines Leaflet drew in the page, and how many of them are drawn as current (not dashed).
_ZONES_JS = f"""() => {{
  const zones = [...document.querySelectorAll('.leaflet-tile-container path')]
    .filter(p => p.getAttribute('stroke') === '{ZONE_COLOUR}' && p.getAttribute('fill') !== 'none');
  return [zones.length, zones.filter(p => !p.getAttribute('stroke-dasharray')).length];
}}"""
# The centres of a few drawn features of the layers (never the units, whose click opens another page).
_FEATURES_JS = """(colours) => [
  ...document.querySelectorAll('.leaflet-tile-container path.leaflet-interactive')]
  .filter(p => colours.includes(p.getAttribute('fill')) || colours.includes(p.getAttribute('stroke')))
  .map(p => p.getBoundingClientRect())
  .filter(r => r.width > 0 && r.top > 80 && r.left > 60 && r.bottom < innerHeight - 40)
  .map(r => [r.left + r.width / 2, r.top + r.height / 2])"""


def _today() -> str:
    return datetime.now(VIETNAM).date().isoformat()


def _zones(connection, day: str, unit: tuple[str, str] | None = None) -> int:
    """Count the lockdown zones in force on a day (optionally inside a unit)."""
    where = " AND units ->> :level = :code" if unit else ""
    return connection.execute(text(
        "SELECT count(*) FROM feature WHERE layer_id = 'lockdown_zones' AND valid_to_pub IS NULL"  # noqa: S608
        " AND props ->> 'valid_from' <= :d AND coalesce(props ->> 'valid_to', '9999') >= :d" + where),
        {"d": day, "level": unit[0] if unit else None, "code": unit[1] if unit else None}).scalar()


def _ended(connection) -> int:
    return connection.execute(text(
        "SELECT count(*) FROM feature WHERE layer_id = 'lockdown_zones' AND valid_to_pub IS NULL"
        " AND props ->> 'valid_to' < :today"), {"today": _today()}).scalar()


def _without_figures(connection, parent: str) -> dict[str, str]:
    """Return the children of a unit with no new-case figure, theirs or their subunits', in the shown week."""
    rows = connection.execute(text("""
        WITH RECURSIVE last AS (SELECT max(day) AS d FROM unit_stat
                                WHERE boundary_set = 'vn2021' AND metric = 'new_cases'),
        down AS (SELECT code AS top, code FROM admin_unit WHERE boundary_set = 'vn2021' AND parent_code = :p
                 UNION SELECT down.top, a.code FROM admin_unit a JOIN down
                 ON a.boundary_set = 'vn2021' AND a.parent_code = down.code)
        SELECT u.code, u.name FROM admin_unit u WHERE u.boundary_set = 'vn2021' AND u.parent_code = :p
        AND NOT EXISTS (SELECT 1 FROM down JOIN unit_stat s ON s.unit_code = down.code, last
                        WHERE down.top = u.code AND s.boundary_set = 'vn2021' AND s.metric = 'new_cases'
                        AND s.day > last.d - 7 AND s.day <= last.d)"""), {"p": parent}).all()
    return {code: name for code, name in rows}


def _internal_keys(app) -> tuple[set[str], set[str]]:
    """Return the keys people must never read: (any page) and (Vietnamese pages: plain English words)."""
    catalog = load_catalog(app.config["SETTINGS"].catalog_file)
    keys = {layer.id for layer in catalog.feature_layers()}
    for layer in catalog.feature_layers():
        for attribute in layer.attributes:
            keys.add(attribute.name)
            keys.update(attribute.choices)
    keys.update(messages(app))
    return {k for k in keys if "_" in k}, {k for k in keys if "_" not in k}


def _leaks(page_text: str, keys: tuple[set[str], set[str]], lang: str) -> list[str]:
    """Return the internal keys, snake_case words and raw source ids found in a text people read."""
    words = set(re.findall(r"[\w@#-]+", page_text))
    found = sorted((words & keys[0]) | set(SNAKE.findall(page_text)) | set(SOURCE_ID.findall(page_text)))
    if lang == "vi":
        found += sorted(words & keys[1])
    return found


@pytest.fixture(scope="module")
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.errors = watch_errors(page)
    yield page
    context.close()


def _open(page, url: str) -> str:
    page.goto(url, wait_until="networkidle")
    page.wait_for_selector(".leaflet-tile-container path", state="attached")
    return page.inner_text("body")


def _popups(page, colours: list[str], most: int = 4) -> list[str]:
    """Open the popups of a few drawn features and return their text."""
    texts = []
    for x, y in page.evaluate(_FEATURES_JS, colours)[:most]:
        page.mouse.click(x, y)
        popup = page.locator(".leaflet-popup-content")
        if popup.count():
            texts += popup.all_inner_texts()
            page.keyboard.press("Escape")
            page.evaluate("() => epimap.map.closePopup()")
    return texts


def test_map_pages_and_popups_show_no_ended_zone_and_no_key(page, live_server, app, connection):
    keys = _internal_keys(app)
    assert _ended(connection) > 0  # the demo's zones have ended: what must not be shown as current
    colours = [layer.color for layer in load_catalog(app.config["SETTINGS"].catalog_file).feature_layers()]
    popups = []
    # A commune's embed with its checkpoints on: their popups show a choice (checkpoint or roadblock).
    commune = connection.execute(text(
        "SELECT units ->> 'commune' FROM feature WHERE layer_id = 'checkpoints' AND valid_to_pub IS NULL"
        " ORDER BY source_id LIMIT 1")).scalar_one()
    leaves = [f"/embed/{commune}?layers=checkpoints&lang={lang}" for lang in ("vi", "en")]
    for url in MAP_PAGES + leaves:
        body = _open(page, live_server + url)
        lang = "en" if "lang=en" in url else "vi"
        assert _leaks(body, keys, lang) == [], url
        assert page.evaluate(_ZONES_JS) == [0, 0], url  # nothing in force today: no zone drawn
        legend = page.locator(".legend").inner_text()
        title = "Lockdown zones" if lang == "en" else "Vùng phong tỏa"
        if url not in leaves:
            assert f"{title} ({_zones(connection, _today())})" in legend, url
        found = _popups(page, colours) if "25741" in url or url in leaves else []  # no child to click
        assert all(not _leaks(text_, keys, lang) for text_ in found), found
        popups += found
    kinds = {"Chốt kiểm soát", "Rào chắn", "Checkpoint", "Roadblock"}
    assert any(kind in popup for popup in popups for kind in kinds), popups  # real popups, choices read
    assert page.errors == []


def test_a_past_day_draws_its_zones_as_ended_never_as_current(page, live_server, app, connection):
    keys = _internal_keys(app)
    commune = connection.execute(text(
        "SELECT units ->> 'commune' FROM feature WHERE layer_id = 'lockdown_zones' AND valid_to_pub IS NULL"
        " AND props ->> 'valid_from' <= :d AND props ->> 'valid_to' >= :d ORDER BY source_id LIMIT 1"),
        {"d": PAST_DAY}).scalar_one()
    _open(page, f"{live_server}/map/{commune}?date={PAST_DAY}&lang=vi")
    page.wait_for_function(f"() => ({_ZONES_JS})()[0] > 0")
    drawn, current = page.evaluate(_ZONES_JS)
    assert current == _zones(connection, _today()) == 0 < drawn
    legend = page.locator(".legend").inner_text()
    assert f"Vùng phong tỏa ({_zones(connection, PAST_DAY, ('commune', commune))})" in legend
    found = _popups(page, [ZONE_COLOUR], most=2)
    assert found and all("Đã kết thúc ngày" in t for t in found), found
    assert all(not _leaks(t, keys, "vi") for t in found)
    listed = _visible_text(app.test_client(), f"/map/vn2021/{commune}/van-ban?date={PAST_DAY}&lang=vi")
    assert "Đã kết thúc ngày" in listed  # the text view lists that day's zones, marked as ended
    assert page.errors == []


@pytest.mark.parametrize(("url", "unit"), TEXT_VIEWS)
def test_text_views_show_no_ended_zone_as_current_and_no_key(client, app, connection, url, unit):
    body = _visible_text(client, url)
    lang = "en" if "lang=en" in url else "vi"
    assert _leaks(body, _internal_keys(app), lang) == []
    title = "Lockdown zones" if lang == "en" else "Vùng phong tỏa"
    listed = re.search(rf"{title} \((\d+)\+?\)", body)
    assert (int(listed.group(1)) if listed else 0) == _zones(connection, _today(), unit)


def _visible_text(client, url: str) -> str:
    """Return the text of a page's body as a person reads it (no tags, scripts or styles)."""
    page = client.get(url).get_data(as_text=True)
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page.split("<body", 1)[1], flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", body))


def test_units_without_figures_say_so_and_never_show_zero(client, connection):
    communes = _without_figures(connection, "718")
    assert communes  # the demo has communes without figures in the week shown
    for stat in ("new_cases_7d", "cases_per_100k"):
        for lang, words in (("vi", "Không có số liệu"), ("en", "No data")):
            html = client.get(f"/map/vn2021/718/van-ban?stat={stat}&lang={lang}").get_data(as_text=True)
            for name in communes.values():
                row = re.search(rf">{re.escape(name)}</a></td>\s*<td>([^<]*)</td>", html)
                assert row and row.group(1).strip() == words, (stat, lang, name)
        page = client.get(f"/map/718?stat={stat}&lang=vi").get_data(as_text=True)
        colours = re.search(r"epimap\.childStyle\(\"718\", (\{.*?\})\)", page).group(1)
        assert not any(f'"{code}"' in colours for code in communes), stat  # drawn grey: no data
    for code in list(communes)[:2]:
        week = _visible_text(client, f"/map/{code}?lang=vi")
        assert re.search(r"Ca mắc mới 7 ngày qua:\s+chưa có số liệu", week), code


def _image_texts(app, url: str, code: str, args: dict[str, str]) -> tuple[list[str], dict[str, float]]:
    """Draw a unit's map image; return its texts and the values of its children."""
    with app.test_request_context(url):
        session = db_session()
        scene = read_scene(session, queries.get_unit(session, "vn2021", code), args)
        fig = draw(scene)
    texts = [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    return texts, scene.stats.child_values


def test_map_images_count_no_ended_zone_show_no_false_zero_and_no_key(app, connection):
    keys = _internal_keys(app)
    for lang in ("vi", "en"):
        texts, values = _image_texts(app, f"/snapshot/718.png?lang={lang}&layers=lockdown_zones", "718",
                                     {"layers": "lockdown_zones", "stat": "cases_per_100k"})
        assert _leaks("\n".join(texts), keys, lang) == []
        title = "Lockdown zones" if lang == "en" else "Vùng phong tỏa"
        assert f"{title} ({_zones(connection, _today())})" in texts
        assert not set(values) & set(_without_figures(connection, "718"))  # grey, never a 0 class


def test_a_past_days_image_counts_that_days_zones_and_says_which_day(app, connection):
    url = f"/snapshot/74.png?date={PAST_DAY}&layers=lockdown_zones&lang=vi"
    with app.test_request_context(url):
        session = db_session()
        scene = read_scene(session, queries.get_unit(session, "vn2021", "74"),
                           {"date": PAST_DAY, "layers": "lockdown_zones"})
        texts = [t.get_text() for t in draw(scene).findobj(Text) if t.get_visible()]
    west, south, east, north = scene.bbox
    in_box = connection.execute(text(
        "SELECT count(*) FROM feature WHERE layer_id = 'lockdown_zones' AND valid_to_pub IS NULL"
        " AND props ->> 'valid_from' <= :d AND coalesce(props ->> 'valid_to', '9999') >= :d"
        " AND geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"),
        {"d": PAST_DAY, "w": west, "s": south, "e": east, "n": north}).scalar()
    assert in_box > 0
    assert f"Vùng phong tỏa ({in_box})\nHiệu lực ngày 10/08/2021" in texts  # not shown as current


def test_share_metadata_names_no_key(client, app):
    keys = _internal_keys(app)
    for url in ("/map/718?lang=vi", "/map/25741?lang=en", "/map/vn2021/74/van-ban?lang=vi"):
        page = client.get(url).get_data(as_text=True)
        metas = re.findall(r'<meta (?:property|name)="(?:og|twitter):(?:title|description|image:alt)"'
                           r' content="([^"]*)"', page)
        assert len(metas) >= 5
        lang = "en" if "lang=en" in url else "vi"
        assert _leaks(htmllib.unescape(" ".join(metas)), keys, lang) == [], (url, metas)
        oembed = client.get("/oembed", query_string={"url": "http://localhost" + url}).get_json() or {}
        assert _leaks(" ".join(str(v) for v in oembed.values() if isinstance(v, str) and "://" not in v),
                      keys, lang) == [], url
