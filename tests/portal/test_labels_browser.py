"""Unit names on the map do not collide: on a phone and a laptop, at the page's first zoom and after
zooming, the boxes of the names shown are pairwise disjoint, and enough of them are shown."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.browser import watch_errors

SCREENS = {
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    "laptop": {"viewport": {"width": 1366, "height": 768}},
}
# Page, the parent's code and set, and the fewest names each screen must show at the first zoom.
PAGES = [("/map/74", "vn2021", "74", {"phone": 4, "laptop": 6}),
         ("/map/718", "vn2021", "718", {"phone": 5, "laptop": 10}),
         ("/map/vn2021/VN", "vn2021", "VN", {"phone": 6, "laptop": 12})]

# The boxes of the labels a person sees: shown, and (at least partly) inside the map.
_SHOWN_JS = """() => {
  const frame = epimap.map.getContainer().getBoundingClientRect();
  return [...document.querySelectorAll('.unit-label')]
    .filter(s => getComputedStyle(s).visibility === 'visible')
    .map(s => { const r = s.getBoundingClientRect();
                return [s.textContent, r.left, r.top, r.right, r.bottom]; })
    .filter(([, l, t, r, b]) => r > frame.left && l < frame.right && b > frame.top && t < frame.bottom);
}"""


@pytest.fixture(scope="module")
def context_for(browser):
    contexts = {}

    def get(name: str):
        if name not in contexts:
            contexts[name] = browser.new_context(**SCREENS[name])
        return contexts[name]

    yield get
    for context in contexts.values():
        context.close()


def _children(engine, set_name: str, code: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text(
            "SELECT name FROM admin_unit WHERE boundary_set = :s AND parent_code = :c"),
                                {"s": set_name, "c": code}).scalars())


def _shown(page) -> list[list]:
    page.wait_for_function("() => epimap.labelsPending === false"
                           " && !document.querySelector('.leaflet-zoom-anim')")
    page.wait_for_timeout(300)  # what people see: after Leaflet's 0.25 s zoom transitions
    return page.evaluate(_SHOWN_JS)


def _collisions(labels: list[list]) -> list[tuple[str, str]]:
    """Return the pairs of shown labels whose boxes intersect."""
    return [(a[0], b[0]) for i, a in enumerate(labels) for b in labels[i + 1:]
            if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]]


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize(("path", "set_name", "code", "fewest"), PAGES)
def test_shown_labels_never_overlap(context_for, engine, live_server, screen, path, set_name, code, fewest):
    page = context_for(screen).new_page()
    errors = watch_errors(page)
    page.goto(live_server + path, wait_until="networkidle")
    names = _children(engine, set_name, code)
    labels = _shown(page)
    assert _collisions(labels) == []
    assert len(labels) >= fewest[screen], [label[0] for label in labels]
    assert {label[0] for label in labels} <= names
    # All the names are in the page: the hidden ones come back when there is room.
    assert page.locator(".unit-label").count() == len(names)
    page.evaluate("() => epimap.map.zoomIn(1, {animate: false})")
    closer = _shown(page)
    assert _collisions(closer) == []
    assert len(closer) >= len(labels) // 2
    assert errors == []
    page.close()


def test_names_are_placed_again_when_the_window_changes_size(context_for, live_server):
    page = context_for("laptop").new_page()
    page.goto(live_server + "/map/718", wait_until="networkidle")
    wide = {label[0] for label in _shown(page)}
    page.set_viewport_size({"width": 760, "height": 600})
    narrow = _shown(page)
    assert _collisions(narrow) == [] and len(narrow) >= 5
    frame = page.evaluate("() => { const r = epimap.map.getContainer().getBoundingClientRect();"
                          " return [r.left, r.top, r.right, r.bottom]; }")
    cut = [label[0] for label in narrow if label[1] < frame[0] or label[2] < frame[1]
           or label[3] > frame[2] or label[4] > frame[3]]
    assert cut == []  # placed again: no name is left cut by the map's new edge
    assert {label[0] for label in narrow} != wide
    page.close()


def test_the_most_populous_unit_keeps_its_name(context_for, engine, live_server):
    with engine.connect() as conn:
        biggest = conn.execute(text(
            "SELECT name FROM admin_unit WHERE boundary_set = 'vn2021' AND parent_code = 'VN'"
            " ORDER BY population DESC NULLS LAST, area_km2 DESC LIMIT 1")).scalar_one()
    page = context_for("phone").new_page()
    page.goto(live_server + "/map/vn2021/VN", wait_until="networkidle")
    assert biggest in [label[0] for label in _shown(page)]
    page.close()
