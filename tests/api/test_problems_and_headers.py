"""Every error is an RFC 7807 problem body; every response carries the security headers;
oversized bodies are refused; no personal value is echoed back."""

from __future__ import annotations

import pytest

from service_world import ALICE
from tutela.api.middleware import CONTENT_SECURITY_POLICY


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_missing_key_is_401_problem_with_bearer_challenge(client):
    response = client.get("/api/v1/requests")
    _is_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("key", ["nonsense", "tk_000000000000_" + "A" * 43])
def test_forged_key_is_401(client, key):
    _is_problem(client.get("/api/v1/requests", headers={"Authorization": f"Bearer {key}"}), 401)


def test_unknown_route_is_404_problem(client, world):
    _is_problem(client.get("/api/v1/nothing-here", headers=world.auth("admin")), 404)


def test_validation_error_names_the_field_but_not_the_value(client, world):
    secret_value = ALICE + "x" * 400  # too long: refused, and never echoed
    response = client.post("/api/v1/requests", headers=world.auth("dpo"),
                           json={"type": "access", "identities": [{"kind": "email", "value": secret_value}]})
    body = _is_problem(response, 422)
    assert ALICE not in response.text
    assert any("value" in err["loc"] for err in body["errors"])


def test_service_error_maps_to_its_status(client, world):
    response = client.post("/api/v1/requests", headers=world.auth("dpo", "t1"),
                           json={"type": "access", "identities": [{"kind": "email", "value": "not-an-email"}]})
    _is_problem(response, 422)
    assert "not-an-email" not in response.text


def test_oversized_body_is_413_and_nothing_is_created(client, world):
    response = client.post("/api/v1/requests", headers=world.auth("dpo", "t1"), content=b"{" + b" " * 1_100_000)
    _is_problem(response, 413)
    assert client.get("/api/v1/requests", headers=world.auth("dpo")).json() == []


def test_security_headers_on_every_kind_of_response(client, world):
    for response in (client.get("/api/v1/policy", headers=world.auth("auditor")),
                     client.get("/api/v1/policy"),
                     client.get("/dashboard/login"),
                     client.get("/static/htmx.min.js")):
        headers = response.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in headers  # plain HTTP: HSTS only under TLS
        assert "server" not in headers


def test_policy_endpoint_hides_where_data_lives(client, world):
    body = client.get("/api/v1/policy", headers=world.auth("auditor")).json()
    assert body["controller"]["name"] == "Shop Ltd"
    assert "engine" not in body
    assert all("url" not in system for system in body["systems"].values())
    assert "sqlite" not in str(body)


@pytest.mark.parametrize("fmt,media", [("md", "text/markdown"), ("csv", "text/csv"), ("json", "application/json"),
                                       ("html", "text/html")])
def test_art30_record_in_every_format(client, world, fmt, media):
    response = client.get(f"/api/v1/record?format={fmt}", headers=world.auth("auditor"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    assert "Shop Ltd" in response.text


def test_openapi_document_declares_bearer_auth_and_every_api_path(client):
    doc = client.get("/openapi.json").json()
    assert "apiKey" in doc["components"]["securitySchemes"]
    for path in ("/api/v1/requests", "/api/v1/requests/{request_id}/run", "/api/v1/consent/check",
                 "/opendsr/requests", "/opendsr/discovery", "/api/v1/audit/verify", "/api/v1/record"):
        assert path in doc["paths"]
    assert not any(p.startswith(("/dashboard", "/privacy")) for p in doc["paths"])
