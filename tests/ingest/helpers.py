"""Shared helpers for ingest tests: running a feed and reading what was published."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ingest.pipeline import IngestOptions, ingest_feed
from ingest.report import Report
from layers.catalog import default_catalog
from tests.conftest import DATA

SAMPLES = DATA / "feeds" / "binh_duong"
FEEDS = {
    "xet_nghiem.xlsx": "testing_sites",
    "diem_tiem_chung.csv": "vaccination_sites",
    "chot_kiem_soat.csv": "checkpoints",
    "khu_cach_ly.xlsx": "quarantine_facilities",
    "vung_phong_toa.csv": "lockdown_zones",
}
# The truth files name a category; our reports are finer-grained.
REASON_CATEGORIES = {
    "outside_province": {"outside_province", "outside_vietnam"},
    "no_location": {"no_location", "ambiguous_commune"},
    "missing_name": {"missing_name"},
    "invalid_date": {"invalid_date"},
    "duplicate_id": {"duplicate_id"},
    "invalid_geometry_or_dates": {"invalid_geometry", "invalid_date_range", "invalid_date"},
}


def expected(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.expected.json").read_text(encoding="utf-8"))


def run(bind, path: Path, layer: str, **options) -> Report:
    opts = IngestOptions(set_name="vn2021", scope_code=options.pop("scope", "74"), **options)
    return ingest_feed(bind, Path(path), layer, default_catalog(), opts)


def metres_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the haversine distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(a))
