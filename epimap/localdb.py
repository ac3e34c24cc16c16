"""Create, start and stop the project's own PostgreSQL + PostGIS cluster under ``.var/``."""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from epimap.settings import Settings

DB_NAME = "epimap"
DB_USER = "epimap"
SERVER_CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
max_connections = 100
shared_buffers = 256MB
work_mem = 32MB
maintenance_work_mem = 256MB
synchronous_commit = off
# A publication of a million features writes a few GB of WAL: without room for it, checkpoints
# every few seconds rewrite whole pages (full-page images) and the insert takes 2-3 times longer.
max_wal_size = 8GB
# No replica reads this cluster's WAL: a table created and filled in one transaction (a large
# publication's fresh partition, see ingest/publish.py) is then synced at commit, not logged.
wal_level = minimal
max_wal_senders = 0
checkpoint_timeout = 30min
wal_compression = lz4
wal_buffers = 64MB
# An ingest stages its rows in temporary tables, read through each session's own buffers: with the
# default 8 MB, locating a million staged points re-read the table from the kernel (5 s -> 3 s).
temp_buffers = 1GB
jit = off
logging_collector = off
"""


class LocalDbError(RuntimeError):
    """The local cluster could not be installed, created or started."""


@dataclass(frozen=True)
class Cluster:
    """Paths and port of the local cluster."""

    root: Path
    port: int

    @property
    def data_dir(self) -> Path:
        return self.root / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"


def cluster_for(settings: Settings) -> Cluster:
    """Return the cluster described by the settings."""
    return Cluster(root=(settings.var_dir / "pg").resolve(), port=settings.db_port)


def _pg_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version_of)
    return Path(found[-1]).parent if found else None


def _version_of(path: str) -> int:
    return int(Path(path).parts[-3])


def _has_postgis(bin_dir: Path) -> bool:
    version = bin_dir.parent.name
    return Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists()


def _apt_install(*packages: str) -> None:
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", *packages], check=True, env=env)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise LocalDbError(f"could not install {' '.join(packages)} with apt: {exc}") from exc


def ensure_installed() -> Path:
    """Install PostgreSQL and the matching PostGIS with apt when missing; return its bin dir."""
    bin_dir = _pg_bin_dir()
    if bin_dir is None:
        _apt_install("postgresql")
        bin_dir = _pg_bin_dir()
        if bin_dir is None:
            raise LocalDbError("PostgreSQL is not installed and apt did not provide it")
    if not _has_postgis(bin_dir):
        _apt_install(f"postgresql-{bin_dir.parent.name}-postgis-3")
    return bin_dir


def _run_as_owner(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a server command as ``postgres`` when we are root (PostgreSQL refuses root)."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, **kwargs)


def _prepare_dirs(cluster: Cluster) -> None:
    for path in (cluster.root, cluster.data_dir, cluster.socket_dir):
        path.mkdir(parents=True, exist_ok=True)
    cluster.data_dir.chmod(0o700)
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (cluster.root, cluster.data_dir, cluster.socket_dir):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        if cluster.log_file.exists():
            os.chown(cluster.log_file, owner.pw_uid, owner.pw_gid)


def _initdb(bin_dir: Path, cluster: Cluster) -> None:
    result = _run_as_owner(
        [str(bin_dir / "initdb"), "-D", str(cluster.data_dir), "-U", DB_USER,
         "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise LocalDbError(f"initdb failed: {result.stderr.strip()}")


def _write_conf(cluster: Cluster) -> None:
    conf = cluster.data_dir / "epimap.conf"
    text = SERVER_CONF.format(port=cluster.port, socket_dir=cluster.socket_dir)
    _run_as_owner(["tee", str(conf)], input=text, text=True, capture_output=True, check=True)
    main = cluster.data_dir / "postgresql.conf"
    include = "include_if_exists = 'epimap.conf'\n"
    if include not in main.read_text():
        _run_as_owner(["tee", "-a", str(main)], input=include, text=True,
                      capture_output=True, check=True)


def is_running(cluster: Cluster) -> bool:
    """Tell whether the local server is running."""
    bin_dir = _pg_bin_dir()
    if bin_dir is None or not (cluster.data_dir / "PG_VERSION").exists():
        return False
    result = _run_as_owner([str(bin_dir / "pg_ctl"), "status", "-D", str(cluster.data_dir)],
                           capture_output=True, text=True)
    return result.returncode == 0


def _running_port(cluster: Cluster) -> int | None:
    """Return the port the running server listens on, from its postmaster.pid."""
    try:
        lines = (cluster.data_dir / "postmaster.pid").read_text().splitlines()
        return int(lines[3])
    except (OSError, IndexError, ValueError):
        return None


def _start(bin_dir: Path, cluster: Cluster) -> None:
    result = _run_as_owner(
        [str(bin_dir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(cluster.data_dir),
         "-l", str(cluster.log_file)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        tail = cluster.log_file.read_text()[-800:] if cluster.log_file.exists() else ""
        raise LocalDbError(f"PostgreSQL did not start: {result.stderr.strip()} {tail}")


def _psql(bin_dir: Path, cluster: Cluster, sql: str, db: str = "postgres") -> str:
    result = subprocess.run(
        [str(bin_dir / "psql"), "-h", str(cluster.socket_dir), "-p", str(cluster.port),
         "-U", DB_USER, "-d", db, "-tAc", sql],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise LocalDbError(f"psql failed: {result.stderr.strip()}")
    return result.stdout.strip()


def ensure_database(cluster: Cluster, name: str = DB_NAME) -> None:
    """Create the database with PostGIS when it does not exist."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise LocalDbError(f"invalid database name: {name!r}")
    bin_dir = ensure_installed()
    exists = _psql(bin_dir, cluster, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608
    if not exists:
        _psql(bin_dir, cluster, f'CREATE DATABASE "{name}"')
    _psql(bin_dir, cluster, "CREATE EXTENSION IF NOT EXISTS postgis", db=name)


def up(cluster: Cluster) -> None:
    """Install, create and start the cluster and its database; do nothing that is done."""
    bin_dir = ensure_installed()
    _prepare_dirs(cluster)
    if not (cluster.data_dir / "PG_VERSION").exists():
        _initdb(bin_dir, cluster)
    _write_conf(cluster)
    if is_running(cluster) and _running_port(cluster) != cluster.port:
        down(cluster)  # the port setting changed: restart on the new one
    if not is_running(cluster):
        _start(bin_dir, cluster)
    _wait_ready(bin_dir, cluster)
    ensure_database(cluster)


def _wait_ready(bin_dir: Path, cluster: Cluster, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready = subprocess.run(
            [str(bin_dir / "pg_isready"), "-h", str(cluster.socket_dir), "-p", str(cluster.port)],
            capture_output=True,
        )
        if ready.returncode == 0:
            return
        time.sleep(0.3)
    raise LocalDbError("PostgreSQL started but does not accept connections")


def down(cluster: Cluster) -> None:
    """Stop the cluster when it runs."""
    bin_dir = _pg_bin_dir()
    if bin_dir and is_running(cluster):
        _run_as_owner([str(bin_dir / "pg_ctl"), "stop", "-m", "fast", "-D", str(cluster.data_dir)],
                      capture_output=True, check=True)


def destroy(cluster: Cluster) -> None:
    """Stop the cluster and delete its files."""
    down(cluster)
    shutil.rmtree(cluster.root, ignore_errors=True)
