"""Place unit names on a map image so none collides with another: the first claimants keep their room."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.text import Text

Box = tuple[float, float, float, float]  # left, bottom, right, top in pixels
GAP = 2.0  # pixels kept free between two names


def overlaps(a: Box, b: Box, gap: float = GAP) -> bool:
    """Tell whether two boxes come closer than ``gap``.

    >>> overlaps((0, 0, 10, 10), (11, 0, 20, 10), gap=0)
    False
    >>> overlaps((0, 0, 10, 10), (11, 0, 20, 10), gap=2)
    True
    >>> overlaps((0, 0, 10, 10), (0, 20, 10, 30))
    False
    """
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def inside(box: Box, frame: Box) -> bool:
    """Tell whether a box lies wholly in a frame."""
    return box[0] >= frame[0] and box[1] >= frame[1] and box[2] <= frame[2] and box[3] <= frame[3]


def place(boxes: list[Box], frame: Box | None = None, gap: float = GAP) -> list[bool]:
    """Return which boxes to keep, in priority order: each inside the frame and clear of those kept.

    >>> place([(0, 0, 10, 10), (5, 5, 15, 15), (20, 0, 30, 10)])
    [True, False, True]
    >>> place([(0, 0, 10, 10), (95, 0, 105, 10)], frame=(0, 0, 100, 100))
    [True, False]
    """
    kept: list[Box] = []
    keep = []
    for box in boxes:
        ok = (frame is None or inside(box, frame)) and not any(overlaps(box, k, gap) for k in kept)
        if ok:
            kept.append(box)
        keep.append(ok)
    return keep


def place_texts(ax: Axes, texts: list[Text]) -> list[Text]:
    """Hide the texts (in priority order) that would collide or leave the axes; return those kept."""
    figure = ax.get_figure()
    renderer = figure.canvas.get_renderer()
    ax.apply_aspect()  # the axes' final box, which a fixed aspect shrinks at drawing time
    frame = tuple(ax.get_window_extent(renderer).extents)
    boxes = [tuple(t.get_window_extent(renderer).extents) for t in texts]
    kept = []
    for text, keep in zip(texts, place(boxes, frame), strict=True):
        text.set_visible(keep)
        if keep:
            kept.append(text)
    return kept
