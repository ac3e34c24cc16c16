"""Officials' accounts, their sessions and sign-in attempts, API tokens, feed uploads, the audit log.

The audit log is append-only: ``REVOKE`` alone does not bind the table's owner (the role the
app connects as), so statement triggers refuse every UPDATE, DELETE and TRUNCATE, whoever runs
them.  The app never alters or drops these triggers; a database owner or superuser could drop
them, so an operator who needs tamper evidence beyond that ships the log off the database too.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE account (
            id bigserial PRIMARY KEY,
            email text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
            password_hash text NOT NULL,
            role text NOT NULL CHECK (role IN ('viewer', 'editor', 'publisher', 'admin')),
            boundary_set text NOT NULL,
            scope_code text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by text NOT NULL,
            disabled_at timestamptz,
            disabled_by text,
            last_sign_in_at timestamptz
        );
        CREATE UNIQUE INDEX account_email_idx ON account (email);

        CREATE TABLE account_session (
            id bigserial PRIMARY KEY,
            token_hash text NOT NULL UNIQUE,
            account_id bigint NOT NULL REFERENCES account (id) ON DELETE CASCADE,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            ended_at timestamptz,
            ip text,
            user_agent text
        );
        CREATE INDEX account_session_account_idx ON account_session (account_id);

        CREATE TABLE sign_in_attempt (
            id bigserial PRIMARY KEY,
            at timestamptz NOT NULL DEFAULT now(),
            email text NOT NULL,
            ip text,
            ok boolean NOT NULL,
            counted boolean NOT NULL DEFAULT true
        );
        CREATE INDEX sign_in_attempt_email_idx ON sign_in_attempt (email, at DESC);
        CREATE INDEX sign_in_attempt_ip_idx ON sign_in_attempt (ip, at DESC);

        CREATE TABLE api_token (
            id bigserial PRIMARY KEY,
            token_hash text NOT NULL UNIQUE,
            name text NOT NULL,
            role text NOT NULL CHECK (role IN ('viewer', 'editor', 'publisher')),
            boundary_set text NOT NULL,
            scope_code text NOT NULL,
            account_id bigint NOT NULL REFERENCES account (id) ON DELETE CASCADE,
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz,
            revoked_by text,
            last_used_at timestamptz
        );

        CREATE TABLE feed_upload (
            id bigserial PRIMARY KEY,
            layer_id text NOT NULL,
            file_name text NOT NULL,
            sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            size_bytes bigint NOT NULL,
            author text NOT NULL,
            account_id bigint REFERENCES account (id) ON DELETE SET NULL,
            token_id bigint REFERENCES api_token (id) ON DELETE SET NULL,
            boundary_set text NOT NULL,
            scope_code text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            status text NOT NULL CHECK (status IN ('previewed', 'publishing', 'published', 'discarded',
                                                   'failed')),
            base_publication bigint,
            report jsonb,
            changes jsonb,
            publication_id bigint REFERENCES publication (id) ON DELETE SET NULL,
            decided_by text,
            decided_at timestamptz
        );
        CREATE INDEX feed_upload_layer_idx ON feed_upload (layer_id, id DESC);

        CREATE TABLE audit_event (
            id bigserial PRIMARY KEY,
            at timestamptz NOT NULL DEFAULT now(),
            actor text NOT NULL,
            action text NOT NULL,
            ip text,
            user_agent text,
            target text,
            details jsonb NOT NULL DEFAULT '{}'::jsonb
        );
        CREATE INDEX audit_event_at_idx ON audit_event (at DESC, id DESC);
        CREATE INDEX audit_event_actor_idx ON audit_event (actor, at DESC);
        CREATE INDEX audit_event_action_idx ON audit_event (action, at DESC);

        CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$;
        CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event
            FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
        CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
            FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
        REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM PUBLIC;
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE audit_event; DROP FUNCTION audit_event_append_only();"
        " DROP TABLE feed_upload; DROP TABLE api_token; DROP TABLE sign_in_attempt;"
        " DROP TABLE account_session; DROP TABLE account;"
    )
