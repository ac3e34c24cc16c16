"""Hit rate of the name matcher on held-out spellings of Bình Dương's communes as people type them.

``python -m bench.spellings [FILE]``: the share of spellings whose first match is the right commune,
among all 2021 districts and communes of the bundled province (what ``/api/units`` searches).
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path

from boundaries import names

ROOT = Path(__file__).parents[1]
HELD_OUT = ROOT / "tests" / "boundaries" / "data" / "held_out_spellings_74.csv"


def candidates() -> tuple[list[names.UnitName], dict[str, str]]:
    """Return Bình Dương's 2021 districts and communes as name candidates, and district names."""
    data = ROOT / "data" / "boundaries" / "vn2021"
    districts = json.loads((data / "74_binh_duong_districts.geojson").read_text(encoding="utf-8"))
    communes = json.loads((data / "communes_74_binh_duong_c2011.geojson").read_text(encoding="utf-8"))
    units = {p["dist_code"]: names.UnitName(p["dist_code"], p["dist_name"], "74")
             for p in (f["properties"] for f in districts["features"])}
    for p in (f["properties"] for f in communes["features"]):
        units.setdefault(p["ward_code_gso"], names.UnitName(p["ward_code_gso"], p["ward_name_gso"],
                                                            p["dist_code_gso"]))
    parents = {u.code: u.name for u in units.values()}
    return list(units.values()), parents


def first_match(query: str, units: list[names.UnitName], parents: dict[str, str]) -> str | None:
    """Return the code of the first unit the matcher finds for *query*."""
    find = getattr(names, "find_names", None)
    found = find(query, units, parents) if find else names.match_names(query, units)
    return found[0].code if found else None


def main(path: Path = HELD_OUT) -> None:
    units, parents = candidates()
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    misses = []
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            totals[row["style"]] += 1
            if first_match(row["spelling"], units, parents) == row["code"]:
                hits[row["style"]] += 1
            else:
                misses.append(row["spelling"])
    for style in totals:
        print(f"{style}: {hits[style]}/{totals[style]} = {hits[style] / totals[style]:.1%}")
    hit, total = sum(hits.values()), sum(totals.values())
    print(f"all: {hit}/{total} = {hit / total:.1%}")
    print("misses:", "; ".join(misses[:40]))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HELD_OUT)
