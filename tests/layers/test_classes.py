"""Choropleth classes people can read: distinct, rounded ranges on every demo map."""

from __future__ import annotations

import re

import pytest


def _round(value: float) -> bool:
    """Whether a bound has at most two significant digits (20, 150, 0.5)."""
    digits = f"{value:.6g}".replace(".", "").replace("-", "").strip("0")
    return len(digits) <= 2


@pytest.mark.parametrize("url", ["/", "/map/718", "/map/721", "/?lang=en", "/map/718?date=2021-08-10"])
def test_every_class_is_a_rounded_range_of_its_own(client, url):
    page = client.get(url).get_data(as_text=True)
    table = re.search(r'<table class="class-legend".*?</table>', page, re.S)
    assert table, url
    uppers = [float(u.replace(",", "")) for u in re.findall(r"(?:≤|–) ([\d,.]+)</td>", table.group(0))]
    assert len(uppers) >= 2
    assert re.search("Không có số liệu|No data", table.group(0))  # the no-data class is in every legend
    for lower, upper in zip(uppers, uppers[1:-1], strict=False):
        assert upper - lower >= uppers[-1] / 20, (url, uppers)  # no "53 – 54" class
    assert all(_round(bound) for bound in uppers[:-1]), (url, uppers)
