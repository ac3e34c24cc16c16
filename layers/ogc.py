"""SQL of the OGC API – Features endpoints: composable clauses, PostGIS builds the GeoJSON.

Every value is a bound parameter; the only identifiers are this module's own (table and column
names), and the attribute names that reach the SQL are bound too, taken from the catalogue.

Time travel: a feature version lives from the publication that wrote it until the publication
that replaced or removed it.  ``until`` (a time) selects the versions alive at the layer's latest
publication at or before that time (no publication yet: nothing); ``since`` keeps only the
versions whose own publication is at or after that time.  So ``datetime=T`` (an instant) is the
layer as it was at T, ``../T`` the same, ``A/B`` the layer as it was at B restricted to the
features published (added or changed) from A on, and ``A/..`` the current features published
from A on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.orm import Session

from layers.catalog import Layer

MAX_LIMIT = 10_000
PRECISION = 6  # decimal places of coordinates (about 0.1 m)


@dataclass(frozen=True)
class Clause:
    """A piece of a WHERE clause on ``feature f`` and the parameters it binds."""

    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)


def in_layer(layer: Layer) -> Clause:
    """Rows of one catalogue layer."""
    return Clause("f.layer_id = :layer", {"layer": layer.id})


def alive(until: datetime | None) -> Clause:
    """Versions current now (``until`` None) or alive at the last publication at or before ``until``."""
    if until is None:
        return Clause("f.valid_to_pub IS NULL")
    as_of = "(SELECT max(p.id) FROM publication p WHERE p.layer_id = :layer AND p.created_at <= :until)"
    return Clause(f"f.valid_from_pub <= {as_of} AND (f.valid_to_pub IS NULL OR f.valid_to_pub > {as_of})",
                  {"until": until})


def published_since(since: datetime) -> Clause:
    """Versions whose own publication happened at or after ``since``."""
    return Clause("EXISTS (SELECT 1 FROM publication p WHERE p.id = f.valid_from_pub"
                  " AND p.created_at >= :since)", {"since": since})


def in_bbox(west: float, south: float, east: float, north: float) -> Clause:
    """Features intersecting a WGS 84 box; ``west > east`` crosses the antimeridian."""
    params = {"bbox_w": west, "bbox_s": south, "bbox_e": east, "bbox_n": north}
    if west <= east:
        return Clause("ST_Intersects(f.geom, ST_MakeEnvelope(:bbox_w, :bbox_s, :bbox_e, :bbox_n, 4326))",
                      params)
    return Clause("(ST_Intersects(f.geom, ST_MakeEnvelope(:bbox_w, :bbox_s, 180, :bbox_n, 4326))"
                  " OR ST_Intersects(f.geom, ST_MakeEnvelope(-180, :bbox_s, :bbox_e, :bbox_n, 4326)))",
                  params)


def property_equals(index: int, layer: Layer, name: str, value: str) -> Clause:
    """Features whose public attribute ``name`` has the text ``value``."""
    if name not in layer.public_attributes:
        raise ValueError(f"{name!r} is not a public attribute of {layer.id}")
    return Clause(f"f.props ->> CAST(:prop_{index} AS text) = :value_{index}",
                  {f"prop_{index}": name, f"value_{index}": value})


def with_id(source_id: str) -> Clause:
    """One feature by its source id."""
    return Clause("f.source_id = :source_id", {"source_id": source_id})


def combine(clauses: Iterable[Clause]) -> Clause:
    """AND clauses together, merging their parameters (names must not collide)."""
    sql, params = [], {}
    for clause in clauses:
        clash = params.keys() & clause.params.keys()
        if clash:
            raise ValueError(f"parameters bound twice: {sorted(clash)}")
        sql.append(clause.sql)
        params.update(clause.params)
    return Clause(" AND ".join(sql) or "true", params)


def _feature_json(layer: Layer) -> Clause:
    """The GeoJSON Feature of a row ``q``: id, geometry and the public attributes in catalogue order."""
    names = layer.public_attributes
    pairs = ", ".join(f"CAST(:attr_{i} AS text), q.props -> CAST(:attr_{i} AS text)"
                      for i in range(len(names)))
    return Clause(
        "json_build_object('type', 'Feature', 'id', q.source_id,"
        f" 'geometry', ST_AsGeoJSON(q.geom, {PRECISION})::json,"
        f" 'properties', json_build_object({pairs}))",
        {f"attr_{i}": name for i, name in enumerate(names)})


@dataclass(frozen=True)
class ItemQuery:
    """What ``/items`` asks for."""

    layer: Layer
    bbox: tuple[float, float, float, float] | None = None
    since: datetime | None = None
    until: datetime | None = None
    properties: tuple[tuple[str, str], ...] = ()
    limit: int = 10
    offset: int = 0

    def where(self) -> Clause:
        """Return the query's filter as one clause."""
        clauses = [in_layer(self.layer), alive(self.until)]
        if self.bbox is not None:
            clauses.append(in_bbox(*self.bbox))
        if self.since is not None:
            clauses.append(published_since(self.since))
        clauses += [property_equals(i, self.layer, name, value)
                    for i, (name, value) in enumerate(self.properties)]
        return combine(clauses)


