"""Versioned layer storage: catalogue rows, publications, current and past features."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Select, func, select, text
from sqlalchemy.orm import Session

from boundaries.queries import Unit
from epimap import schema
from layers.catalog import Catalog, Layer


@dataclass(frozen=True)
class Publication:
    """One publication of a layer."""

    id: int
    layer_id: str
    created_at: datetime
    author: str
    action: str
    source_name: str | None
    source_sha256: str | None
    boundary_set: str
    scope_code: str
    added: int
    changed: int
    removed: int
    unchanged: int
    rejected: int
    note: str | None
    legal_ref: str | None
    restores_publication: int | None
    number: int = 0  # the layer's n-th publication (#1, #2 …), as officials count them



def sync_catalog(session: Session, catalog: Catalog) -> None:
    """Mirror the catalogue's layers into the ``layer`` table."""
    for layer in catalog.layers.values():
        session.execute(
            text(
                "INSERT INTO layer (id, title_vi, title_en, geometry_type, public, definition)"
                " VALUES (:id, :vi, :en, :g, :p, CAST(:d AS jsonb)) ON CONFLICT (id) DO UPDATE SET"
                " title_vi = EXCLUDED.title_vi, title_en = EXCLUDED.title_en,"
                " geometry_type = EXCLUDED.geometry_type, public = EXCLUDED.public,"
                " definition = EXCLUDED.definition"
            ),
            {"id": layer.id, "vi": layer.title_vi, "en": layer.title_en, "g": layer.geometry,
             "p": layer.public, "d": json.dumps({"attributes": [a.name for a in layer.attributes],
                                                  "public_attributes": list(layer.public_attributes)})},
        )


def _publications(layer: Layer) -> Select:
    """Select a layer's publications as :class:`Publication` fields, from the declared schema."""
    table = schema.publication
    earlier = table.alias("earlier")
    number = (select(func.count()).where(earlier.c.layer_id == table.c.layer_id, earlier.c.id <= table.c.id)
              .scalar_subquery().label("number"))
    columns = [table.c[name] for name in Publication.__dataclass_fields__ if name != "number"]
    return select(*columns, number).where(table.c.layer_id == layer.id)


def publication_numbers(session: Session, ids: list[int | None]) -> dict[int, int]:
    """Return the number within its layer (#1, #2 …) of each publication id given."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(text(
        "SELECT p.id, (SELECT count(*) FROM publication q WHERE q.layer_id = p.layer_id AND q.id <= p.id)"
        " FROM publication p WHERE p.id = ANY(:ids)"), {"ids": wanted})
    return {pub: number for pub, number in rows}


def history(session: Session, layer: Layer, limit: int = 100) -> list[Publication]:
    """Return a layer's publications, newest first."""
    rows = session.execute(_publications(layer).order_by(schema.publication.c.id.desc()).limit(limit))
    return [Publication(**r) for r in rows.mappings()]


def get_publication(session: Session, layer: Layer, publication_id: int) -> Publication | None:
    """Return one publication of a layer."""
    found = _publications(layer).where(schema.publication.c.id == publication_id)
    row = session.execute(found).mappings().first()
    return Publication(**row) if row else None


def current_publication(session: Session, layer: Layer) -> Publication | None:
    """Return the layer's latest publication."""
    found = history(session, layer, limit=1)
    return found[0] if found else None


def live_at(as_of: int | None, alias: str = "f") -> str:
    """Return the SQL condition selecting feature rows alive at a publication (None: now).

    >>> live_at(None)
    'f.valid_to_pub IS NULL'
    >>> live_at(7)
    'f.valid_from_pub <= :as_of AND (f.valid_to_pub IS NULL OR f.valid_to_pub > :as_of)'
    """
    if as_of is None:
        return f"{alias}.valid_to_pub IS NULL"
    return (f"{alias}.valid_from_pub <= :as_of AND ({alias}.valid_to_pub IS NULL"
            f" OR {alias}.valid_to_pub > :as_of)")


def within_condition(alias: str = "f") -> str:
    """Return the SQL condition (to AND) keeping features inside the unit ``:within_*`` names.

    A reader limited to a unit (an official reading a restricted layer) sees the features located
    in that unit or below it, in its boundary set (codes of different sets may coincide).
    """
    return (f" AND {alias}.units ->> :within_level = :within_code AND EXISTS (SELECT 1 FROM"  # noqa: S608
            f" publication wp WHERE wp.id = {alias}.valid_from_pub AND wp.boundary_set = :within_set)")


def within(unit: Unit | None, alias: str = "f") -> tuple[str, dict[str, str]]:
    """Return the condition of :func:`within_condition` and its parameters ('' and none without a unit).

    >>> within(None)
    ('', {})
    """
    if unit is None:
        return "", {}
    return within_condition(alias), {"within_level": unit.level, "within_code": unit.code,
                                     "within_set": unit.boundary_set}


def layers_with_features(db: Session | Connection, layer_ids: list[str]) -> set[str]:
    """Return which of the layers have at least one current feature."""
    rows = db.execute(text(
        "SELECT l FROM unnest(CAST(:ids AS text[])) AS l"
        " WHERE EXISTS (SELECT 1 FROM feature f WHERE f.layer_id = l AND f.valid_to_pub IS NULL)"),
        {"ids": layer_ids})
    return {row[0] for row in rows}


def in_force(layer: Layer, day: date | None, alias: str = "f") -> tuple[str, dict[str, str]]:
    """Return the condition (to AND) keeping features of a layer with a period in force on ``day``.

    Layers without a period (see :attr:`Layer.has_period`), or no day, keep every feature.
    """
    if day is None or not layer.has_period:
        return "", {}
    return (f" AND {alias}.props ->> 'valid_from' <= :in_force_day AND ({alias}.props ->> 'valid_to' IS NULL"
            f" OR {alias}.props ->> 'valid_to' >= :in_force_day)"), {"in_force_day": day.isoformat()}


def features(session: Session, layer: Layer, *, as_of: int | None = None,
             unit: tuple[str, str] | None = None, public_only: bool = True,
             limit: int | None = None, reader: Unit | None = None, day: date | None = None) -> list[dict]:
    """Return a layer's features now or at a publication, optionally inside a unit (level, code).

    ``reader`` limits them further to a reader's unit (see :func:`within`); ``day`` keeps, of a layer
    with a period (lockdown zones), the features in force that day (see :func:`in_force`).
    """
    limited, params = within(reader)
    current, day_params = in_force(layer, day)
    where = [live_at(as_of) + limited + current, "f.layer_id = :l"]
    params.update(l=layer.id, as_of=as_of, **day_params)
    if unit:
        where.append("f.units ->> :unit_level = :unit_code")
        params.update(unit_level=unit[0], unit_code=unit[1])
    rows = session.execute(
        text("SELECT f.source_id, f.props, f.units, f.approximate, f.valid_from_pub,"  # noqa: S608
             " ST_AsGeoJSON(f.geom, 6) AS geometry FROM feature f WHERE "  # noqa: S608
             + " AND ".join(where) + " ORDER BY f.props ->> 'name', f.source_id LIMIT :limit"),
        {**params, "limit": limit},
    ).mappings()
    allowed = set(layer.public_attributes) if public_only else None
    return [{"source_id": r["source_id"], "approximate": r["approximate"], "units": r["units"],
             "publication": r["valid_from_pub"], "geometry": json.loads(r["geometry"]),
             "props": {k: v for k, v in r["props"].items() if allowed is None or k in allowed}}
            for r in rows]
