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
