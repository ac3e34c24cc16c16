"""One publish of a layer at a time: the layer's lock, and the preview's base checked under it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from epimap.errors import Problem
from ingest.pipeline import IngestOptions, ingest_feed
from layers.catalog import CATALOG_FILE, default_catalog, load_catalog
from tests.ingest.builders import changed_checkpoints, latest_publication, layer_counts
from tests.ingest.helpers import SAMPLES, run


def _try_lock(engine, layer_id: str) -> bool:
    """Tell whether another connection can take the layer's publishing lock within 300 ms."""
    with engine.connect() as other:
        other.execute(text("SET lock_timeout = '300ms'"))
        try:
            other.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                          {"k": f"epimap.publish:{layer_id}"})
        except OperationalError:
            return False
        finally:
            other.rollback()
        return True


def test_a_publication_holds_the_layers_lock_until_it_commits(connection, engine, tmp_path):
    assert _try_lock(engine, "checkpoints")
    run(connection, changed_checkpoints(tmp_path / "chot.csv"), "checkpoints")  # not committed yet
    assert not _try_lock(engine, "checkpoints")
    assert _try_lock(engine, "testing_sites")  # other layers publish meanwhile
    preview = run(connection, SAMPLES / "chot_kiem_soat.csv", "checkpoints", dry_run=True)
    assert preview.publication is None  # a preview takes no lock: it holds its own, already


def test_a_publication_since_the_preview_refuses_the_publish(connection, tmp_path):
    base = latest_publication(connection, "checkpoints")
    first = run(connection, changed_checkpoints(tmp_path / "a.csv"), "checkpoints", preview_base=base)
    assert first.publication
    before = layer_counts(connection, "checkpoints")
    with pytest.raises(Problem) as refused:
        run(connection, SAMPLES / "chot_kiem_soat.csv", "checkpoints", preview_base=base)
    assert refused.value.code == "changed_since_preview"
    assert "xem trước lại" in refused.value.message_vi and "preview again" in refused.value.message_en
    assert layer_counts(connection, "checkpoints") == before


@pytest.fixture
def race_layer(engine, tmp_path):
    """A layer of its own in a temporary catalogue, its committed rows removed afterwards."""
    data = yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))
    data["layers"]["race_sites"] = data["layers"]["pharmacies"]
    path = tmp_path / "catalog.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    yield load_catalog(path)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM cluster_overview WHERE publication_id IN"
                          " (SELECT id FROM publication WHERE layer_id = 'race_sites')"))
        conn.execute(text("DELETE FROM feature WHERE layer_id = 'race_sites'"))
        conn.execute(text("DELETE FROM publication WHERE layer_id = 'race_sites'"))


def test_two_publishes_from_one_base_at_the_same_moment_let_one_through(engine, race_layer, tmp_path):
    feeds = []
    for n in range(2):
        path = tmp_path / f"nha_thuoc_{n}.csv"
        path.write_text(f"Mã,Tên nhà thuốc,Vĩ độ,Kinh độ\nNT-{n},Nhà thuốc {n},10.98,106.65\n",
                        encoding="utf-8")
        feeds.append(path)
    start = threading.Barrier(2)

    def publish(path) -> str:
        start.wait()
        try:
            report = ingest_feed(engine, path, "race_sites", race_layer,
                                 IngestOptions(set_name="vn2021", scope_code="74", preview_base=None))
        except Problem as exc:
            return exc.code
        return "published" if report.publication else "refused"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(publish, feeds))
    assert outcomes == ["changed_since_preview", "published"]
    with engine.connect() as conn:
        count = text("SELECT count(*) FROM publication WHERE layer_id = 'race_sites'")
        assert conn.execute(count).scalar() == 1
    assert default_catalog().layer("race_sites") is None
