"""Embeds in headless Chromium, framed by a page of another origin; the embed dialog of unit pages."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import text

from tests.browser import watch_errors
from tests.ingest.builders import NEW_POINT, changed_checkpoints
from tests.ingest.helpers import run
from tests.publications import undo_publications


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def other_origin(tmp_path_factory) -> Iterator[tuple[str, object]]:
    """Serve a folder from a second HTTP server (another port: another origin); yield (url, folder)."""
    folder = tmp_path_factory.mktemp("other_site")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()
    server.server_close()


def _host_page(other_origin, name: str, *frames: str) -> str:
    """Write a page of the other site framing the given URLs; return its URL."""
    base, folder = other_origin
    iframes = "\n".join(f'<iframe id="f{i}" src="{src}" width="800" height="600"></iframe>'
                        for i, src in enumerate(frames))
    (folder / name).write_text(
        '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"<title>Báo địa phương</title></head><body><h1>Tin dịch</h1>{iframes}</body></html>",
        encoding="utf-8")
    return f"{base}/{name}"


@pytest.fixture(scope="module")
def republished(engine, tmp_path_factory):
    """Publish (committed) a changed checkpoints feed; yield (old, new) publications; then undo it."""
    with engine.connect() as conn:
        old = conn.execute(text("SELECT max(id) FROM publication WHERE layer_id = 'checkpoints'")).scalar()
    report = run(engine, changed_checkpoints(tmp_path_factory.mktemp("feeds") / "chot.csv"), "checkpoints")
    assert report.publication and report.publication != old
    yield old, report.publication
    with engine.begin() as conn:
        undo_publications(conn, [report.publication])


def _map_drawn(frame) -> None:
    frame.wait_for_function("() => window.epimap && epimap.map"
                            " && document.querySelectorAll('.leaflet-tile-container path').length > 0")


def test_embed_framed_by_another_origin_draws_its_map(browser, live_server, other_origin):
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    errors = watch_errors(page)
    page.goto(_host_page(other_origin, "one.html", f"{live_server}/embed/718"), wait_until="networkidle")
    frame = page.frame_locator("#f0")
    inner = page.frames[1]
    assert inner.url == f"{live_server}/embed/718"
    _map_drawn(inner)
    assert frame.locator(".topbar, .unit-panel").count() == 0
    # The legend lists the layers switched on (it listed every layer, shown or not).
    switched_on = frame.locator(".leaflet-control-layers-overlays input:checked").count()
    assert switched_on >= 3  # the subdivisions (keyed in the footer) and two layers
    assert frame.locator(".legend .legend-row").count() == switched_on - 1
    source = frame.locator("a.embed-source")
    assert source.inner_text().startswith("Nguồn: CDC Bình Dương · epimap · cập nhật ")
    assert source.get_attribute("target") == "_blank" and source.get_attribute("rel") == "noopener"
    assert source.get_attribute("href") == f"{live_server}/map/718"
    assert "epimap" in frame.locator(".leaflet-control-attribution").inner_text()
    labels = frame.locator(".unit-label").evaluate_all("spans => spans.map(s => s.textContent)")
    assert "Phường Phú Cường" in labels  # in the page, shown where it does not collide
    assert errors == []
    page.close()


def _layer_state(frame, layer_id: str) -> dict:
    """Return the tile URL and legend count of a layer drawn in a frame, and its features drawn at
    the map's zoom (tiles of the zoom before linger a moment, until Leaflet prunes them)."""
    return frame.evaluate(
        "(id) => { let url = null, n = 0; const z = epimap.map.getZoom(); epimap.map.eachLayer(l => {"
        " if (l._url && l._url.includes('/tiles/' + id + '/')) { url = l._url;"
        " for (const t of Object.values(l._tiles)) if (t.coords.z === z)"
        " n += t.el.querySelectorAll('path').length; } });"
        " return {url: url, drawn: n, legend: document.querySelector('.legend').innerText}; }", layer_id)


def _count_in_718(engine, publication: int) -> int:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM feature WHERE layer_id = 'checkpoints' AND valid_from_pub <= :p"
            " AND (valid_to_pub IS NULL OR valid_to_pub > :p) AND units ->> 'district' = '718'"),
            {"p": publication}).scalar()


def test_pinned_embed_keeps_its_publication_while_the_live_one_changes(browser, live_server, other_origin,
                                                                        republished, engine):
    old, new = republished
    live = f"{live_server}/embed/718?layers=checkpoints"
    pinned = f"{live_server}/embed/718?layers=checkpoints&pub=checkpoints:{old}"
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    errors = watch_errors(page)
    page.goto(_host_page(other_origin, "two.html", live, pinned), wait_until="networkidle")
    frames = {f.url: f for f in page.frames[1:]}
    for frame in frames.values():
        _map_drawn(frame)
        frame.evaluate(f"() => epimap.map.setView([{NEW_POINT[0]}, {NEW_POINT[1]}], 16)")
    for frame in frames.values():  # every tile of the new view in, not just the first one drawn
        frame.wait_for_function(
            "() => { let busy = false; epimap.map.eachLayer(l => { if (l.isLoading && l.isLoading())"
            " busy = true; }); return !busy"
            " && document.querySelectorAll('.leaflet-tile-container path').length > 0; }")
    now, then = _layer_state(frames[live], "checkpoints"), _layer_state(frames[pinned], "checkpoints")
    # The legend counts the checkpoints in the unit shown (Thủ Dầu Một), not the province's 24 and 25.
    assert f"/tiles/checkpoints/{new}/" in now["url"] and f"({_count_in_718(engine, new)})" in now["legend"]
    assert f"/tiles/checkpoints/{old}/" in then["url"] and f"({_count_in_718(engine, old)})" in then["legend"]
    # The checkpoint added by the new publication (at NEW_POINT) is drawn live only.
    assert now["drawn"] == then["drawn"] + 1
    assert errors == []
    page.close()


