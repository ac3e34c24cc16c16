"""Partition ``feature`` by layer, so a large publication can rebuild its layer's partition in bulk.

Inserting a million features row by row into a table with five indexes and foreign keys took
40 seconds: each row updated two GiST indexes (17 s), three B-trees (8.5 s) and ran its
foreign-key checks (12.4 s).  Writing the rows into a fresh table, building its indexes in one
pass and attaching it takes about 11 s.  Each layer therefore gets its own partition, created
when the layer is first inserted (``feature_<layer id>``, see ``feature_partition``), and
``swap_feature_partition`` replaces a layer's partition by a fresh, filled table.

``nearest_candidates`` keeps one generic plan for its walk, pruned to the layer's partition as it
starts (re-planning the partitioned query at every call cost a quarter of its throughput).

The foreign keys to the publication now name the layer as well, ``(layer_id, valid_from_pub)``
and ``(layer_id, valid_to_pub)``: a feature cannot point at another layer's publication, and an
insert checks one key instead of two.  The primary key becomes ``(layer_id, id)``, as a
partitioned table's must hold its partition key; ids still come from one sequence.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"

_INDEXES = """
CREATE INDEX feature_current_geom_idx ON feature USING gist (geom) WHERE valid_to_pub IS NULL;
CREATE UNIQUE INDEX feature_current_key_idx ON feature (layer_id, source_id) WHERE valid_to_pub IS NULL;
CREATE INDEX feature_geom_all_idx ON feature USING gist (geom);
CREATE INDEX feature_history_idx ON feature (layer_id, valid_from_pub, valid_to_pub);
"""

_FUNCTIONS = r"""
CREATE FUNCTION feature_partition(layer text) RETURNS text LANGUAGE sql IMMUTABLE
RETURN 'feature_' || layer;

CREATE FUNCTION add_feature_partition(layer text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE %I PARTITION OF feature FOR VALUES IN (%L)',
                   feature_partition(layer), layer);
END $$;

CREATE FUNCTION create_feature_partition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM add_feature_partition(NEW.id);
    RETURN NULL;
END $$;

CREATE TRIGGER layer_feature_partition AFTER INSERT ON layer
FOR EACH ROW EXECUTE FUNCTION create_feature_partition();

