"""The raw PostGIS floor of an ingest: the least SQL that stores what ``epimap ingest`` stores.

One psql session, no Python and no validation: ``\\copy`` the CSV as text; make the points, the
properties and a hash of the row's text (cheaper than epimap's hash of the stored JSON and
geometry, whose text forms cost about 3 s a million rows in SQL); find each point's commune the way
``ingest.locate`` does (unit pieces walking an index of the points) and place the rows without
coordinates by their commune's exact name; write the located rows, shaped like ``feature``, into a
plain table; build every index ``feature`` has over it; count the points per cell of the finest
cluster-overview zoom.  What it leaves out: reading Vietnamese formats and checking every cell,
the per-row report, ids numbered where they repeat, the history (closing rows, the publication
row, foreign keys) and the coarser overview zooms.

Whatever epimap does on top of this floor costs time on top of it: the bench prints the floor
against ogr2ogr, so a ratio target below the floor's is out of reach on the machine that ran it.
"""

from __future__ import annotations

from pathlib import Path

from layers.overview import CLUSTER_CELLS, MAX_LEVEL, cell_x, cell_y

FLOOR_TABLE = "floor_feature"

_POINT = "ST_SetSRID(ST_MakePoint(r.lon::float8, r.lat::float8), 4326)"
# psql reads a backslash command to the end of its line; an empty cell, quoted or not, is NULL.
_COPY = ("\\copy floor_raw (name, address, commune, lat, lon, kinds, hours, phone) FROM '{path}'"
         " WITH (FORMAT csv, HEADER true, FORCE_NULL (name, lat, lon))")
_SCRIPT = r"""
\set ON_ERROR_STOP on
SET work_mem = '256MB';
BEGIN;
CREATE TEMP TABLE floor_raw (seq serial, name text, address text, commune text, lat text, lon text,
                             kinds text, hours text, phone text) ON COMMIT DROP;
{copy}
CREATE TEMP TABLE floor_point ON COMMIT DROP AS
SELECT seq, {point} AS geom FROM floor_raw r WHERE r.name IS NOT NULL AND r.lon IS NOT NULL;
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
CREATE TEMP TABLE floor_unit ON COMMIT DROP AS
SELECT c.code, c.name, c.label_point,
       jsonb_build_object('{lowest}', c.code, 'district', d.code, 'province', d.parent_code) AS units
FROM admin_unit c JOIN admin_unit d ON d.boundary_set = c.boundary_set AND d.code = c.parent_code
WHERE c.boundary_set = '{set_name}' AND c.level = '{lowest}';
DROP TABLE IF EXISTS {table};
CREATE TABLE {table} (LIKE feature INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO {table} (id, layer_id, source_id, geom, props, units, unit_code, approximate,
                     content_hash, source_row, valid_from_pub)
SELECT r.seq, '{layer}', lower(r.name) || '@' || u.code,
       coalesce({point}, u.label_point),
       jsonb_build_object('name', r.name, 'address', r.address, 'test_types', r.kinds, 'hours', r.hours,
                          'phone', r.phone),
       u.units, u.code, r.lon IS NULL,
       md5(concat_ws(E'\x1f', r.name, r.address, r.commune, r.lat, r.lon, r.kinds, r.hours, r.phone)),
       r.seq + 1, 1
FROM floor_raw r
LEFT JOIN floor_inside i ON i.seq = r.seq
LEFT JOIN floor_unit n ON r.lon IS NULL AND n.name = r.commune
JOIN floor_unit u ON u.code = coalesce(i.code, n.code)
WHERE r.name IS NOT NULL;
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
    return _SCRIPT.format(copy=_COPY.format(path=csv_path), layer=layer, set_name=set_name, lowest=lowest,
                          vertices=vertices, table=FLOOR_TABLE, point=_POINT, cx=cell_x("p.lon", cells),
                          cy=cell_y("p.lat", cells))
