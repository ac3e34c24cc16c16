"""HTTP policy per route family: the CORS and Cache-Control of a representative URL of each.

Each case is requested twice: through the portal as it is (the headers must be the family's, or
what the view stated through ``portal.http_policy``), and with the policy's ``after_request``
taken out (then no view may have written a CORS or Cache-Control header of its own).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text

from officials import accounts
from portal import http_policy
from portal.assets import vendor_url
from tests.portal.console.helpers import FAST_HASHER, make_account, sign_in
from tests.portal.test_tiles import tile_of

PORTAL = Path(__file__).resolve().parents[2] / "portal"
X, Y = tile_of(106.65, 10.98, 9)
ORIGIN = {"Origin": "https://bao.example.vn"}
PREFLIGHT = {**ORIGIN, "Access-Control-Request-Method": "GET"}
YEAR = "public, max-age=31536000, immutable"
PRIVATE = "private, no-store"
EXPOSED = "Content-Disposition, ETag, Retry-After"
# Flask's file sender writes Cache-Control itself (SEND_FILE_MAX_AGE_DEFAULT, portal/__init__.py).
FILES = {"/static/"}


@dataclass(frozen=True)
class Case:
    """One request and the headers its answer must carry."""

    family: str
    url: str  # {pub} is the current publication of testing_sites
    status: int
    cors: bool
    cache: str | None
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    vary: tuple[str, ...] = ()
    signed_in: bool = False


CASES = [
    Case("tiles", f"/tiles/testing_sites/{{pub}}/9/{X}/{Y}.mvt", 200, True, YEAR),
    Case("tiles", f"/tiles/boundaries/vn2021/district/9/{X}/{Y}.mvt", 200, True, "public, max-age=3600"),
    Case("tiles", "/tiles/testing_sites.json", 200, True, "public, max-age=15"),
    Case("tiles", "/tiles/boundaries/vn2021/district/23/0/0.mvt", 400, True, None),
    Case("tiles", "/tiles/testing_sites.json", 200, True, None, method="OPTIONS", headers=PREFLIGHT),
    Case("tiles", "/tiles/home_isolation.json", 404, False, PRIVATE, vary=("Cookie", "Authorization")),
    Case("tiles", "/tiles/home_isolation.json", 200, False, PRIVATE, vary=("Cookie", "Authorization"),
         signed_in=True, headers=ORIGIN),
    Case("downloads", "/download/home_isolation.csv", 404, False, PRIVATE, vary=("Cookie", "Authorization")),
    Case("API", "/api/units?q=Thu", 200, True, "public, max-age=300"),
    Case("API", "/api/nearby?lat=10.98&lon=106.65&layer=testing_sites", 200, True, "public, max-age=60"),
    Case("API", "/api/units", 400, True, None),
    Case("API", "/api/units", 200, True, None, method="OPTIONS", headers=PREFLIGHT),
    Case("feed API", "/api/layers/testing_sites/feeds", 401, False, "no-store", method="POST",
         headers=ORIGIN),
    Case("downloads", "/download/testing_sites.csv", 200, True, "public, max-age=60"),
    Case("downloads", "/download/testing_sites.csv?pub={pub}", 200, True, "public, max-age=86400"),
    Case("downloads", "/download/nope.csv", 404, True, None),
    Case("map images", "/snapshot/718.png", 200, True, "public, max-age=300"),
    Case("oEmbed", "/oembed?url=http://localhost/map/718", 200, True, "public, max-age=60"),
    Case("embeds", "/embed/718", 200, False, "public, max-age=60"),
    Case("embeds", "/embed/718?layers=testing_sites&pub=testing_sites:{pub}&date=2021-08-10", 200, False,
         "public, max-age=86400"),
    Case("OGC API", "/ogc/collections/testing_sites/items?limit=2", 200, True, "public, max-age=15",
         vary=("Accept",)),
    Case("OGC API", "/ogc/collections/nope", 404, True, None),
    Case("OpenAPI", "/openapi.json", 200, True, "public, max-age=300"),
    Case("Open311", "/open311/v2/services.json", 200, True, "public, max-age=60"),
    Case("Open311", "/open311/v2/requests.xml", 200, True, "public, max-age=15"),
    Case("Open311", "/open311/v2/requests/BD-2222-00.json", 404, True, None),
    Case("Open311", "/open311/v2/requests.json?api_key=epm_x", 403, False, PRIVATE,
         vary=("Cookie", "Authorization")),
    Case("Open311", "/open311/v2/requests.json", 403, False, None, method="POST", headers=ORIGIN),
    Case("vendor assets", vendor_url("leaflet", "dist/leaflet.js"), 200, False, YEAR),
    Case("pages", "/static/epimap.css", 200, False, "public, max-age=3600"),
    Case("pages", "/map/718", 200, False, None),
    Case("pages", "/healthz", 200, False, None),
    Case("console", "/quan-tri/dang-nhap", 200, False, "no-store"),
    Case("console", "/quan-tri/", 302, False, "no-store"),
    Case("console", "/quan-tri/", 200, False, "no-store", signed_in=True),
]


def _id(case: Case) -> str:
    return f"{case.family}:{case.method}:{case.url}:{case.status}" + (":signed-in" if case.signed_in else "")


@pytest.fixture
def reader(app, connection, monkeypatch):
    """Return how to send a case: anonymous, or signed in as a viewer of district 718."""
    monkeypatch.setattr(accounts, "_hasher", FAST_HASHER)
    pub = connection.execute(text("SELECT max(id) FROM publication WHERE layer_id = :layer"),
                             {"layer": "testing_sites"}).scalar()
    email = "viewer.718@soyte.binhduong.gov.vn"
    made = []

    def send(case: Case):
        client = app.test_client()
        if case.signed_in:
            if not made:
                made.append(make_account(connection, email, "viewer", "718"))
            sign_in(client, email)
        return client.open(case.url.replace("{pub}", str(pub)), method=case.method, headers=case.headers)

    return send


def _cors_headers(response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items()
            if name.lower().startswith("access-control")}


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_each_family_answers_with_its_policy(reader, case):
    response = reader(case)
    assert response.status_code == case.status
    assert http_policy.family_of(response.request.path).name == case.family
    assert response.headers.get("Cache-Control") == case.cache
    assert set(case.vary) <= set(response.vary)
    expected = {}
    if case.cors:
        expected = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSED}
    if case.cors and case.method == "OPTIONS":
        expected.update({"Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
                         "Access-Control-Allow-Headers": http_policy.ALLOW_HEADERS,
                         "Access-Control-Max-Age": "86400"})
    assert _cors_headers(response) == expected


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_views_write_no_cors_or_cache_header_of_their_own(app, reader, case):
    app.after_request_funcs[None].remove(http_policy.set_headers)
    response = reader(case)
    assert response.status_code == case.status
    assert _cors_headers(response) == {}
    if response.request.path.startswith(tuple(FILES)):  # the file sender's default, no max_age of the view's
        assert response.headers["Cache-Control"] == "public, max-age=3600"
    else:
        assert "Cache-Control" not in response.headers


def test_every_family_has_a_case():
    assert {family.name for family in http_policy.FAMILIES} == {case.family for case in CASES}


def test_a_stated_lifetime_is_not_given_to_errors(reader):
    # The tile view states a year before it finds the tile missing: the 404 must not be kept.
    response = reader(Case("tiles", f"/tiles/testing_sites/999999/9/{X}/{Y}.mvt", 404, True, None))
    assert response.status_code == 404 and "Cache-Control" not in response.headers


def test_conditional_answers_keep_the_policy(reader):
    case = CASES[0]
    first = reader(case)
    again = reader(Case(case.family, case.url, 304, True, YEAR,
                        headers={"If-None-Match": first.headers["ETag"]}))
    assert again.status_code == 304 and again.headers["Cache-Control"] == YEAR


def _header_writes(path: Path) -> list[str]:
    """Return the lines of a module that write CORS or Cache-Control headers themselves."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("cache_control", "access_control_allow_origin"):
            found.append(f"{path.name}:{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                node.value.lower() == "cache-control" or node.value.lower().startswith("access-control-")):
            found.append(f"{path.name}:{node.lineno}: {node.value!r}")
        elif isinstance(node, ast.Call) and any(k.arg == "max_age" for k in node.keywords) and \
                getattr(node.func, "id", getattr(node.func, "attr", "")).startswith("send_"):
            found.append(f"{path.name}:{node.lineno}: a file sent with its own max_age")
    return found


def test_only_the_http_policy_writes_cors_and_cache_headers():
    writes = [line for path in sorted(PORTAL.rglob("*.py")) if path.name != "http_policy.py"
              for line in _header_writes(path)]
    assert writes == []
