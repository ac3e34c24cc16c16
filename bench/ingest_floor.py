"""The raw PostGIS floor of an ingest: the least SQL that stores what ``epimap ingest`` stores.

One psql session, no Python and no validation: ``\\copy`` the CSV as text, make the points, find
each point's commune the way ``ingest.locate`` does (unit pieces walking an index of the points),
place the rows without coordinates by their commune's exact name, write the located rows shaped
like ``feature`` into a plain table, build every index ``feature`` has over it, and count the
points per cell of the finest cluster-overview zoom.  What it leaves out: reading Vietnamese
formats and checking every cell, the per-row report, ids numbered where they repeat, the history
(closing rows, the publication row, foreign keys) and the coarser overview zooms.

Whatever epimap does on top of this floor costs time on top of it: the bench prints the floor
against ogr2ogr, so a ratio target below the floor's is out of reach on the machine that ran it.
"""

from __future__ import annotations

from pathlib import Path

from layers.overview import CLUSTER_CELLS, MAX_LEVEL, cell_x, cell_y

FLOOR_TABLE = "floor_feature"

_SCRIPT = r"""
\set ON_ERROR_STOP on
SET work_mem = '256MB';
BEGIN;
CREATE TEMP TABLE floor_raw (name text, address text, commune text, lat text, lon text, kinds text,
                             hours text, phone text) ON COMMIT DROP;
\copy floor_raw FROM '{path}' WITH (FORMAT csv, HEADER true)
CREATE TEMP TABLE floor_point ON COMMIT DROP AS
SELECT row_number() OVER () AS seq, r.*,
       CASE WHEN r.lon <> '' THEN ST_SetSRID(ST_MakePoint(r.lon::float8, r.lat::float8), 4326) END AS geom
FROM floor_raw r WHERE r.name <> '';
CREATE INDEX ON floor_point USING gist (geom);
ANALYZE floor_point;
CREATE TEMP TABLE floor_piece ON COMMIT DROP AS
SELECT code, ST_Subdivide(geom, {vertices}) AS geom FROM admin_unit
WHERE boundary_set = '{set_name}' AND level = '{lowest}';
CREATE INDEX ON floor_piece USING gist (geom);
ANALYZE floor_piece;
CREATE TEMP TABLE floor_inside ON COMMIT DROP AS
SELECT p.seq, min(u.code) AS code
FROM floor_piece u CROSS JOIN LATERAL (
    SELECT p.seq FROM floor_point p WHERE ST_Intersects(u.geom, p.geom) OFFSET 0) p
GROUP BY p.seq;
DROP TABLE IF EXISTS {table};
CREATE TABLE {table} (LIKE feature INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO {table} (id, layer_id, source_id, geom, props, units, unit_code, approximate,
                     content_hash, source_row, valid_from_pub)
SELECT p.seq, '{layer}', lower(p.name) || '@' || c.code, g.geom, j.props,
       jsonb_build_object('{lowest}', c.code, 'district', d.code, 'province', d.parent_code), c.code,
       p.geom IS NULL, md5(j.props::text || ST_AsEWKB(g.geom)::text), p.seq + 1, 1
FROM floor_point p
LEFT JOIN floor_inside i ON i.seq = p.seq
LEFT JOIN admin_unit n ON p.geom IS NULL AND n.boundary_set = '{set_name}' AND n.level = '{lowest}'
                      AND n.name = p.commune
JOIN admin_unit c ON c.boundary_set = '{set_name}' AND c.code = coalesce(i.code, n.code)
JOIN admin_unit d ON d.boundary_set = '{set_name}' AND d.code = c.parent_code
CROSS JOIN LATERAL (SELECT coalesce(p.geom, n.label_point) AS geom) g
CROSS JOIN LATERAL (SELECT jsonb_build_object('name', p.name, 'address', p.address,
                                              'test_types', p.kinds, 'hours', p.hours,
                                              'phone', p.phone) AS props) j;
DO $$
DECLARE
    index record;
BEGIN
    FOR index IN SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index
                 WHERE indrelid = 'feature'::regclass LOOP
        EXECUTE regexp_replace(index.def, '^(CREATE (UNIQUE )?INDEX) \S+ ON ONLY \S+',
                               '\1 ON {table}');
    END LOOP;
END $$;
CREATE TEMP TABLE floor_overview ON COMMIT DROP AS
SELECT {cx} AS cx, {cy} AS cy, count(*) AS count, sum(p.lon) AS sum_lon, sum(p.lat) AS sum_lat
FROM (SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM {table} OFFSET 0) p
GROUP BY 1, 2;
COMMIT;
"""


def floor_script(csv_path: Path, layer: str, set_name: str, lowest: str, vertices: int) -> str:
    """Return the psql script that stores a bench CSV's rows as the floor table ``floor_feature``."""
    if any(c in str(csv_path) for c in "'\\\n\r"):
        raise ValueError(f"no quotes, backslashes or line breaks in the CSV's path: {csv_path}")
    cells = str(CLUSTER_CELLS * 2**MAX_LEVEL)
    return _SCRIPT.format(path=csv_path, layer=layer, set_name=set_name, lowest=lowest,
                          vertices=vertices, table=FLOOR_TABLE, cx=cell_x("p.lon", cells),
                          cy=cell_y("p.lat", cells))
