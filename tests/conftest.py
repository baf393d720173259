"""Shared fixtures: throwaway databases on SQLite, PostgreSQL and MariaDB, and a policy helper.

A test that needs a server skips with the reason when the server is down, except under CI=true,
where it fails: CI must prove every database.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dbs import KINDS, fresh_database, server_available  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_availability: dict[str, str | None] = {}


def require_server(kind: str) -> None:
    """Skip (or, under CI, fail) when the database server of ``kind`` is unreachable."""
    if kind not in _availability:
        _availability[kind] = server_available(kind)
    reason = _availability[kind]
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)


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


SAMPLE_POLICY = Path(__file__).parent / "policy" / "sample.yaml"