def test_embed_dialog_makes_live_and_pinned_codes(browser, live_server):
    context = browser.new_context(viewport={"width": 1200, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(live_server + "/map/718", wait_until="networkidle")
    dialog = page.locator("#embed-dialog")
    assert not dialog.is_visible()
    page.get_by_role("button", name="Nhúng bản đồ").click()
    assert dialog.is_visible()
    code = dialog.locator("textarea")
    assert code.input_value().startswith(f'<iframe src="{live_server}/embed/718?layers=')
    # The default code is responsive (it was a fixed 600 × 400 frame that overflowed phones).
    assert 'width="100%"' in code.input_value() and "aspect-ratio:4/3" in code.input_value()
    assert "pub=" not in code.input_value()
    dialog.get_by_label("800 × 600").check()
    dialog.get_by_label("Cố định như đang xem", exact=False).check()
    dialog.locator("input[name='layer'][value='checkpoints']").check()
    dialog.locator("select[name='stat']").select_option("cases_per_100k")
    value = code.input_value()
    publications = dict(page.evaluate(
        "() => [...document.querySelectorAll(\"input[name='layer']:checked\")]"
        ".map(b => [b.value, b.dataset.publication])"))
    assert 'width="800" height="600"' in value and "stat=cases_per_100k" in value and "date=" in value
    for layer_id, publication in publications.items():
        assert f"{layer_id}:{publication}" in value
    src = value.split('src="')[1].split('"')[0].replace("&amp;", "&")
    assert dialog.locator(".embed-preview").get_attribute("href") == src
    dialog.get_by_role("button", name="Sao chép").click()
    page.wait_for_function("() => document.querySelector('.embed-status').textContent !== ''")
    assert dialog.locator(".embed-status").inner_text() == "Đã sao chép."
    assert page.evaluate("() => navigator.clipboard.readText()") == value
    dialog.get_by_role("button", name="Đóng").click()
    assert not dialog.is_visible()
    framed = browser.new_page()
    response = framed.goto(src, wait_until="networkidle")
    assert response.status == 200 and response.headers["cache-control"] == "public, max-age=86400"
    _map_drawn(framed)
    framed.close()
    assert errors == []
    context.close()


ARTICLE = {"width": 360, "height": 740}


def _article_page(other_origin, name: str, code: str) -> str:
    """Write a 360 px article page of the other site pasting an embed code as it is."""
    base, folder = other_origin
    (folder / name).write_text(
        '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Báo địa phương</title><style>body{margin:0;font:16px serif}article{padding:0 12px}</style>"
        f"</head><body><article><h1>Tin dịch</h1><p>Bản đồ mới nhất:</p>{code}<p>Hết.</p></article>"
        "</body></html>",
        encoding="utf-8")
    return f"{base}/{name}"


def test_the_default_embed_code_fits_a_360_px_article_with_its_whole_key(browser, live_server, other_origin):
    context = browser.new_context(viewport=ARTICLE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(live_server + "/map/718", wait_until="networkidle")
    code = page.locator("#embed-code").input_value()  # the dialog's default code, before any choice
    assert 'width="100%"' in code and "aspect-ratio:4/3" in code
    page.goto(_article_page(other_origin, "article.html", code), wait_until="networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= ARTICLE["width"]  # it was 608 px
    box = page.locator("iframe").bounding_box()
    assert box["width"] <= ARTICLE["width"] - 24 + 1 and box["height"] >= 0.7 * box["width"]
    frame = page.frames[1]
    _map_drawn(frame)
    assert frame.locator(".embed-title").inner_text() == "Thành phố Thủ Dầu Một · Ca mắc mới trong 7 ngày"
    assert frame.locator(".embed-day").inner_text() == "số liệu đến 16/08/2021"
    assert "Nguồn: CDC Bình Dương" in frame.locator(".embed-source").inner_text()
    key = frame.locator(".embed-classes")
    assert "Không có số liệu" in key.inner_text()
    for item in key.locator(".embed-class").all():  # the whole key is inside the frame, not cut
        item_box = item.bounding_box()
        assert item_box["x"] >= box["x"] - 1
        assert item_box["x"] + item_box["width"] <= box["x"] + box["width"] + 1
        assert item_box["y"] + item_box["height"] <= box["y"] + box["height"] + 1
    context.close()


def test_the_responsive_embed_leaves_the_map_room_on_a_phone(browser, live_server, other_origin):
    context = browser.new_context(viewport=ARTICLE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(live_server + "/map/718", wait_until="networkidle")
    code = page.locator("#embed-code").input_value()
    page.goto(_article_page(other_origin, "article2.html", code), wait_until="networkidle")
    frame = page.frames[1]
    _map_drawn(frame)
    assert frame.locator(".folium-map").bounding_box()["height"] >= 280
    context.close()
