"""Fixtures of the consent tests: a Tutela on a freshly migrated store of each database kind."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from consent_helpers import make_tutela  # noqa: E402


@pytest.fixture
def tutela(db_url):
    """A Tutela whose engine store is a fresh database of each kind (sqlite, postgresql, mariadb)."""
    t = make_tutela(db_url)
    yield t
    t.close()


@pytest.fixture
def sqlite_tutela(store_url):
    """A Tutela on a fresh SQLite store, for behaviour that does not depend on the database."""
    t = make_tutela(store_url)
    yield t
    t.close()
