"""Spatial index over every feature version, for tiles of past publications.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("CREATE INDEX feature_geom_all_idx ON feature USING gist (geom)")


def downgrade() -> None:
    op.execute("DROP INDEX feature_geom_all_idx")
