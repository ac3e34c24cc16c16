"""How far the nearest-feature walk must go: the constants its proof rests on, written once.

On the WGS 84 ellipsoid a degree of latitude spans at least 110,574.27 m (at the equator) and a
degree of longitude at least 111,319.49 m × cos(latitude): along any path, a planar degree spans
at least the smaller of the two over the latitudes the path crosses.  So a feature ``m`` metres
away lies within ``m / floor`` planar degrees.  ``layers.nearby`` computes that floor in Python
and migration 0007 writes the same expression (:func:`floor_sql`) into ``nearest_candidates``.
"""

from __future__ import annotations

METRES_PER_DEGREE_LAT_MIN = 110_574.0
METRES_PER_DEGREE_LON_EQUATOR = 111_320.0
SAFETY = 0.9999  # covers the rounding of the two constants above and of floating point
MAX_LATITUDE = 89.9  # cos() vanishes at the pole: the floor is taken no farther north or south


def floor_sql(lat: str, metres: str) -> str:
    """Return SQL for the fewest metres a planar degree spans within ``metres`` of latitude ``lat``.

    >>> floor_sql("lat", "metres")
    'least(110574.0, 111320.0 * cos(radians(least(abs(lat) + metres / 110574.0, 89.9)))) * 0.9999'
    """
    farthest = f"least(abs({lat}) + {metres} / {METRES_PER_DEGREE_LAT_MIN}, {MAX_LATITUDE})"
    return (f"least({METRES_PER_DEGREE_LAT_MIN}, {METRES_PER_DEGREE_LON_EQUATOR} * cos(radians({farthest})))"
            f" * {SAFETY}")
