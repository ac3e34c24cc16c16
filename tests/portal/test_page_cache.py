"""Map pages come from a cache keyed by URL, language and data version, with an ETag and the page's nonce."""

from __future__ import annotations

import re

from tests.ingest.builders import changed_checkpoints
from tests.ingest.helpers import run

NONCE = re.compile(r'<script nonce="([^"]+)"')


def _nonce_of(response) -> str:
    found = set(NONCE.findall(response.get_data(as_text=True)))
    assert len(found) == 1
    (nonce,) = found
    assert f"'nonce-{nonce}'" in response.headers["Content-Security-Policy"]
    return nonce


def test_a_page_is_kept_and_revalidated(client, app, monkeypatch):
    first = client.get("/map/718")
    assert first.status_code == 200 and first.headers["ETag"]
    from portal.maps import views

    def render_again(*_args):
        raise AssertionError("rendered again")

    monkeypatch.setattr(views, "_unit_html", render_again)
    again = client.get("/map/718")
    assert again.headers["ETag"] == first.headers["ETag"] and _nonce_of(again) != _nonce_of(first)
    nonce_free = again.get_data(as_text=True).replace(_nonce_of(again), "N")
    assert nonce_free == first.get_data(as_text=True).replace(_nonce_of(first), "N")
    revalidated = client.get("/map/718", headers={"If-None-Match": first.headers["ETag"]})
    assert revalidated.status_code == 304 and "Content-Security-Policy" not in revalidated.headers


def test_language_query_and_data_make_new_pages(client, connection, tmp_path):
    vi, en = client.get("/map/718"), client.get("/map/718?lang=en")
    assert vi.headers["ETag"] != en.headers["ETag"] and 'lang="en"' in en.get_data(as_text=True)
    other = client.get("/map/718?date=2021-08-16")
    assert other.status_code == 200
    assert other.headers["ETag"] != vi.headers["ETag"]
    run(connection, changed_checkpoints(tmp_path / "chot.csv"), "checkpoints")  # a new publication
    after = client.get("/map/718")
    assert after.headers["ETag"] != vi.headers["ETag"] and _nonce_of(after) != _nonce_of(vi)
    assert "/tiles/checkpoints/" in after.get_data(as_text=True)


def test_kept_pages_expire(client, app, monkeypatch):
    from portal.maps import page_cache, views

    client.get("/map/718")
    rendered = []
    real = views._unit_html
    monkeypatch.setattr(views, "_unit_html", lambda *a: rendered.append(a) or real(*a))
    client.get("/map/718")
    assert rendered == []
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: 10**9)
    client.get("/map/718")
    assert len(rendered) == 1
