"""Fuzzing the readers and value parsers: whatever a feed holds, only the project's own problems come out.

Random cells and random bytes, and real feeds with bytes flipped, cut or inserted: every failure must
be an :class:`epimap.errors.Problem` with a code and a message in both languages, never a crash.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epimap.errors import Problem
from ingest.coords import parse_coordinate, parse_latlon_pair, parse_wkt_polygon
from ingest.readers import read_tables
from ingest.values import clean_text, parse_date, parse_int, parse_number, parse_phone
from tests.ingest.helpers import SAMPLES

PARSERS = [parse_number, parse_int, parse_date, parse_phone, clean_text, parse_coordinate, parse_latlon_pair,
           parse_wkt_polygon]
CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=60), st.dates(), st.datetimes(),
    st.text(alphabet="0123456789.,-+eE °'\"NSEW()/:", max_size=30),  # number- and coordinate-like
    st.from_regex(r"(POLYGON|MULTIPOLYGON)\s*\(\(.{0,40}\)\)", fullmatch=True),
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_problems(action) -> object:
    """Run ``action``; a failure must be a bilingual project problem."""
    try:
        return action()
    except Problem as problem:
        assert problem.code and problem.message_vi and problem.message_en
        return problem


@pytest.mark.parametrize("parse", PARSERS, ids=lambda p: p.__name__)
@FUZZ
@given(cell=CELLS)
def test_value_parsers_raise_only_problems(parse, cell):
    value = _only_problems(lambda: parse(cell))
    if isinstance(value, float):
        assert math.isfinite(value)
    if parse is parse_int and isinstance(value, int):
        assert -(2**63) <= value < 2**63
    if parse is parse_date and value is not None and not isinstance(value, Problem):
        assert isinstance(value, date | datetime)


def _read_all(path: Path) -> int:
    count = 0
    for table in read_tables(path):
        for _ in table.rows:
            count += 1
    return count


@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".csv", ".xlsx", ".xls", ".txt", ".tsv"]))
def test_random_bytes_are_a_problem_or_a_table(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"feed{suffix}"
    path.write_bytes(data)
    _only_problems(lambda: _read_all(path))


SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".csv", ".xlsx"))


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_real_feeds_are_a_problem_or_a_table(tmp_path, sample, data):
    original = bytearray(sample.read_bytes())
    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
        at = data.draw(st.integers(0, len(original) - 1), label="at")
        how = data.draw(st.sampled_from(["flip", "cut", "insert"]), label="how")
        if how == "flip":
            original[at] ^= data.draw(st.integers(1, 255), label="bits")
        elif how == "cut":
            del original[at:at + data.draw(st.integers(1, 64), label="length")]
        else:
            original[at:at] = data.draw(st.binary(min_size=1, max_size=16), label="bytes")
        if not original:
            original = bytearray(b"x")
    path = tmp_path / f"mutated{sample.suffix}"
    path.write_bytes(bytes(original))
    _only_problems(lambda: _read_all(path))
