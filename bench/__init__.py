"""Benchmarks: ``python -m bench.ingest`` compares ``epimap ingest`` with ogr2ogr."""
