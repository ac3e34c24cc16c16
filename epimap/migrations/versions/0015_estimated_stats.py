"""Mark statistics that are estimates: figures of old units shared by area onto new ones.

A feed written with 2021 communes into a 2025 set gives a ward whose 2021 commune was split the
share of that commune's figure lying in the ward, by area (``ingest.carry_stats``): such a value is
``estimated``, and pages say so ("ước tính").  The change log keeps the flag a publication wrote,
so a rollback restores it with the value.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE unit_stat ADD COLUMN estimated boolean NOT NULL DEFAULT false;
        ALTER TABLE unit_stat_change ADD COLUMN old_estimated boolean, ADD COLUMN new_estimated boolean;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE unit_stat DROP COLUMN estimated;
        ALTER TABLE unit_stat_change DROP COLUMN old_estimated, DROP COLUMN new_estimated;
        """
    )
