"""Cluster overviews of point layers, per publication, backfilled for the existing publications.

``layers.overview`` fills the table whenever a publication is written; this migration creates it
and computes the same rows for every publication of a point layer already in the database (a
test checks that both agree).  The 48 in the index is ``layers.overview.CLUSTER_CELLS``.

Revision ID: 0006
Revises: 0005
"""

from alembic import op
from sqlalchemy import Connection, text

revision = "0006"
down_revision = "0005"

MAX_LEVEL = 14

# Zoom 14 (MAX_LEVEL), 48 * 2**14 = 786432 cells each way.
_BACKFILL_FINEST = """
INSERT INTO cluster_overview (publication_id, level, cx, cy, count, sum_lon, sum_lat)
SELECT p.pub, 14, floor((p.lon + 180) / 360 * 786432)::int,
       floor((1 - asinh(tan(radians(p.lat))) / pi()) / 2 * 786432)::int,
       count(*), sum(p.lon), sum(p.lat)
FROM (SELECT pub.id AS pub, ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat
      FROM publication pub JOIN layer l ON l.id = pub.layer_id AND l.geometry_type = 'point'
      JOIN feature f ON f.layer_id = pub.layer_id AND f.valid_from_pub <= pub.id
                    AND (f.valid_to_pub IS NULL OR f.valid_to_pub > pub.id)
      OFFSET 0) AS p
GROUP BY 1, 3, 4
"""

_BACKFILL_COARSER = """
INSERT INTO cluster_overview (publication_id, level, cx, cy, count, sum_lon, sum_lat)
SELECT o.publication_id, :level, o.cx >> 1, o.cy >> 1, sum(o.count), sum(o.sum_lon), sum(o.sum_lat)
FROM cluster_overview o WHERE o.level = :level + 1
GROUP BY 1, 3, 4
"""


def backfill(bind: Connection) -> None:
    """Compute the overviews of every publication of a point layer."""
    bind.execute(text(_BACKFILL_FINEST))
    for level in range(MAX_LEVEL - 1, -1, -1):
        bind.execute(text(_BACKFILL_COARSER), {"level": level})


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE cluster_overview (
            publication_id bigint NOT NULL,
            level smallint NOT NULL,
            cx integer NOT NULL,
            cy integer NOT NULL,
            count integer NOT NULL,
            sum_lon double precision NOT NULL,
            sum_lat double precision NOT NULL
        );
        CREATE INDEX cluster_overview_tile_idx
            ON cluster_overview (publication_id, level, (cx / 48), (cy / 48), cx, cy);
        """
    )
    backfill(op.get_bind())
    op.execute("ANALYZE cluster_overview")


def downgrade() -> None:
    op.execute("DROP TABLE cluster_overview")
