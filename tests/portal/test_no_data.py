"""A unit without figures says "chưa có số liệu", never 0; the date picker keeps to the days with data."""

from __future__ import annotations

import re

from sqlalchemy import text


def _without_figures(connection) -> str:
    """Return a commune of the demo with no new-case figure at all (Phú Mỹ)."""
    return connection.execute(text(
        "SELECT u.code FROM admin_unit u WHERE u.boundary_set = 'vn2021' AND u.level = 'commune'"
        " AND u.name LIKE '%Phú Mỹ' AND NOT EXISTS (SELECT 1 FROM unit_stat s WHERE s.boundary_set = 'vn2021'"
        " AND s.unit_code = u.code AND s.metric = 'new_cases') ORDER BY u.code LIMIT 1")).scalar()


def test_a_unit_without_figures_says_so_instead_of_zero(client, connection):
    code = _without_figures(connection)
    assert code
    for url, words in ((f"/map/{code}", "chưa có số liệu"),
                       (f"/map/vn2021/{code}/van-ban", "chưa có số liệu"),
                       (f"/map/{code}?lang=en", "no figure yet")):
        page = client.get(url).get_data(as_text=True)
        week = re.search(r"(?:Ca mắc mới 7 ngày qua|New cases, last 7 days).{0,200}", page, re.S).group(0)
        assert words in week, url
        assert not re.search(r"</strong>\s*0\s*</p>|<strong>0</strong>", week), url


def test_a_unit_with_figures_still_shows_them(client):
    page = client.get("/map/718").get_data(as_text=True)
    week = re.search(r'class="week-total">.*?</p>', page, re.S).group(0)
    assert re.search(r"\d", week) and "chưa có số liệu" not in week


def test_the_date_picker_is_bounded_and_a_date_outside_is_said(client, connection):
    first, last = connection.execute(text(
        "SELECT min(day), max(day) FROM unit_stat"
        " WHERE boundary_set = 'vn2021' AND metric = 'new_cases'")).one()
    page = client.get("/").get_data(as_text=True)
    assert f'min="{first.isoformat()}" max="{last.isoformat()}"' in page
    assert "Không có số liệu cho ngày đã chọn" not in page
    outside = client.get("/?date=2020-01-01").get_data(as_text=True)
    assert (f"Không có số liệu cho ngày đã chọn: số liệu có từ {first.strftime('%d/%m/%Y')}"
            f" đến {last.strftime('%d/%m/%Y')}.") in outside
