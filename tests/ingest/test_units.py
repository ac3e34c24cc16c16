"""The client-side unit index: which lowest-level unit holds each point."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import box

from ingest.units import UnitIndex


def _index() -> UnitIndex:
    geometries = np.array([box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)])
    shapely.prepare(geometries)
    return UnitIndex(["a", "b", "c"], geometries, shapely.STRtree(geometries), (0.0, 0.0, 2.0, 1.0))


def test_points_get_the_unit_holding_them_and_the_lowest_code_on_a_shared_edge():
    x = np.array([0.5, 1.5, 1.0, 0.0, 3.0])
    y = np.array([0.5, 0.5, 0.5, 1.0, 0.5])
    assert _index().locate(x, y) == ["a", "b", "a", "a", None]


def test_points_outside_the_scope_box_are_left_to_sql():
    assert _index().locate(np.array([5.5]), np.array([5.5])) == [None]


def test_no_points():
    assert _index().locate(np.array([]), np.array([])) == []
