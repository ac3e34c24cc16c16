"""A data version: a counter every change to what public pages show moves on.

The map pages are kept by the portal per URL, language and this version (portal/maps/page_cache.py):
a statement that writes publications, statistics, units or risk overrides moves it, so no kept
page outlives the data it shows, whichever process or tool wrote it.  A sequence, not a table: its
``nextval`` never waits on another transaction, and a write rolled back only costs one new page.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"

TABLES = ("publication", "unit_stat", "admin_unit", "risk_override")


def upgrade() -> None:
    op.execute(
        """
        CREATE SEQUENCE data_version;
        CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM nextval('data_version');
            RETURN NULL;
        END $$;
        """
    )
    for table in TABLES:
        op.execute(f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
                   f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_data_version ON {table}")
    op.execute("DROP FUNCTION bump_data_version(); DROP SEQUENCE data_version;")