-- Replace a layer's partition by ``fresh``, a filled table shaped like ``feature`` (LIKE feature
-- INCLUDING DEFAULTS INCLUDING CONSTRAINTS) with no index: give it the parent's indexes, foreign
-- keys and a check of the layer (so attaching neither builds an index, nor checks a key or scans
-- the rows), then detach and drop the old partition and attach ``fresh`` under its name, its
-- indexes named after it.  Detaching locks ``feature`` until the transaction ends: call this last.
CREATE FUNCTION swap_feature_partition(layer text, fresh text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    index record;
    key record;
    target text := feature_partition(layer);
BEGIN
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT partition_layer CHECK (layer_id IS NOT NULL AND'
                   ' layer_id = %L)', fresh, layer);
    FOR index IN
        SELECT pg_get_indexdef(i.indexrelid) AS def, pg_get_constraintdef(c.oid) AS constraint_def
        FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
        WHERE i.indrelid = 'feature'::regclass
    LOOP
        IF index.constraint_def IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %I ADD %s', fresh, index.constraint_def);
        ELSE
            EXECUTE regexp_replace(index.def, '^(CREATE (UNIQUE )?INDEX) \S+ ON ONLY \S+',
                                   '\1 ON ' || quote_ident(fresh));
        END IF;
    END LOOP;
    FOR key IN SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
               WHERE conrelid = 'feature'::regclass AND contype = 'f' LOOP
        EXECUTE format('ALTER TABLE %I ADD %s', fresh, key.def);
    END LOOP;
    EXECUTE format('ALTER TABLE feature DETACH PARTITION %I', target);
    EXECUTE format('DROP TABLE %I', target);
    EXECUTE format('ALTER TABLE %I RENAME TO %I', fresh, target);
    FOR index IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                 WHERE i.indrelid = target::regclass LOOP
        EXECUTE format('ALTER INDEX %I RENAME TO %I', index.relname,
                       target || substr(index.relname, length(fresh) + 1));
    END LOOP;
    EXECUTE format('ALTER TABLE feature ATTACH PARTITION %I FOR VALUES IN (%L)', target, layer);
END $$;
"""


def upgrade() -> None:
    op.execute(
        f"""
        ALTER TABLE publication ADD CONSTRAINT publication_layer_id_key UNIQUE (layer_id, id);
        ALTER TABLE feature RENAME TO feature_flat;
        ALTER INDEX feature_pkey RENAME TO feature_flat_pkey;
        ALTER INDEX feature_current_geom_idx RENAME TO feature_flat_current_geom_idx;
        ALTER INDEX feature_current_key_idx RENAME TO feature_flat_current_key_idx;
        ALTER INDEX feature_geom_all_idx RENAME TO feature_flat_geom_all_idx;
        ALTER INDEX feature_history_idx RENAME TO feature_flat_history_idx;
        CREATE TABLE feature (LIKE feature_flat INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
            PRIMARY KEY (layer_id, id),
            CONSTRAINT feature_valid_from_fkey FOREIGN KEY (layer_id, valid_from_pub)
                REFERENCES publication (layer_id, id),
            CONSTRAINT feature_valid_to_fkey FOREIGN KEY (layer_id, valid_to_pub)
                REFERENCES publication (layer_id, id)
        ) PARTITION BY LIST (layer_id);
        ALTER SEQUENCE feature_id_seq OWNED BY feature.id;
        {_INDEXES}
        {_FUNCTIONS}
        SELECT add_feature_partition(id) FROM layer;
        INSERT INTO feature SELECT * FROM feature_flat;
        DROP TABLE feature_flat;
        -- The walk's cursor names the layer as a parameter: custom plans re-planned the partitioned
        -- query at every call (a quarter of the KNN statement's throughput); the generic plan prunes
        -- to the layer's partition when it starts.
        ALTER FUNCTION nearest_candidates(text, float8, float8, integer, integer)
            SET plan_cache_mode = force_generic_plan;
        """  # noqa: S608 - constant SQL fragments only
    )


def downgrade() -> None:
    op.execute(
        f"""
        ALTER FUNCTION nearest_candidates(text, float8, float8, integer, integer) RESET plan_cache_mode;
        DROP TRIGGER layer_feature_partition ON layer;
        DROP FUNCTION swap_feature_partition(text, text);
        DROP FUNCTION create_feature_partition();
        DROP FUNCTION add_feature_partition(text);
        ALTER TABLE feature RENAME TO feature_partitioned;
        ALTER INDEX feature_pkey RENAME TO feature_partitioned_pkey;
        ALTER INDEX feature_current_geom_idx RENAME TO feature_partitioned_current_geom_idx;
        ALTER INDEX feature_current_key_idx RENAME TO feature_partitioned_current_key_idx;
        ALTER INDEX feature_geom_all_idx RENAME TO feature_partitioned_geom_all_idx;
        ALTER INDEX feature_history_idx RENAME TO feature_partitioned_history_idx;
        CREATE TABLE feature (LIKE feature_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
            PRIMARY KEY (id),
            FOREIGN KEY (layer_id) REFERENCES layer (id),
            FOREIGN KEY (valid_from_pub) REFERENCES publication (id),
            FOREIGN KEY (valid_to_pub) REFERENCES publication (id)
        );
        ALTER SEQUENCE feature_id_seq OWNED BY feature.id;
        {_INDEXES}
        INSERT INTO feature SELECT * FROM feature_partitioned;
        DROP TABLE feature_partitioned;
        DROP FUNCTION feature_partition(text);
        ALTER TABLE publication DROP CONSTRAINT publication_layer_id_key;
        """  # noqa: S608 - constant SQL fragments only
    )
