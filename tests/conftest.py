"""Shared fixtures: throwaway databases on SQLite, PostgreSQL and MariaDB, and a policy helper.

A test that needs a server skips with the reason when the server is down, except under CI=true,
where it fails: CI must prove every database.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dbs import KINDS, fresh_database  # noqa: E402
from support import IN_CI, SAMPLE_POLICY, require_server  # noqa: E402,F401  (re-exported for fixtures)


@pytest.fixture(params=KINDS)
def db_kind(request) -> str:
    """Parametrizes a test over sqlite, postgresql and mariadb."""
    require_server(request.param)
    return request.param


@pytest.fixture
def db_url(db_kind: str, tmp_path: Path):
    """URL of a fresh, empty database of the parametrized kind (dropped afterwards)."""
    with fresh_database(db_kind, tmp_path) as url:
        yield url


@pytest.fixture
def pg_url(tmp_path: Path):
    """URL of a fresh PostgreSQL database (for PostgreSQL-only behaviour: locks, triggers)."""
    require_server("postgresql")
    with fresh_database("postgresql", tmp_path) as url:
        yield url


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A fresh SQLite engine store."""
    return f"sqlite:///{tmp_path / 'store.db'}"

