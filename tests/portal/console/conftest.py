"""Console fixtures: an app whose uploads go to a temporary folder, cheap argon2, the three places."""

from __future__ import annotations

import pytest

from officials import accounts
from portal import create_app
from tests.conftest import testing
from tests.jobs import with_worker
from tests.portal.console.helpers import FAST_HASHER, places


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    """Real argon2id hashes, with test-sized cost."""
    monkeypatch.setattr(accounts, "_hasher", FAST_HASHER)


@pytest.fixture
def console_app(connection, database_url, tmp_path):
    return with_worker(testing(create_app(
        {
            "bind": connection,
            "database_url": database_url,
            "basemap_url": "",
            "upload_dir": str(tmp_path / "uploads"),
            "api_rate_limit": "",
        }
    )))


@pytest.fixture
def console(console_app):
    return console_app.test_client()


@pytest.fixture
def spots(connection):
    return places(connection)
