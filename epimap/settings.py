"""Typed settings read from ``EPIMAP_*`` environment variables, once, when asked for."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


@dataclass(frozen=True)
class Settings:
    """Everything the portal, the CLI and the jobs may be configured with."""

    database_url: str = ""
    var_dir: Path = PROJECT_ROOT / ".var"
    data_dir: Path = PROJECT_ROOT / "data"
    catalog_file: Path = PROJECT_ROOT / "layers" / "catalog.yml"  # the layer catalogue (layers/catalog.py)
    db_port: int = 25432  # below Linux's ephemeral port range (32768-60999)
    # 1: test every pooled connection with a round trip before use.  Off by default: a connection
    # the server dropped fails one request with a 503 and the pool reconnects (portal/errors.py).
    db_pre_ping: int = 0
    port: int = 8000
    portal_name: str = "epimap"
    # The portal's public base URL (https://bando.example.gov.vn): absolute URLs in TileJSON, oEmbed
    # and downloads are built from it and requests for other hosts refused; empty: the request's host.
    public_url: str = ""
    default_set: str = "vn2021"
    default_unit: str = "74"
    basemap_url: str = OSM_TILES
    basemap_attribution: str = "© OpenStreetMap contributors"
    tile_cache_size: int = 2048
    tile_cache_dir: str = ""
    max_upload_mb: int = 50
    data_licence: str = "CC BY 4.0"  # stated in downloads, snapshots and embeds
    source_authority: str = "CDC Bình Dương"  # the issuing authority credited in embeds and downloads
    snapshot_renders: int = 2  # map images drawn at once per app process; more wait, then a 503
    stale_days: int = 7
    api_rate_limit: str = "120/minute"  # per client IP over /api/; empty: no limit
    # Officials' console (portal/console): empty secret_key -> a random key kept in var_dir/secret_key;
    # empty admin_password -> `epimap accounts ensure-admin` generates one and prints it once.
    secret_key: str = field(default="", repr=False)
    admin_email: str = ""
    admin_password: str = field(default="", repr=False)
    secure_cookies: int = 0  # 1 behind HTTPS: session cookies get the Secure flag
    upload_dir: str = ""  # uploaded feeds, by sha256; default var_dir/uploads
    session_hours: int = 12
    request_retention_days: int = 90  # citizens' personal data kept this long after a request closes
    request_prefix: str = ""  # reference codes' prefix (BD-7K3Q-92); default: the province's initials
    request_form_rate_limit: str = "10/minute;60/hour"  # per client IP on /gui-yeu-cau; empty: no limit
    extra: dict[str, Any] = field(default_factory=dict)

    def resolved_database_url(self) -> str:
        """Return the configured URL, or the local cluster's socket URL."""
        if self.database_url:
            return self.database_url
        socket_dir = (self.var_dir / "pg" / "run").resolve()
        return f"postgresql+psycopg://epimap@/epimap?host={socket_dir}&port={self.db_port}"


def _coerce(kind: Any, raw: str) -> Any:
    if kind in (int, "int"):
        return int(raw)
    if kind in (Path, "Path"):
        return Path(raw)
    return raw


def load_settings(overrides: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build settings from the environment, then apply explicit overrides."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = env.get(f"EPIMAP_{f.name.upper()}")
        if raw is not None and f.name != "extra":
            values[f.name] = _coerce(f.type, raw)
    settings = Settings(**values)
    known = {f.name for f in fields(Settings)}
    chosen = {k.lower(): v for k, v in (overrides or {}).items() if k.lower() in known}
    return replace(settings, **chosen)
