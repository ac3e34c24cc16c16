"""Accessibility: axe-core run in Chromium on every public page kind, on a phone and a laptop.

axe-core is an npm development dependency (``portal/assets/package.json``), injected by the test
from ``node_modules``; the portal never serves it.  No serious or critical violation is allowed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[2] / "portal" / "assets" / "node_modules" / "axe-core" / "axe.min.js"
# The pages' CSP rightly refuses a script the test injects: the test's contexts bypass it.
SCREENS = {
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
              "bypass_csp": True},
    "laptop": {"viewport": {"width": 1366, "height": 768}, "bypass_csp": True},
}
PAGES = ["/", "/?lang=en", "/map/718", "/map/25747", "/map/vn2021/VN", "/embed/718", "/tim-diem",
         "/tim-diem?q=Hiep+Thanh", "/map/vn2021/718/van-ban", "/ogc", "/ogc/collections",
         "/ogc/collections/testing_sites/items?f=html", "/khong-co-trang-nay", "/quan-tri/dang-nhap"]
LAPTOP_PAGES = ["/", "/map/25747", "/tim-diem?q=Hiep+Thanh"]  # what a wide screen lays out otherwise
BLOCKING = ("serious", "critical")


def _violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def _describe(violations: list[dict]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} — "
                     + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:3])
                     for v in violations)


CASES = [(p, "phone") for p in PAGES] + [(p, "laptop") for p in LAPTOP_PAGES]


@pytest.mark.parametrize(("path", "screen"), CASES)
def test_no_serious_accessibility_violation(browser, live_server, path, screen):
    context = browser.new_context(**SCREENS[screen])
    try:
        page = context.new_page()
        page.goto(live_server + path, wait_until="networkidle")
        violations = _violations(page)
        assert not violations, _describe(violations)
    finally:
        context.close()


def test_axe_finds_what_it_should(browser, live_server):
    """The check itself can fail: an image without alternative text is a critical violation."""
    context = browser.new_context(**SCREENS["phone"])
    try:
        page = context.new_page()
        page.goto(live_server + "/tim-diem", wait_until="networkidle")
        page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=\"/static/favicon.svg\">')")
        assert any(v["id"] == "image-alt" for v in _violations(page))
    finally:
        context.close()
