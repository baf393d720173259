"""Fixtures of the API tests: a service over the shop world on SQLite (or every database)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service_world import cheap_key_hashing, world  # noqa: F401 - fixtures (cheap_key_hashing is autouse)
from smtp_server import smtp_server  # noqa: F401 - re-exported fixture


@pytest.fixture
def client(world):  # noqa: F811 - the imported fixture
    with TestClient(world.app) as c:
        yield c