@dataclass(frozen=True)
class Page:
    """One page of features: how many match in all and the features as a JSON array (text)."""

    matched: int
    returned: int
    features: str


def items_statement(query: ItemQuery) -> tuple[str, dict[str, Any]]:
    """Return the one statement of a page of items and its parameters (benchmarks render it too).

    With a bbox the matching rows are read once: a window counts them while the page is sorted
    out of them (reading each row's heap page twice costs more than the sort); ``matched`` is NULL
    when the page is empty, see ``count_statement``.  Without one, the page walks the id index
    and stops early, and the count is its own scan.
    """
    where = query.where()
    feature = _feature_json(query.layer)
    aggregate = f"coalesce(json_agg({feature.sql} ORDER BY q.source_id), '[]'::json)::text AS features"
    page = "ORDER BY f.source_id LIMIT :limit OFFSET :offset"
    # The clauses' SQL is this module's own; every value is bound.
    if query.bbox is not None:
        sql = (
            f"SELECT max(q.matched) AS matched, count(*) AS returned, {aggregate} FROM"  # noqa: S608
            f" (SELECT f.source_id, f.props, f.geom, count(*) OVER () AS matched FROM feature f"
            f" WHERE {where.sql} {page}) q"
        )
    else:
        sql = (
            f"SELECT (SELECT count(*) FROM feature f WHERE {where.sql}) AS matched,"  # noqa: S608
            f" page.returned, page.features FROM (SELECT count(*) AS returned, {aggregate}"
            f" FROM (SELECT f.source_id, f.props, f.geom FROM feature f WHERE {where.sql} {page}) q) page"
        )
    params = {**where.params, **feature.params, "limit": min(query.limit, MAX_LIMIT),
              "offset": query.offset}
    return sql, params


def count_statement(query: ItemQuery) -> tuple[str, dict[str, Any]]:
    """Return the statement counting every match of a query."""
    where = query.where()
    return f"SELECT count(*) FROM feature f WHERE {where.sql}", dict(where.params)  # noqa: S608


@lru_cache(maxsize=256)
def _statement(sql: str) -> TextClause:
    """Parse a statement once: a query's SQL depends only on which clauses it has, not on values."""
    return text(sql)


def items(session: Session | Connection, query: ItemQuery) -> Page:
    """Run a page of items in one statement (two for an empty page past the end of a bbox query)."""
    sql, params = items_statement(query)
    row = session.execute(_statement(sql), params).one()
    matched = row.matched
    if matched is None:  # an empty page of a bbox query: nothing to count the matches on
        if query.offset == 0:
            matched = 0
        else:
            sql, params = count_statement(query)
            matched = session.execute(_statement(sql), params).scalar_one()
    return Page(matched=matched, returned=row.returned, features=row.features)


def item(session: Session | Connection, layer: Layer, source_id: str) -> str | None:
    """Return one current feature as GeoJSON text, or None."""
    where = combine([in_layer(layer), alive(None), with_id(source_id)])
    feature = _feature_json(layer)
    row = session.execute(text(
        f"SELECT {feature.sql}::text AS feature FROM (SELECT f.source_id, f.props, f.geom"  # noqa: S608
        f" FROM feature f WHERE {where.sql}) q"), {**where.params, **feature.params}).first()
    return row.feature if row else None


@dataclass(frozen=True)
class Extent:
    """A layer's current bounding box (None when empty) and its publications' time span."""

    bbox: tuple[float, float, float, float] | None
    first_published: datetime | None
    last_published: datetime | None


def extents(session: Session | Connection, layers: Iterable[Layer]) -> dict[str, Extent]:
    """Return the extent of each layer's current publication, in one statement."""
    ids = [layer.id for layer in layers]
    rows = session.execute(text(
        "SELECT l.id, ST_XMin(b.e) AS w, ST_YMin(b.e) AS s, ST_XMax(b.e) AS e, ST_YMax(b.e) AS n,"
        " t.first, t.last FROM unnest(CAST(:ids AS text[])) AS l(id)"
        " LEFT JOIN LATERAL (SELECT ST_Extent(f.geom)::geometry AS e FROM feature f"
        "   WHERE f.layer_id = l.id AND f.valid_to_pub IS NULL) b ON true"
        " LEFT JOIN LATERAL (SELECT min(p.created_at) AS first, max(p.created_at) AS last"
        "   FROM publication p WHERE p.layer_id = l.id) t ON true"), {"ids": ids}).all()
    return {r.id: Extent((r.w, r.s, r.e, r.n) if r.w is not None else None, r.first, r.last) for r in rows}
