"""Drop the GIN index on current features' ``units``: no query can use it.

Every query on ``units`` compares one level's code (``units ->> 'district' = :code``), which a
GIN ``jsonb_ops`` index cannot serve (it answers ``@>``, ``?``, ``?|`` and ``?&``); the index was
only written, at every insert: 2 to 6 seconds of a 1,000,000-row ingest.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.execute("DROP INDEX feature_current_units_idx")


def downgrade() -> None:
    op.execute("CREATE INDEX feature_current_units_idx ON feature USING gin (units)"
               " WHERE valid_to_pub IS NULL")
