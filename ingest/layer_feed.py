"""Ingest a feed into any layer by its kind: features through the pipeline, figures as statistics."""

from __future__ import annotations

from pathlib import Path

from epimap.db import Bind
from ingest.pipeline import IngestOptions, ingest_feed, unknown_layer
from ingest.report import Report
from layers.catalog import Catalog


def ingest_layer_feed(bind: Bind, path: Path, layer_id: str, catalog: Catalog, options: IngestOptions,
                      metric: str | None = None) -> Report:
    """Read, validate and (unless a dry run) publish a feed as the layer ``layer_id``.

    Both kinds publish a publication of the layer; ``options.force`` and ``progress`` concern
    features only (a statistics feed never removes values, and is small).
    """
    layer = catalog.layer(layer_id)
    if layer is None:
        raise unknown_layer(layer_id, catalog)
    if layer.kind.has_features:
        return ingest_feed(bind, path, layer.id, catalog, options)
    from ingest.stats import StatsOptions, ingest_stats_feed  # only statistics need the wide/long reader

    stats = StatsOptions(set_name=options.set_name, scope_code=options.scope_code, metric=metric,
                         sheet=options.sheet, dry_run=options.dry_run,
                         source_name=options.source_name or Path(path).name, max_bytes=options.max_bytes,
                         author=options.author,
                         note=options.note, legal_ref=options.legal_ref, inspect=options.inspect,
                         preview_base=options.preview_base)
    return ingest_stats_feed(bind, Path(path), catalog, stats)
