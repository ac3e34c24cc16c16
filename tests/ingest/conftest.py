"""Fixtures of the ingest tests."""

from __future__ import annotations

import pytest

from boundaries.load import FieldMap, load_boundaries
from tests.conftest import DATA

WARDS_79 = DATA / "boundaries" / "vn2025" / "wards_79_former_binh_duong_2025.geojson"


@pytest.fixture
def former_binh_duong(connection) -> None:
    """Add the 2025 wards over former Bình Dương (in Hồ Chí Minh City, 79) to the 2025 set.

    The demo's crosswalk already sends Bình Dương's 2021 communes to them, and the 2021 set holds
    those communes' boundaries: the one place of the test data where splits are shared by area.
    """
    load_boundaries(connection, WARDS_79, set_name="vn2025", level="commune", merge=True,
                    fields=FieldMap(code="ward_code_gso2025", name="ward_name_gso", parent="prov_code"))
