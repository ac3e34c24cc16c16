"""Numbers and dates in one locale per language (Babel) on pages, text views and embeds."""

from __future__ import annotations

import re


def _text(client, url: str) -> str:
    return re.sub(r"<[^>]+>", " ", client.get(url).get_data(as_text=True))


def test_vietnamese_pages_use_vietnamese_numbers_and_dates(client):
    page = _text(client, "/")
    assert "2.694,9 km²" in page and "2,694.9" not in page
    assert "Số liệu đến 16/08/2021" in page
    assert re.search(r"Ca mắc mới 7 ngày qua:\s+\d{1,3}\.\d{3}", page)  # 1.526, not 1,526
    text_view = _text(client, "/map/vn2021/74/van-ban")
    assert "16/08/2021" in text_view and not re.search(r"\b\d{1,3},\d{3}\b", text_view)


def test_english_pages_use_english_numbers_and_dates(client):
    page = _text(client, "/?lang=en")
    assert "2,694.9 km²" in page and "2.694,9" not in page
    assert "Figures to 16 Aug 2021" in page and "16/08/2021" not in page
    embed = _text(client, "/embed/74?lang=en")
    assert "figures to 16 Aug 2021" in embed
