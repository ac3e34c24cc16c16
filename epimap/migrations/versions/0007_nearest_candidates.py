"""The nearest-feature walk of ``/api/nearby`` as a function, so it stops as soon as it is proven.

``nearest_candidates(layer, lon, lat, k, cap)`` walks the current features of a layer in planar
order (``geom <-> point`` on the GiST index), measures each in metres on the WGS 84 ellipsoid,
and stops at the first feature whose planar distance proves the ``k`` nearest in metres among
those walked: a feature ``m`` metres away lies within ``m / floor(lat, m)`` planar degrees,
``floor`` being the fewest metres a planar degree spans there (``epimap.knn.floor_sql``, the
expression ``layers.nearby`` computes in Python, written below). It returns each feature walked
(what the answer shows of it, with its metres), then one last row without a feature whose
``covered`` says how far the walk went: every feature nearer than that many planar degrees was
returned (infinite when the layer ran out; the walk also stops after ``cap`` features). One
round trip walks as far as each point needs, no more: a few features inside the province, dozens
(up to a few hundred) for a point outside it, where every candidate is about as far and the
planar order is least trusted.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

from epimap.knn import floor_sql

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION nearest_candidates(layer text, lon float8, lat float8, k integer, cap integer)
        RETURNS TABLE (source_id text, props jsonb, approximate boolean, geom geometry,
                       valid_from_pub bigint, distance_m float8, covered float8)
        LANGUAGE plpgsql STABLE ROWS 20
        -- Planned for every row, as PL/pgSQL plans its cursors, sorting a small layer would look
        -- cheaper than walking the index; it would sort a large one too.  Only the index walks.
        SET enable_sort = off
        AS $walk$
        DECLARE
            point geometry := ST_SetSRID(ST_MakePoint(lon, lat), 4326);
            -- Fetched one at a time: a FOR loop would prefetch (and the index measure) 50 more.
            walk CURSOR FOR
                SELECT f.source_id, f.props, f.approximate, f.geom, f.valid_from_pub,
                       f.geom <-> point AS planar
                FROM feature f
                WHERE f.valid_to_pub IS NULL AND f.layer_id = nearest_candidates.layer
                ORDER BY f.geom <-> point;
            walked record;
            metres float8;
            proven_by float8;  -- planar degrees past which nothing nearer than ``metres`` lies
            returned integer := 0;
            nearest float8[] := '{{}}';  -- the k smallest ``proven_by`` so far, ascending
            kth float8 := 'Infinity';
            i integer;
        BEGIN
            covered := 'Infinity';
            OPEN walk;
            LOOP
                FETCH walk INTO walked;
                EXIT WHEN NOT FOUND;
                IF kth < walked.planar OR returned >= cap THEN
                    covered := walked.planar;
                    EXIT;
                END IF;
                metres := ST_DistanceSpheroid(walked.geom, point,
                                              'SPHEROID["WGS 84",6378137,298.257223563]');
                source_id := walked.source_id;
                props := walked.props;
                approximate := walked.approximate;
                geom := walked.geom;
                valid_from_pub := walked.valid_from_pub;
                distance_m := metres;
                RETURN NEXT;
                returned := returned + 1;
                proven_by := metres / ({floor_sql("lat", "metres")});
                IF returned <= k THEN
                    nearest := nearest || proven_by;
                    IF returned = k THEN
                        nearest := ARRAY(SELECT v FROM unnest(nearest) AS v ORDER BY v);
                        kth := nearest[k];
                    END IF;
                ELSIF proven_by < kth THEN
                    i := k;
                    WHILE i > 1 AND nearest[i - 1] > proven_by LOOP
                        nearest[i] := nearest[i - 1];
                        i := i - 1;
                    END LOOP;
                    nearest[i] := proven_by;
                    kth := nearest[k];
                END IF;
            END LOOP;
            CLOSE walk;
            source_id := NULL;
            props := NULL;
            approximate := NULL;
            geom := NULL;
            valid_from_pub := NULL;
            distance_m := NULL;
            RETURN NEXT;  -- the walk's end: only ``covered``
        END
        $walk$
        """  # noqa: S608 - the only formatted fragment is epimap.knn's constant expression
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION nearest_candidates(text, float8, float8, integer, integer)")
