"""The 2025 reform crosswalk: which old units formed each new one, whole or in part.

One row per (old unit, new unit) pair of an official conversion table.  The units need not be
loaded: codes and names stand on their own, so a 2025 ward can name its 2021 communes in a portal
that has only the 2025 set.  ``whole`` is false when only part of the old unit went to the new one
(its figures are then apportioned by area).  Writes move the data version (0011), since unit pages
show the rows.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE crosswalk (
            old_set text NOT NULL,
            old_code text NOT NULL,
            old_name text NOT NULL,
            old_parent_name text,
            new_set text NOT NULL,
            new_code text NOT NULL,
            new_name text NOT NULL,
            new_parent_name text,
            whole boolean NOT NULL,
            note text,
            source text NOT NULL,
            PRIMARY KEY (old_set, old_code, new_set, new_code)
        );
        CREATE INDEX crosswalk_new_idx ON crosswalk (new_set, new_code);
        CREATE TRIGGER crosswalk_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
            ON crosswalk FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE crosswalk")
