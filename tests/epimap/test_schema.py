"""The Core tables of ``epimap.schema`` against the database the migrations build."""

from __future__ import annotations

import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import Geometry, WKBElement
from geoalchemy2.alembic_helpers import include_object as include_spatial_object
from sqlalchemy import Connection, MetaData, func, select, text

from epimap.schema import admin_unit, feature, layer, metadata, publication

SCRATCH = "schema_check"  # created inside a test's transaction, which is rolled back

# Tables of the migrated database that are not declared, and why: a layer's partition of
# ``feature`` (``feature_<layer id>``, created by a trigger when the layer is inserted) and the
# fresh table a bulk publication fills before swapping it in (``feature_fresh_<publication>``,
# only seen inside that transaction).  PostGIS's ``spatial_ref_sys`` is left out by geoalchemy2's
# ``include_object``; Alembic leaves out ``alembic_version`` itself, and temporary (staging)
# tables live in ``pg_temp_*`` schemas, which the comparison of the default schema never reads.
_STAGING = re.compile(r"feature_fresh_\d+")
# procrastinate's own tables (``procrastinate_jobs``, ``procrastinate_workers`` …), applied by
# migration 0012 from the installed procrastinate's schema: they are that library's, declared by
# it and not by ``epimap.schema``, so the comparison leaves them (and their indexes) out by name.
_JOB_QUEUE = re.compile(r"procrastinate_\w+|idx_procrastinate_\w+")


def _partitions(conn: Connection) -> set[str]:
    """Return the names of the partitions of ``feature``."""
    return set(conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'public.feature'::regclass")).scalars())


def _differences(conn: Connection, declared: MetaData) -> list:
    """Return what ``compare_metadata`` finds between the database and the declared tables."""
    partitions = _partitions(conn)

    def include_name(name, type_, parent_names):
        if name and _JOB_QUEUE.fullmatch(name):
            return False
        return type_ != "table" or not (name in partitions or _STAGING.fullmatch(name))

    context = MigrationContext.configure(conn, opts={
        "compare_type": True,
        "compare_server_default": True,
        "include_name": include_name,
        "include_object": include_spatial_object,
    })
    return compare_metadata(context, declared)


def test_migrations_build_what_the_schema_declares(connection):
    partitions = _partitions(connection)  # the demo's layers have some: the filter is exercised
    assert partitions and all(name.startswith("feature_") for name in partitions)
    assert _differences(connection, metadata) == []
    queue = set(connection.execute(text(
        "SELECT tablename FROM pg_tables WHERE tablename LIKE 'procrastinate%'")).scalars())
    assert {"procrastinate_jobs", "procrastinate_workers"} <= queue  # left out, not missing


def test_comparison_reports_a_missing_column_and_a_wrong_geometry_type(connection):
    broken = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(broken)
    legal_ref = broken.tables["publication"].c.legal_ref
    broken.tables["publication"]._columns.remove(legal_ref)  # no public API removes a column
    broken.tables["admin_unit"].c.label_point.type = Geometry("MULTIPOINT", srid=4326, spatial_index=False)

    differences = _differences(connection, broken)

    assert len(differences) == 2, differences
    removed = next(d for d in differences if isinstance(d, tuple))
    assert removed[0] == "remove_column" and removed[2] == "publication" and removed[3].name == "legal_ref"
    [modified] = next(d for d in differences if isinstance(d, list))
    assert modified[0] == "modify_type" and modified[2:4] == ("admin_unit", "label_point")
    assert modified[-1].geometry_type == "MULTIPOINT" and modified[-2].geometry_type == "POINT"


_CATALOGUE = """
SELECT c.relname, 'column', (row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum))::text,
       a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = :schema AND c.relname = ANY(:tables) AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT c.relname, 'constraint', con.conname, pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = :schema AND c.relname = ANY(:tables)
UNION ALL
SELECT c.relname, 'index', i.relname, pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = :schema AND c.relname = ANY(:tables)
UNION ALL
SELECT c.relname, 'table', c.relkind::text, coalesce(pg_get_partkeydef(c.oid), '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = :schema AND c.relname = ANY(:tables)
"""


def _catalogue(conn: Connection, schema: str) -> set[tuple[str, ...]]:
    """Return the columns, constraints, indexes and partition keys of the declared tables in ``schema``."""
    rows = conn.execute(text(_CATALOGUE), {"schema": schema, "tables": list(metadata.tables)})
    unqualify = re.compile(rf"\b(?:public|{SCRATCH})\.")
    return {tuple(unqualify.sub("", value) for value in row) for row in rows}


def test_schema_ddl_gives_the_catalogue_the_migrations_give(connection):
    """Check what ``compare_metadata`` does not: index methods and predicates, checks, key actions."""
    connection.execute(text(f"CREATE SCHEMA {SCRATCH}"))
    metadata.create_all(connection.execution_options(schema_translate_map={None: SCRATCH}), checkfirst=False)

    declared, migrated = _catalogue(connection, SCRATCH), _catalogue(connection, "public")

    assert {row[0] for row in migrated} == set(metadata.tables)
    assert (sorted(migrated - declared), sorted(declared - migrated)) == ([], [])


def test_core_tables_read_the_demo(connection):
    """Query the demo through the tables: public layers' current features, units' label points."""
    newest = select(func.max(publication.c.id)).where(publication.c.layer_id == layer.c.id).scalar_subquery()
    per_layer = connection.execute(
        select(layer.c.id, func.count(), func.max(feature.c.valid_from_pub), newest)
        .join(feature, feature.c.layer_id == layer.c.id)
        .where(layer.c.public, feature.c.valid_to_pub.is_(None))
        .group_by(layer.c.id)
    ).all()
    assert per_layer
    assert all(count > 0 and version <= last for _, count, version, last in per_layer), per_layer

    outside = connection.execute(
        select(func.count()).select_from(admin_unit)
        .where(~func.ST_Intersects(admin_unit.c.geom, admin_unit.c.label_point))
    ).scalar_one()
    point = connection.execute(select(admin_unit.c.label_point).limit(1)).scalar_one()
    assert outside == 0 and isinstance(point, WKBElement) and point.srid == 4326
