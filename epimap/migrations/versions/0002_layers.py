"""Layers, publications, versioned features and unit statistics.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE layer (
            id text PRIMARY KEY,
            title_vi text NOT NULL,
            title_en text NOT NULL,
            geometry_type text NOT NULL,
            public boolean NOT NULL,
            definition jsonb NOT NULL DEFAULT '{}'::jsonb
        );
        CREATE TABLE publication (
            id bigserial PRIMARY KEY,
            layer_id text NOT NULL REFERENCES layer (id),
            created_at timestamptz NOT NULL DEFAULT now(),
            author text NOT NULL,
            action text NOT NULL CHECK (action IN ('ingest', 'rollback', 'edit')),
            source_name text,
            source_sha256 text,
            boundary_set text NOT NULL,
            scope_code text NOT NULL,
            scope_level text NOT NULL,
            added integer NOT NULL DEFAULT 0,
            changed integer NOT NULL DEFAULT 0,
            removed integer NOT NULL DEFAULT 0,
            unchanged integer NOT NULL DEFAULT 0,
            rejected integer NOT NULL DEFAULT 0,
            note text,
            legal_ref text,
            restores_publication bigint REFERENCES publication (id)
        );
        CREATE INDEX publication_layer_idx ON publication (layer_id, id DESC);
        CREATE TABLE feature (
            id bigserial PRIMARY KEY,
            layer_id text NOT NULL REFERENCES layer (id),
            source_id text NOT NULL,
            geom geometry(Geometry, 4326) NOT NULL,
            props jsonb NOT NULL,
            units jsonb NOT NULL DEFAULT '{}'::jsonb,
            unit_code text,
            approximate boolean NOT NULL DEFAULT false,
            content_hash text NOT NULL,
            source_row integer,
            valid_from_pub bigint NOT NULL REFERENCES publication (id),
            valid_to_pub bigint REFERENCES publication (id),
            CHECK (valid_to_pub IS NULL OR valid_to_pub > valid_from_pub)
        );
        CREATE INDEX feature_current_geom_idx ON feature USING gist (geom) WHERE valid_to_pub IS NULL;
        CREATE UNIQUE INDEX feature_current_key_idx ON feature (layer_id, source_id)
            WHERE valid_to_pub IS NULL;
        CREATE INDEX feature_current_units_idx ON feature USING gin (units) WHERE valid_to_pub IS NULL;
        CREATE INDEX feature_history_idx ON feature (layer_id, valid_from_pub, valid_to_pub);
        CREATE TABLE unit_stat (
            boundary_set text NOT NULL,
            unit_code text NOT NULL,
            metric text NOT NULL,
            day date NOT NULL,
            value double precision NOT NULL,
            source_name text,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (boundary_set, unit_code, metric, day)
        );
        CREATE INDEX unit_stat_metric_day_idx ON unit_stat (boundary_set, metric, day);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE unit_stat; DROP TABLE feature; DROP TABLE publication; DROP TABLE layer;")
