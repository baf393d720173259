"""Schemathesis over the OpenAPI document: no 5xx, and every error is a JSON problem body (SPEC §5).

A bounded number of generated cases per operation (valid and invalid), sent through the ASGI app
with an admin key (every permission) bound to tenant t1, over the seeded shop world.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from service_world import cheap_key_hashing, world  # noqa: F401 - fixtures (cheap_key_hashing is autouse)
from smtp_server import smtp_server  # noqa: F401 - fixture

EXAMPLES_PER_OPERATION = 10


def problem_body_on_errors(ctx, response, case) -> None:
    """Every 4xx/5xx answer is application/problem+json with type, title, status and detail."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/problem+json"), \
        f"{case.operation.label}: {response.status_code} answered as {content_type}"
    body = json.loads(response.content)
    assert body["status"] == response.status_code and body["title"] and body["detail"]
    return None


@pytest.fixture
def api_schema(world):  # noqa: F811
    return schemathesis.openapi.from_asgi("/openapi.json", world.app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_never_fails_and_answers_problems(case, world):  # noqa: F811
    headers = {"Authorization": f"Bearer {world.key('admin', 't1')}"}
    with TestClient(world.app, raise_server_exceptions=False):
        case.call_and_validate(headers=headers, checks=[not_a_server_error, problem_body_on_errors])
