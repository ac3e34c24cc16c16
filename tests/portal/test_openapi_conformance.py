"""Schemathesis runs every operation of ``/openapi.json`` against the portal: it keeps to its document.

In process (WSGI) over the demo data, with schemathesis's engine (what ``schemathesis run`` runs; its
pytest ``from_fixture`` loader does not work with pytest 9.2): the document's examples, the coverage
phase (boundary values, each parameter made invalid, undeclared methods such as TRACE) and
:data:`MAX_EXAMPLES` generated requests per operation, valid and invalid, derandomised; every
built-in check (server errors, status codes, content types, headers, bodies, valid requests
accepted, invalid ones refused, ``Allow`` on a 405).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema

from portal import create_app
from tests import conftest

MAX_EXAMPLES = 25
ITEMS = "GET /ogc/collections/{layer_id}/items"
CONFIG = {
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},  # the document declares no links
    "operations": [
        # oEmbed asks for a 501 when the format is not provided (xml): the document says so.
        {"include-name": "GET /oembed",
         "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "501"]}}},
        # OpenAPI 3.0 cannot say south ≤ north, latitudes within ±90 in a bbox, an interval's A ≤ B, a
        # day that exists, or which attributes a collection has: a generated request may match the
        # document and still be a 400 (as OGC API – Features asks). The document's own examples
        # (a point bbox, intervals) must still be accepted, and every other check stays on.
        {"include-name": ITEMS, "phases": {phase: {"checks": {"positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "400", "404"]}}} for phase in ("coverage", "fuzzing")}},
    ],
}


@dataclass
class Report:
    """What a run checked and what failed."""

    operations: set[str] = field(default_factory=set)
    requests: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, event: events.EngineEvent) -> None:
        """Count a finished scenario's requests and keep its failures and errors."""
        if isinstance(event, events.ScenarioFinished):
            self.operations.add(event.recorder.label)
            self.requests += len(event.recorder.interactions)
            for checks in event.recorder.checks.values():
                self.failures += [_describe(event.recorder.label, check) for check in checks
                                  if check.status == Status.FAILURE and check.failure_info]
        elif isinstance(event, events.NonFatalError | events.FatalError):
            self.failures.append(f"error: {getattr(event, 'value', None) or getattr(event, 'exception', '')}")


def _describe(operation: str, check) -> str:
    info = check.failure_info
    return f"{operation}: {check.name}: {info.failure.title}\n{info.failure.message}\n{info.code_sample}"


def conformance(schema) -> Report:
    """Run every phase and check over a loaded schema; return what was checked and what failed."""
    report = Report()
    for event in from_schema(schema).execute():
        report.add(event)
    return report


@pytest.fixture
def api_app(connection, database_url):
    """The portal without its API rate limit: a 429 is always accepted, so it would hide every answer."""
    return conftest.testing(create_app({"bind": connection, "database_url": database_url, "basemap_url": "",
                               "api_rate_limit": ""}))


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(copy.deepcopy(CONFIG))


def test_every_operation_keeps_to_the_document(api_app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", api_app, config=_config())
    report = conformance(schema)
    # Schemathesis leaves out the operation serving the document it runs (test_ogc validates that one).
    described = {f"{method.upper()} {path}" for path, item in schema.raw_schema["paths"].items()
                 for method in item} - {"GET /openapi.json"}
    assert report.operations == described
    assert report.requests >= len(described) * MAX_EXAMPLES
    if report.failures:
        pytest.fail("\n\n".join(dict.fromkeys(report.failures)), pytrace=False)


def test_a_document_that_strays_from_the_server_fails(api_app):
    """The run has teeth: a tile zoom documented beyond the largest one, which the server refuses."""
    document = api_app.test_client().get("/openapi.json").json
    tiles = "/tiles/boundaries/{set_name}/{level}/{z}/{x}/{y}.mvt"
    zoom = next(p for p in document["paths"][tiles]["get"]["parameters"] if p["name"] == "z")
    del zoom["schema"]["maximum"]
    document["paths"] = {tiles: document["paths"][tiles]}
    schema = schemathesis.openapi.from_dict(document, config=_config())
    schema.app = api_app
    report = conformance(schema)
    assert any("positive_data_acceptance" in failure for failure in report.failures)
