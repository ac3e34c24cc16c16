"""Names on map images do not collide: the placement rule, then the names of real images."""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from boundaries import queries
from portal.database import db_session
from portal.share.labels import overlaps, place, place_texts
from portal.share.snapshot import draw, read_scene


def test_overlapping_boxes_give_way_to_those_placed_before():
    boxes = [(0, 0, 40, 10), (30, 5, 70, 15), (60, 0, 100, 10), (0, 30, 40, 40), (39, 31, 45, 39)]
    assert place(boxes) == [True, False, True, True, False]
    assert place(boxes[1:]) == [True, False, True, False]  # order is priority: the first one wins
    assert place([(0, 0, 10, 10), (11, 0, 20, 10)], gap=2) == [True, False]  # too close to read
    assert place([(0, 0, 10, 10), (-5, 0, 5, 10), (90, 90, 110, 95)], frame=(0, 0, 100, 100)) == [
        True, False, False]


def test_texts_that_collide_are_hidden():
    fig = Figure(figsize=(4, 3), dpi=96)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    texts = [ax.text(5, 5, "Thủ Dầu Một"), ax.text(5.1, 5.05, "Dĩ An"), ax.text(1, 1, "Bến Cát")]
    kept = place_texts(ax, texts)
    assert [t.get_text() for t in kept] == ["Thủ Dầu Một", "Bến Cát"]
    assert not texts[1].get_visible()


def _placed(app, set_name: str, code: str) -> tuple[list[tuple], list[str], tuple]:
    """Draw a unit's image; return its shown names' boxes, the names, and the map's box."""
    with app.test_request_context(f"/snapshot/{set_name}/{code}.png"):
        session = db_session()
        unit = queries.get_unit(session, set_name, code)
        fig = draw(read_scene(session, unit, {}))
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    shown = [t for t in ax.texts if t.get_gid() == "unit-label" and t.get_visible()]
    boxes = [tuple(t.get_window_extent(renderer).extents) for t in shown]
    return boxes, [t.get_text() for t in shown], tuple(ax.get_window_extent(renderer).extents)


@pytest.mark.parametrize(("set_name", "code", "fewest"), [("vn2021", "VN", 20), ("vn2021", "74", 6),
                                                          ("vn2021", "718", 8)])
def test_a_real_image_shows_many_names_none_overlapping(app, connection, set_name, code, fewest):
    boxes, names, frame = _placed(app, set_name, code)
    assert len(names) >= fewest, names
    assert not [(names[i], names[j]) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
                if overlaps(boxes[i], boxes[j], gap=0)]
    assert all(b[0] >= frame[0] and b[2] <= frame[2] and b[1] >= frame[1] and b[3] <= frame[3] for b in boxes)
