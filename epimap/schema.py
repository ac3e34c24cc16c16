"""The database schema as SQLAlchemy Core tables, declared once, for queries that need no SQL text.

The Alembic migrations (``epimap/migrations/versions``) build the database and stay the source of
truth: these tables only describe what they build, and ``tests/epimap/test_schema.py`` checks
that both agree (``alembic.autogenerate.compare_metadata`` finds no difference, and the DDL these
tables emit gives the same catalogue: index methods and predicates, checks, foreign-key actions,
the partition key).  A change of schema is therefore a new migration *and* an edit here.

Not obvious from the migrations alone:

- Constraints are named as PostgreSQL names them by default (``<table>_pkey``,
  ``<table>_<columns>_fkey``, ``<table>_<columns>_key``, ``<table>_<column>_check``): the
  naming convention below gives primary, foreign and unique keys those names; checks name them.
- ``feature`` is partitioned by ``layer_id`` (0009): only the parent is declared.  Each layer's
  partition ``feature_<layer id>`` is created by the ``layer_feature_partition`` trigger when the
  layer is inserted, and replaced by ``swap_feature_partition``; neither is a table to declare.
  Its primary key is ``(layer_id, id)``, ``id`` still drawn from ``feature_id_seq``, and its
  foreign keys name the layer with the publication, ``(layer_id, valid_from_pub)`` and
  ``(layer_id, valid_to_pub)`` to ``publication (layer_id, id)``: ``feature.layer_id`` itself
  has no foreign key to ``layer`` since 0009.
- Geometry columns carry no implicit index (``spatial_index=False``): the GiST indexes are the
  migrations', declared by name below.
- ``cluster_overview`` has no primary key; the 48 in its index is
  ``layers.overview.CLUSTER_CELLS`` (not imported: this module depends on no package of the app).
- Functions and triggers (the append-only ``audit_event``, the partition trigger on ``layer``,
  ``nearest_candidates``) and the ``REVOKE`` on ``audit_event`` are not tables and are not here.
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Sequence,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData(naming_convention={
    "pk": "%(table_name)s_pkey",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
})

SRID = 4326
EMPTY_JSON = text("'{}'::jsonb")


def _geometry(geometry_type: str) -> Geometry:
    """Return a WGS 84 geometry type of the given kind, with no implicit spatial index."""
    return Geometry(geometry_type=geometry_type, srid=SRID, spatial_index=False)


def _created_at(name: str = "created_at") -> Column:
    """Return a ``timestamptz NOT NULL DEFAULT now()`` column."""
    return Column(name, DateTime(timezone=True), nullable=False, server_default=func.now())


# 0001: boundary sets and their administrative units.

boundary_set = Table(
    "boundary_set", metadata,
    Column("name", Text, primary_key=True),
    Column("title", Text, nullable=False, server_default=text("''")),
    Column("levels", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    _created_at(),
    CheckConstraint("name ~ '^[a-z0-9_-]{1,40}$'", name="boundary_set_name_check"),
)

admin_unit = Table(
    "admin_unit", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("boundary_set", Text, ForeignKey("boundary_set.name", ondelete="CASCADE"), nullable=False),
    Column("code", Text, nullable=False),
    Column("level", Text, nullable=False),
    Column("depth", Integer, nullable=False),
    Column("parent_code", Text),
    Column("kind", Text),
    Column("name", Text, nullable=False),
    Column("name_ascii", Text, nullable=False),
    Column("name_key", Text, nullable=False),
    Column("geom", _geometry("MULTIPOLYGON"), nullable=False),
    Column("geom_mid", _geometry("MULTIPOLYGON"), nullable=False),
    Column("geom_low", _geometry("MULTIPOLYGON"), nullable=False),
    Column("label_point", _geometry("POINT"), nullable=False),
    Column("area_km2", Double, nullable=False),
    Column("population", BigInteger),
    Column("contacts", JSONB, nullable=False, server_default=EMPTY_JSON),
    Column("props", JSONB, nullable=False, server_default=EMPTY_JSON),
    UniqueConstraint("boundary_set", "code"),
)
Index("admin_unit_geom_idx", admin_unit.c.geom, postgresql_using="gist")
Index("admin_unit_geom_mid_idx", admin_unit.c.geom_mid, postgresql_using="gist")
Index("admin_unit_geom_low_idx", admin_unit.c.geom_low, postgresql_using="gist")
Index("admin_unit_parent_idx", admin_unit.c.boundary_set, admin_unit.c.parent_code)
Index("admin_unit_level_idx", admin_unit.c.boundary_set, admin_unit.c.level)
Index("admin_unit_name_key_idx", admin_unit.c.boundary_set, admin_unit.c.name_key)

# 0002: layers, their publications, versioned features (partitioned in 0009), unit statistics.

layer = Table(
    "layer", metadata,
    Column("id", Text, primary_key=True),
    Column("title_vi", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("geometry_type", Text, nullable=False),
    Column("public", Boolean, nullable=False),
    Column("definition", JSONB, nullable=False, server_default=EMPTY_JSON),
)

publication = Table(
    "publication", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("layer_id", Text, ForeignKey("layer.id"), nullable=False),
    _created_at(),
    Column("author", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("source_name", Text),
    Column("source_sha256", Text),
    Column("boundary_set", Text, nullable=False),
    Column("scope_code", Text, nullable=False),
    Column("scope_level", Text, nullable=False),
    Column("added", Integer, nullable=False, server_default=text("0")),
    Column("changed", Integer, nullable=False, server_default=text("0")),
    Column("removed", Integer, nullable=False, server_default=text("0")),
    Column("unchanged", Integer, nullable=False, server_default=text("0")),
    Column("rejected", Integer, nullable=False, server_default=text("0")),
    Column("note", Text),
    Column("legal_ref", Text),
    Column("restores_publication", BigInteger, ForeignKey("publication.id")),
    CheckConstraint("action IN ('ingest', 'rollback', 'edit')", name="publication_action_check"),
    UniqueConstraint("layer_id", "id", name="publication_layer_id_key"),  # for feature's keys (0009)
)
Index("publication_layer_idx", publication.c.layer_id, publication.c.id.desc())

feature = Table(
    "feature", metadata,
    Column("id", BigInteger, nullable=False, autoincrement=True),  # bigserial: feature_id_seq
    Column("layer_id", Text, nullable=False),
    Column("source_id", Text, nullable=False),
    Column("geom", _geometry("GEOMETRY"), nullable=False),
    Column("props", JSONB, nullable=False),
    Column("units", JSONB, nullable=False, server_default=EMPTY_JSON),
    Column("unit_code", Text),
    Column("approximate", Boolean, nullable=False, server_default=false()),
    Column("content_hash", Text, nullable=False),
    Column("source_row", Integer),
    Column("valid_from_pub", BigInteger, nullable=False),
    Column("valid_to_pub", BigInteger),
    PrimaryKeyConstraint("layer_id", "id"),
    ForeignKeyConstraint(["layer_id", "valid_from_pub"], ["publication.layer_id", "publication.id"],
                         name="feature_valid_from_fkey"),
    ForeignKeyConstraint(["layer_id", "valid_to_pub"], ["publication.layer_id", "publication.id"],
                         name="feature_valid_to_fkey"),
    CheckConstraint("valid_to_pub IS NULL OR valid_to_pub > valid_from_pub", name="feature_check"),
    postgresql_partition_by="LIST (layer_id)",
)
_CURRENT = feature.c.valid_to_pub.is_(None)
Index("feature_current_geom_idx", feature.c.geom, postgresql_using="gist", postgresql_where=_CURRENT)
Index("feature_current_key_idx", feature.c.layer_id, feature.c.source_id, unique=True,
      postgresql_where=_CURRENT)
Index("feature_geom_all_idx", feature.c.geom, postgresql_using="gist")
Index("feature_history_idx", feature.c.layer_id, feature.c.valid_from_pub, feature.c.valid_to_pub)

unit_stat = Table(
    "unit_stat", metadata,
    Column("boundary_set", Text, primary_key=True),
    Column("unit_code", Text, primary_key=True),
    Column("metric", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("value", Double, nullable=False),
    Column("source_name", Text),
    _created_at("updated_at"),
    # 0015: shared by area from an old unit's figure (a 2021 commune split among 2025 wards)
    Column("estimated", Boolean, nullable=False, server_default=false()),
)
Index("unit_stat_metric_day_idx", unit_stat.c.boundary_set, unit_stat.c.metric, unit_stat.c.day)

# 0010: what each publication of statistics changed (see ``layers.stat_versions``).

unit_stat_change = Table(
    "unit_stat_change", metadata,
    Column("publication_id", BigInteger, ForeignKey("publication.id"), primary_key=True),
    Column("unit_code", Text, primary_key=True),
    Column("metric", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("old_value", Double),  # NULL: the value did not exist before
    Column("new_value", Double),  # NULL: the publication (a rollback) removed it
    Column("old_estimated", Boolean),  # 0015: the flags beside the values
    Column("new_estimated", Boolean),
    CheckConstraint("old_value IS DISTINCT FROM new_value", name="unit_stat_change_check"),
)

# 0004: officials' overrides of a unit's risk level.

risk_override = Table(
    "risk_override", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("boundary_set", Text, nullable=False),
    Column("unit_code", Text, nullable=False),
    Column("level", Integer),
    Column("reason", Text, nullable=False),
    Column("author", Text, nullable=False),
    _created_at(),
    CheckConstraint("level BETWEEN 1 AND 4", name="risk_override_level_check"),
    CheckConstraint("length(trim(reason)) > 0", name="risk_override_reason_check"),
)
Index("risk_override_unit_idx", risk_override.c.boundary_set, risk_override.c.unit_code,
      risk_override.c.id.desc())

# 0005: accounts, sessions, sign-in attempts, API tokens, feed uploads, the audit log.

account = Table(
    "account", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("email", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("boundary_set", Text, nullable=False),
    Column("scope_code", Text, nullable=False),
    _created_at(),
    Column("created_by", Text, nullable=False),
    Column("disabled_at", DateTime(timezone=True)),
    Column("disabled_by", Text),
    Column("last_sign_in_at", DateTime(timezone=True)),
    CheckConstraint("email = lower(email) AND length(email) BETWEEN 3 AND 254", name="account_email_check"),
    CheckConstraint("role IN ('viewer', 'operator', 'editor', 'publisher', 'admin')",
                    name="account_role_check"),
)
Index("account_email_idx", account.c.email, unique=True)

account_session = Table(
    "account_session", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("account_id", BigInteger, ForeignKey("account.id", ondelete="CASCADE"), nullable=False),
    _created_at(),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("ip", Text),
    Column("user_agent", Text),
)
Index("account_session_account_idx", account_session.c.account_id)

sign_in_attempt = Table(
    "sign_in_attempt", metadata,
    Column("id", BigInteger, primary_key=True),
    _created_at("at"),
    Column("email", Text, nullable=False),
    Column("ip", Text),
    Column("ok", Boolean, nullable=False),
    Column("counted", Boolean, nullable=False, server_default=true()),
)
Index("sign_in_attempt_email_idx", sign_in_attempt.c.email, sign_in_attempt.c.at.desc())
Index("sign_in_attempt_ip_idx", sign_in_attempt.c.ip, sign_in_attempt.c.at.desc())

api_token = Table(
    "api_token", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("boundary_set", Text, nullable=False),
    Column("scope_code", Text, nullable=False),
    Column("account_id", BigInteger, ForeignKey("account.id", ondelete="CASCADE"), nullable=False),
    _created_at(),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", Text),
    Column("last_used_at", DateTime(timezone=True)),
    CheckConstraint("role IN ('viewer', 'operator', 'editor', 'publisher')", name="api_token_role_check"),
)

feed_upload = Table(
    "feed_upload", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("layer_id", Text, nullable=False),  # no foreign key to layer (0005)
    Column("file_name", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("author", Text, nullable=False),
    Column("account_id", BigInteger, ForeignKey("account.id", ondelete="SET NULL")),
    Column("token_id", BigInteger, ForeignKey("api_token.id", ondelete="SET NULL")),
    Column("boundary_set", Text, nullable=False),
    Column("scope_code", Text, nullable=False),
    _created_at(),
    Column("status", Text, nullable=False),
    Column("base_publication", BigInteger),
    Column("report", JSONB),
    Column("changes", JSONB),
    Column("publication_id", BigInteger, ForeignKey("publication.id", ondelete="SET NULL")),
    Column("decided_by", Text),
    Column("decided_at", DateTime(timezone=True)),
    # 0012: the upload's latest background job (officials/jobs.py) and how far it got.
    Column("job_id", BigInteger),
    Column("job_kind", Text),
    Column("job_phase", Text),
    Column("job_rows", Integer, nullable=False, server_default=text("0")),
    Column("job_percent", SmallInteger, nullable=False, server_default=text("0")),
    Column("job_error", JSONB),
    Column("job_updated_at", DateTime(timezone=True)),
    CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="feed_upload_sha256_check"),
    CheckConstraint("status IN ('queued', 'previewed', 'publishing', 'published', 'discarded', 'failed')",
                    name="feed_upload_status_check"),
    CheckConstraint("job_percent BETWEEN 0 AND 100", name="feed_upload_job_percent_check"),
)
Index("feed_upload_layer_idx", feed_upload.c.layer_id, feed_upload.c.id.desc())

audit_event = Table(
    "audit_event", metadata,  # append-only: triggers refuse UPDATE, DELETE and TRUNCATE (0005)
    Column("id", BigInteger, primary_key=True),
    _created_at("at"),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("ip", Text),
    Column("user_agent", Text),
    Column("target", Text),
    Column("details", JSONB, nullable=False, server_default=EMPTY_JSON),
)
Index("audit_event_at_idx", audit_event.c.at.desc(), audit_event.c.id.desc())
Index("audit_event_actor_idx", audit_event.c.actor, audit_event.c.at.desc())
Index("audit_event_action_idx", audit_event.c.action, audit_event.c.at.desc())

# 0006: cluster overviews of point layers, per publication (no primary key).

cluster_overview = Table(
    "cluster_overview", metadata,
    Column("publication_id", BigInteger, nullable=False),
    Column("level", SmallInteger, nullable=False),
    Column("cx", Integer, nullable=False),
    Column("cy", Integer, nullable=False),
    Column("count", Integer, nullable=False),
    Column("sum_lon", Double, nullable=False),
    Column("sum_lat", Double, nullable=False),
)
Index("cluster_overview_tile_idx", cluster_overview.c.publication_id, cluster_overview.c.level,
      cluster_overview.c.cx // 48, cluster_overview.c.cy // 48, cluster_overview.c.cx, cluster_overview.c.cy)

# 0013: citizens' requests and their history (the personal columns are nulled by the purge).

service_request = Table(
    "service_request", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("ref", Text, nullable=False, unique=True),
    Column("kind", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=text("'new'")),
    Column("boundary_set", Text, nullable=False),
    Column("commune_code", Text, nullable=False),
    Column("team_code", Text, nullable=False),
    Column("assignee", Text),
    Column("source", Text, nullable=False),
    Column("source_detail", Text),
    Column("phone", Text),
    Column("name", Text),
    Column("address", Text),
    Column("geom", _geometry("POINT")),
    Column("photo", LargeBinary),
    _created_at(),
    _created_at("updated_at"),
    Column("assign_due_at", DateTime(timezone=True)),
    Column("assigned_at", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("escalations", SmallInteger, nullable=False, server_default=text("0")),
    Column("duplicate_of", BigInteger, ForeignKey("service_request.id", ondelete="SET NULL")),
    Column("demo", Boolean, nullable=False, server_default=false()),
    Column("purged_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('new', 'assigned', 'in_progress', 'resolved', 'closed')",
                    name="service_request_status_check"),
    CheckConstraint("source IN ('web', 'operator', 'open311')", name="service_request_source_check"),
)
Index("service_request_team_idx", service_request.c.boundary_set, service_request.c.team_code,
      service_request.c.status)
Index("service_request_commune_idx", service_request.c.boundary_set, service_request.c.commune_code,
      service_request.c.status)
Index("service_request_due_idx", service_request.c.assign_due_at, postgresql_where=text("status = 'new'"))
Index("service_request_phone_idx", service_request.c.phone, service_request.c.created_at.desc(),
      postgresql_where=text("phone IS NOT NULL"))
Index("service_request_geom_idx", service_request.c.geom, postgresql_using="gist")

service_request_event = Table(
    "service_request_event", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("request_id", BigInteger, ForeignKey("service_request.id", ondelete="CASCADE"), nullable=False),
    _created_at("at"),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("status", Text),
    Column("team_code", Text),
    Column("note", Text),
    Column("public", Boolean, nullable=False, server_default=false()),
    CheckConstraint("action IN ('created', 'assigned', 'status', 'referred', 'comment', 'escalated',"
                    " 'linked', 'purged')", name="service_request_event_action_check"),
)
Index("service_request_event_request_idx", service_request_event.c.request_id, service_request_event.c.at)

# Moved on by every statement writing publications, statistics, units or risk overrides (migration
# 0011's triggers): the version the portal keeps map pages by.
data_version = Sequence("data_version", metadata=metadata)

# 0014: the 2025 reform crosswalk, old unit -> new unit (whole or part); units need not be loaded.

crosswalk = Table(
    "crosswalk", metadata,
    Column("old_set", Text, primary_key=True),
    Column("old_code", Text, primary_key=True),
    Column("old_name", Text, nullable=False),
    Column("old_parent_name", Text),
    Column("new_set", Text, primary_key=True),
    Column("new_code", Text, primary_key=True),
    Column("new_name", Text, nullable=False),
    Column("new_parent_name", Text),
    Column("whole", Boolean, nullable=False),
    Column("note", Text),
    Column("source", Text, nullable=False),
)
Index("crosswalk_new_idx", crosswalk.c.new_set, crosswalk.c.new_code)
