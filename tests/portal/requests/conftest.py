"""Fixtures of the citizens' doors tests: cheap argon2 for the officials who work the requests."""

from __future__ import annotations

import pytest

from officials import accounts
from tests.portal.console.helpers import FAST_HASHER


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    """Real argon2id hashes, with test-sized cost."""
    monkeypatch.setattr(accounts, "_hasher", FAST_HASHER)
