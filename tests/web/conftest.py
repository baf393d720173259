"""Fixtures of the web tests: the service over the shop world, and a signed-in browser-like client."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service_world import cheap_key_hashing, world  # noqa: F401 - fixtures (cheap_key_hashing is autouse)
from smtp_server import smtp_server  # noqa: F401 - re-exported fixture


@pytest.fixture
def client(world):  # noqa: F811 - the imported fixture
    with TestClient(world.app, follow_redirects=False) as c:
        yield c
