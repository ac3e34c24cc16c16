"""Class breaks for choropleth maps (natural breaks, rounded) and their colours."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import mapclassify
import numpy as np

# ColorBrewer YlOrRd, 5 classes.
PALETTE = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
NO_DATA = "#d0d5dd"


def quantile_breaks(values: Sequence[float], classes: int = 5) -> list[float]:
    """Return ascending upper bounds of up to ``classes`` quantile classes (duplicates merged).

    >>> quantile_breaks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    [2.0, 4.0, 6.0, 8.0, 10.0]
    >>> quantile_breaks([0, 0, 0, 5])
    [0.0, 5.0]
    >>> quantile_breaks([])
    []
    """
    ordered = sorted(float(v) for v in values)
    if not ordered:
        return []
    breaks = []
    for i in range(1, classes + 1):
        position = i * len(ordered) / classes
        value = ordered[min(len(ordered) - 1, max(0, int(round(position)) - 1))]
        if not breaks or value > breaks[-1]:
            breaks.append(value)
    if breaks[-1] < ordered[-1]:
        breaks[-1] = ordered[-1]
    return breaks


def _nice_step(span: float) -> float:
    """Return 1, 2 or 5 times a power of ten, the rounding unit for classes covering ``span``.

    >>> _nice_step(88), _nice_step(7), _nice_step(0.4), _nice_step(0)
    (10.0, 1.0, 0.05, 1.0)
    """
    if span <= 0:
        return 1.0
    raw = span / 10
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def nice_breaks(values: Sequence[float], classes: int = 5) -> list[float]:
    """Return ascending upper bounds of readable classes: Fisher-Jenks natural breaks (mapclassify)
    rounded up to a round step, a class never narrower than one step (no "53 – 54"); the last is the maximum.

    >>> nice_breaks([3, 18, 20, 21, 40, 53, 53.5, 54, 60, 79, 88])
    [10.0, 30.0, 40.0, 60.0, 88.0]
    >>> nice_breaks([0, 0, 0, 5])
    [0.0, 5.0]
    >>> nice_breaks([7, 7]), nice_breaks([])
    ([7.0], [])
    """
    ordered = sorted(float(v) for v in values)
    if not ordered:
        return []
    distinct = len(set(ordered))
    if distinct == 1:
        return [ordered[-1]]
    k = min(classes, distinct)
    with warnings.catch_warnings():  # "Numba not installed": the pure Python version is fast enough here
        warnings.simplefilter("ignore", UserWarning)
        bins = mapclassify.FisherJenks(np.array(ordered), k=k).bins if k > 2 else [ordered[0], ordered[-1]]
    step = _nice_step(ordered[-1] - ordered[0])
    breaks: list[float] = []
    for bound in bins[:-1]:
        rounded = math.ceil(round(bound / step, 9)) * step
        lower = breaks[-1] if breaks else ordered[0] - step
        if rounded - lower >= step and ordered[-1] - rounded >= step:
            breaks.append(round(rounded, 9))
    breaks.append(ordered[-1])
    return breaks


def class_index(value: float, breaks: Sequence[float]) -> int:
    """Return the class a value falls in (0-based, by upper bounds).

    >>> class_index(3, [2.0, 4.0, 10.0]), class_index(11, [2.0, 4.0, 10.0])
    (1, 2)
    """
    for index, bound in enumerate(breaks):
        if value <= bound:
            return index
    return len(breaks) - 1


def colour_for(value: float | None, breaks: Sequence[float]) -> str:
    """Return the fill colour of a value, spreading the classes over the palette.

    >>> colour_for(None, [1.0]), colour_for(10, [2.0, 4.0, 10.0])
    ('#d0d5dd', '#bd0026')
    """
    if value is None or not breaks:
        return NO_DATA
    index = class_index(value, breaks)
    step = (len(PALETTE) - 1) / max(1, len(breaks) - 1)
    return PALETTE[round(index * step)]


def legend(breaks: Sequence[float]) -> list[tuple[float | None, float, str]]:
    """Return (lower, upper, colour) rows for a legend; the first lower bound is None.

    >>> legend([2.0, 10.0])
    [(None, 2.0, '#ffffb2'), (2.0, 10.0, '#bd0026')]
    """
    rows, lower = [], None
    for bound in breaks:
        rows.append((lower, bound, colour_for(bound, breaks)))
        lower = bound
    return rows
