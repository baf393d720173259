"""Fixtures of the API tests: a service over the shop world on SQLite (or every database)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service_world import build_world, cheap_key_hashing  # noqa: F401 - autouse fixture
from smtp_server import smtp_server  # noqa: F401 - re-exported fixture


@pytest.fixture
def world(store_url, tmp_path, monkeypatch, smtp_server):  # noqa: F811
    """The service on SQLite (HTTP behaviour does not depend on the database)."""
    monkeypatch.setenv("TUTELA_EXPORT_DIR", str(tmp_path / "exports"))
    built = build_world(f"sqlite:///{tmp_path / 'shop.db'}", store_url, tmp_path, smtp_server.port)
    yield built
    built.tutela.close()


@pytest.fixture
def client(world):
    with TestClient(world.app) as c:
        yield c
