"""The row stream's helpers: a progress bar for feeds over 10,000 rows, only when asked for; the
rows kept so far frozen out of the cyclic collector's scans, and handed back at the end."""

from __future__ import annotations

import gc
import weakref

from ingest.pipeline import kept_from_gc, with_progress


def test_no_bar_for_small_feeds_or_when_not_asked(capsys):
    assert list(with_progress(iter(range(9_999)), enabled=True)) == list(range(9_999))
    assert list(with_progress(iter(range(30_000)), enabled=False)) == list(range(30_000))
    assert capsys.readouterr().err == ""


def test_bar_for_large_feeds(capsys):
    assert sum(1 for _ in with_progress(iter(range(25_000)), enabled=True)) == 25_000
    err = capsys.readouterr().err
    assert "ingest" in err and "rows" in err and "25000" in err.replace(",", "")


def test_cli_shows_progress_on_a_large_csv(run_cli, tmp_path):
    path = tmp_path / "big.csv"
    lines = ["Tên điểm,Vĩ độ,Kinh độ"]
    lines += [f"Điểm {i},{10.95 + (i % 100) * 0.001:.5f},{106.65 + (i // 100) * 0.0002:.5f}"
              for i in range(12_000)]
    path.write_text("\n".join(lines), encoding="utf-8")
    result = run_cli("ingest", str(path), "--layer", "essential_services", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "ingest" in result.stderr and "rows" in result.stderr
    assert "12000" in result.output.replace(",", "").replace(".", "") or "12 000" in result.output


class _Cycle:
    """An object referring to itself: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_kept_rows_are_frozen_while_streaming_and_handed_back():
    kept, frozen, freed = [], [], []

    def rows():
        for i in range(100):
            weakref.finalize(_Cycle(), freed.append, i)  # garbage as soon as made
            kept.append({"row": i})
            frozen.append(gc.get_freeze_count())
            yield i

    gc.collect()
    assert list(kept_from_gc(rows(), every=10)) == list(range(100))
    assert frozen[0] == 0 and frozen[-1] > 0  # frozen after the first ten rows
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert sorted(freed) == list(range(100))  # no garbage was frozen for good
