"""Fixtures of the request tests: a seeded shop database, an engine over it, a clock, SMTP."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from requests_world import make_tutela, seed  # noqa: E402

from smtp_server import smtp_server  # noqa: E402, F401 - re-exported fixture


class Clock:
    """A settable clock returning naive UTC datetimes."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 9, 0))


@pytest.fixture
def shop(db_url, store_url, tmp_path, monkeypatch, smtp_server):  # noqa: F811
    """An engine over a freshly seeded shop database (parametrized over the three databases)."""
    monkeypatch.setenv("TUTELA_EXPORT_DIR", str(tmp_path / "exports"))
    seed(db_url)
    tutela = make_tutela(db_url, store_url, tmp_path, smtp_port=smtp_server.port)
    yield tutela
    tutela.close()


@pytest.fixture
def sqlite_shop(store_url, tmp_path, monkeypatch, smtp_server):  # noqa: F811
    """The same engine on SQLite only (for behaviour that does not depend on the database)."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    monkeypatch.setenv("TUTELA_EXPORT_DIR", str(tmp_path / "exports"))
    seed(url)
    tutela = make_tutela(url, store_url, tmp_path, smtp_port=smtp_server.port)
    yield tutela
    tutela.close()
