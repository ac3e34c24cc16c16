"""Officials' overrides of a unit's computed risk level.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE risk_override (
            id bigserial PRIMARY KEY,
            boundary_set text NOT NULL,
            unit_code text NOT NULL,
            level integer CHECK (level BETWEEN 1 AND 4),
            reason text NOT NULL CHECK (length(trim(reason)) > 0),
            author text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX risk_override_unit_idx ON risk_override (boundary_set, unit_code, id DESC);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE risk_override")
