"""Settings, the local cluster and the ``epimap db`` commands."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from epimap import localdb
from epimap.settings import load_settings


def test_settings_come_from_the_environment_then_overrides():
    settings = load_settings(env={"EPIMAP_PORT": "9001", "EPIMAP_VAR_DIR": "/tmp/v",
                                  "EPIMAP_DEFAULT_UNIT": "718"})
    assert settings.port == 9001 and settings.var_dir == Path("/tmp/v")
    assert settings.default_unit == "718"
    assert "host=/tmp/v/pg/run" in settings.resolved_database_url()
    assert load_settings({"port": 1}, env={"EPIMAP_PORT": "9001"}).port == 1
    explicit = load_settings(env={"EPIMAP_DATABASE_URL": "postgresql+psycopg://u@h/d"})
    assert explicit.resolved_database_url() == "postgresql+psycopg://u@h/d"


def test_local_cluster_is_running_and_up_is_idempotent():
    cluster = localdb.cluster_for(load_settings())
    assert localdb.is_running(cluster)
    localdb.up(cluster)  # a second call changes nothing and does not fail
    assert localdb.is_running(cluster)
    assert (cluster.data_dir / "epimap.conf").read_text().count("port =") == 1


def test_schema_is_migrated(connection):
    version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version is not None
    assert connection.execute(text("SELECT postgis_version()")).scalar()


def test_db_status_command(run_cli):
    result = run_cli("db", "status")
    assert result.exit_code == 0 and result.output.startswith("up:")


def _ingest_cli(database_url: str, *args: str):
    from click.testing import CliRunner

    from epimap.cli import main
    from epimap.context import AppContext

    settings = load_settings({"database_url": database_url})
    return CliRunner().invoke(main, ["ingest", str(Path("data/feeds/binh_duong/chot_kiem_soat.csv")),
                                     "--layer", "checkpoints", *args], obj=AppContext(settings))


def test_an_unreachable_database_is_one_bilingual_line():
    result = _ingest_cli("postgresql+psycopg://epimap@127.0.0.1:1/epimap")
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Mất kết nối tới cơ sở dữ liệu" in lines[0] and "Lost the database" in lines[0]


def test_a_connection_dropped_mid_ingest_is_one_line_and_publishes_nothing(database_url, engine, monkeypatch):
    import ingest.pipeline

    def dropped(session, lines):  # the server ends this backend while the feed is being staged
        session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    monkeypatch.setattr(ingest.pipeline, "stage", dropped)
    count = text("SELECT count(*) FROM publication WHERE layer_id = 'checkpoints'")
    with engine.connect() as conn:
        before = conn.execute(count).scalar()
    result = _ingest_cli(database_url)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Lost the database connection" in result.output
    with engine.connect() as conn:
        assert conn.execute(count).scalar() == before
