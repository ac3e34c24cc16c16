"""Version the statistics: every value a publication of ``unit_stats`` changes, before and after.

``unit_stat`` keeps holding the current value of each (unit, metric, day), so every reader (the
maps' roll-ups, the risk levels) reads it as before, by its primary key.  A publication of
statistics writes there and, in the same transaction, one ``unit_stat_change`` row per value it
adds, changes or (a rollback only) removes: ``old_value`` is NULL for a value that did not exist,
``new_value`` NULL for a value removed.  The value a key had at publication P is therefore the
``old_value`` of its first change after P, else its current value: a rollback to P restores those.

Values written before this migration have no change row: they are the baseline every rollback
leaves as it is.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE unit_stat_change (
            publication_id bigint NOT NULL REFERENCES publication (id),
            unit_code text NOT NULL,
            metric text NOT NULL,
            day date NOT NULL,
            old_value double precision,
            new_value double precision,
            PRIMARY KEY (publication_id, unit_code, metric, day),
            CHECK (old_value IS DISTINCT FROM new_value)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE unit_stat_change")
