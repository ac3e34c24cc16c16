"""Background jobs: procrastinate's queue tables, and a feed upload's job progress.

Uploads are previewed and published by jobs on PostgreSQL itself (``procrastinate``; started by
``epimap worker``), never inside a web request.  procrastinate's own schema (its ``procrastinate_*``
tables, types and functions) is applied as the installed version ships it (pinned in setup.cfg;
upgrading procrastinate takes a migration applying its ``sql/migrations`` files).  ``feed_upload``
gets the state of its latest job, written by the job at a bounded frequency: the phase, rows
read, a percentage, the bilingual error of a failed job, and when it last moved.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    from procrastinate.schema import SchemaManager

    op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))  # no parameters
    op.execute(
        """
        ALTER TABLE feed_upload
            ADD COLUMN job_id bigint,
            ADD COLUMN job_kind text,
            ADD COLUMN job_phase text,
            ADD COLUMN job_rows integer NOT NULL DEFAULT 0,
            ADD COLUMN job_percent smallint NOT NULL DEFAULT 0,
            ADD COLUMN job_error jsonb,
            ADD COLUMN job_updated_at timestamptz,
            DROP CONSTRAINT feed_upload_status_check,
            ADD CONSTRAINT feed_upload_status_check CHECK (status IN
                ('queued', 'previewed', 'publishing', 'published', 'discarded', 'failed')),
            ADD CONSTRAINT feed_upload_job_percent_check CHECK (job_percent BETWEEN 0 AND 100);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DELETE FROM feed_upload WHERE status = 'queued';
        ALTER TABLE feed_upload
            DROP CONSTRAINT feed_upload_job_percent_check,
            DROP CONSTRAINT feed_upload_status_check,
            ADD CONSTRAINT feed_upload_status_check CHECK (status IN
                ('previewed', 'publishing', 'published', 'discarded', 'failed')),
            DROP COLUMN job_id, DROP COLUMN job_kind, DROP COLUMN job_phase, DROP COLUMN job_rows,
            DROP COLUMN job_percent, DROP COLUMN job_error, DROP COLUMN job_updated_at;
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
            procrastinate_workers CASCADE;
        DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
            procrastinate_job_status CASCADE;
        """
    )
    op.execute(
        """
        DO $$
        DECLARE f record;
        BEGIN
            FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate\\_%'
            LOOP
                EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE';
            END LOOP;
        END $$;
        """
    )
