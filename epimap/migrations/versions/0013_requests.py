"""Citizens' requests and their dispatch: the request, its history, the operator role.

``service_request`` is one request for help, however it came in (the public form, an operator
taking a call, a partner app through Open311).  ``phone``, ``name``, ``address``, ``geom`` (the
exact point) and the photo are personal: read only by officials in scope, nulled by the purge
(``purged_at``) while the rest stays for the statistics.  ``team_code`` is the unit whose team
handles it (the commune's, or the district's or province's for kinds declared so, or after an
escalation); ``assign_due_at`` is its SLA clock.  ``service_request_event`` is its history: every
change, timestamped and attributed; ``public`` events are shown to the citizen.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE account DROP CONSTRAINT account_role_check,
            ADD CONSTRAINT account_role_check
                CHECK (role IN ('viewer', 'operator', 'editor', 'publisher', 'admin'));
        ALTER TABLE api_token DROP CONSTRAINT api_token_role_check,
            ADD CONSTRAINT api_token_role_check CHECK (role IN ('viewer', 'operator', 'editor', 'publisher'));

        CREATE TABLE service_request (
            id bigserial PRIMARY KEY,
            ref text NOT NULL UNIQUE,
            kind text NOT NULL,
            description text NOT NULL,
            status text NOT NULL DEFAULT 'new'
                CHECK (status IN ('new', 'assigned', 'in_progress', 'resolved', 'closed')),
            boundary_set text NOT NULL,
            commune_code text NOT NULL,
            team_code text NOT NULL,
            assignee text,
            source text NOT NULL CHECK (source IN ('web', 'operator', 'open311')),
            source_detail text,
            phone text,
            name text,
            address text,
            geom geometry(Point, 4326),
            photo bytea,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            assign_due_at timestamptz,
            assigned_at timestamptz,
            resolved_at timestamptz,
            closed_at timestamptz,
            escalations smallint NOT NULL DEFAULT 0,
            duplicate_of bigint REFERENCES service_request (id) ON DELETE SET NULL,
            demo boolean NOT NULL DEFAULT false,
            purged_at timestamptz
        );
        CREATE INDEX service_request_team_idx ON service_request (boundary_set, team_code, status);
        CREATE INDEX service_request_commune_idx ON service_request (boundary_set, commune_code, status);
        CREATE INDEX service_request_due_idx ON service_request (assign_due_at) WHERE status = 'new';
        CREATE INDEX service_request_phone_idx ON service_request (phone, created_at DESC)
            WHERE phone IS NOT NULL;
        CREATE INDEX service_request_geom_idx ON service_request USING gist (geom);

        CREATE TABLE service_request_event (
            id bigserial PRIMARY KEY,
            request_id bigint NOT NULL REFERENCES service_request (id) ON DELETE CASCADE,
            at timestamptz NOT NULL DEFAULT now(),
            actor text NOT NULL,
            action text NOT NULL CHECK (action IN ('created', 'assigned', 'status', 'referred',
                'comment', 'escalated', 'linked', 'purged')),
            status text,
            team_code text,
            note text,
            public boolean NOT NULL DEFAULT false
        );
        CREATE INDEX service_request_event_request_idx ON service_request_event (request_id, at);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE service_request_event, service_request;
        DELETE FROM api_token WHERE role = 'operator';
        UPDATE account SET role = 'viewer' WHERE role = 'operator';
        ALTER TABLE api_token DROP CONSTRAINT api_token_role_check,
            ADD CONSTRAINT api_token_role_check CHECK (role IN ('viewer', 'editor', 'publisher'));
        ALTER TABLE account DROP CONSTRAINT account_role_check,
            ADD CONSTRAINT account_role_check CHECK (role IN ('viewer', 'editor', 'publisher', 'admin'));
        """
    )
