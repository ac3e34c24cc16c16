"""Boundary sets and administrative units.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(
        """
        CREATE TABLE boundary_set (
            name text PRIMARY KEY CHECK (name ~ '^[a-z0-9_-]{1,40}$'),
            title text NOT NULL DEFAULT '',
            levels text[] NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE admin_unit (
            id bigserial PRIMARY KEY,
            boundary_set text NOT NULL REFERENCES boundary_set (name) ON DELETE CASCADE,
            code text NOT NULL,
            level text NOT NULL,
            depth integer NOT NULL,
            parent_code text,
            kind text,
            name text NOT NULL,
            name_ascii text NOT NULL,
            name_key text NOT NULL,
            geom geometry(MultiPolygon, 4326) NOT NULL,
            geom_mid geometry(MultiPolygon, 4326) NOT NULL,
            geom_low geometry(MultiPolygon, 4326) NOT NULL,
            label_point geometry(Point, 4326) NOT NULL,
            area_km2 double precision NOT NULL,
            population bigint,
            contacts jsonb NOT NULL DEFAULT '{}'::jsonb,
            props jsonb NOT NULL DEFAULT '{}'::jsonb,
            UNIQUE (boundary_set, code)
        );
        CREATE INDEX admin_unit_geom_idx ON admin_unit USING gist (geom);
        CREATE INDEX admin_unit_geom_mid_idx ON admin_unit USING gist (geom_mid);
        CREATE INDEX admin_unit_geom_low_idx ON admin_unit USING gist (geom_low);
        CREATE INDEX admin_unit_parent_idx ON admin_unit (boundary_set, parent_code);
        CREATE INDEX admin_unit_level_idx ON admin_unit (boundary_set, level);
        CREATE INDEX admin_unit_name_key_idx ON admin_unit (boundary_set, name_key);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE admin_unit; DROP TABLE boundary_set;")
