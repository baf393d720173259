"""Least privilege and tenant isolation over every API endpoint (R25, SPEC §5).

Role matrix: each endpoint's permission is read from its route; every role's key gets 403 exactly
when its role lacks that permission. Isolation matrix: every endpoint that takes an id, called
with tenant t1's key on tenant t2's id, answers 404 with the same body as for an id that does not
exist (run on SQLite, PostgreSQL and MariaDB).
"""

from __future__ import annotations

import uuid

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from service_world import ALICE, ROLES, build_world
from tutela.auth import PERMISSIONS, Role

KEY = "t1:000000:" + "0" * 64
EXAMPLE_BODIES = {
    ("POST", "/api/v1/keys"): {"role": "auditor"},
    ("POST", "/api/v1/requests"): {"type": "access", "identities": [{"kind": "email", "value": ALICE}]},
    ("POST", "/api/v1/requests/{request_id}/verify"): {"code": "12345678"},
    ("POST", "/api/v1/requests/{request_id}/mark-verified"): {"reason": "known"},
    ("POST", "/api/v1/requests/{request_id}/extend"): {"reason": "complex"},
    ("POST", "/api/v1/requests/{request_id}/reject"): {"reason": "no"},
    ("POST", "/api/v1/consent/subject-key"): {"kind": "email", "value": ALICE},
    ("POST", "/api/v1/consent"): {"subject_key": KEY, "purpose": "marketing"},
    ("POST", "/api/v1/retention/run"): {"confirm": False},
    ("POST", "/api/v1/suppression/check"): {"kind": "email", "value": ALICE},
    ("POST", "/api/v1/lookup"): {"kind": "email", "value": ALICE},
    ("POST", "/opendsr/requests"): {"subject_request_type": "access", "subject_identities": [
        {"identity_type": "email", "identity_value": ALICE}]},
}
EXAMPLE_QUERIES = {
    "/api/v1/consent/check": {"subject_key": KEY, "purpose": "marketing"},
    "/api/v1/consent/history": {"subject_key": KEY},
}


def permission_of(route: APIRoute):
    """The permission a route requires, found among its dependencies (None: public)."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if hasattr(dependency.call, "permission"):
            return dependency.call.permission
        pending.extend(dependency.dependencies)
    return None


def api_routes(_app):
    """Every API route (all of them come from the routers the app factory includes)."""
    from tutela.api.routers import ROUTERS

    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute) and route.path.startswith(("/api/", "/opendsr/"))
            for method in route.methods:
                yield method, route


def call(client, method, route, headers, ids):
    path = route.path
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    body = EXAMPLE_BODIES.get((method, route.path))
    if method == "POST" and body is None and route.body_field is not None:
        pytest.fail(f"no example body for {method} {route.path}: add one to EXAMPLE_BODIES")
    return client.request(method, path, headers=headers, json=body, params=EXAMPLE_QUERIES.get(route.path))


@pytest.fixture
def sqlite_world(store_url, tmp_path, monkeypatch, smtp_server):
    monkeypatch.setenv("TUTELA_EXPORT_DIR", str(tmp_path / "exports"))
    built = build_world(f"sqlite:///{tmp_path / 'shop.db'}", store_url, tmp_path, smtp_server.port)
    yield built
    built.tutela.close()


def test_role_matrix_every_endpoint(sqlite_world):
    world = sqlite_world
    checked = 0
    with TestClient(world.app) as client:
        for method, route in api_routes(world.app):
            permission = permission_of(route)
            if permission is None:
                assert route.path == "/opendsr/discovery", f"{method} {route.path} requires no permission"
                continue
            ids = {"request_id": str(uuid.uuid4()), "key_id": "000000000000"}
            for role in ROLES:
                response = call(client, method, route, world.auth(role), ids)
                allowed = permission in PERMISSIONS[Role(role)]
                assert (response.status_code == 403) == (not allowed), \
                    f"{role} {method} {route.path}: {response.status_code} {response.text[:200]}"
                assert response.status_code != 401 and response.status_code < 500
                checked += 1
    assert checked >= 4 * 20


def test_tenant_isolation_matrix_every_endpoint_with_an_id(db_url, store_url, tmp_path, monkeypatch,
                                                           smtp_server):
    monkeypatch.setenv("TUTELA_EXPORT_DIR", str(tmp_path / "exports"))
    world = build_world(db_url, store_url, tmp_path, smtp_server.port)
    try:
        with TestClient(world.app) as client:
            theirs = client.post("/api/v1/requests", headers=world.auth("dpo", "t2"),
                                 json=EXAMPLE_BODIES[("POST", "/api/v1/requests")]).json()["id"]
            their_key = client.post("/api/v1/keys", headers=world.auth("admin", "t2"),
                                                     json={"role": "auditor"}).json()["key_id"]
            missing = str(uuid.uuid4())
            checked = 0
            for method, route in api_routes(world.app):
                if "{" not in route.path:
                    continue
                role = "admin" if route.path.startswith("/api/v1/keys") else "dpo"
                foreign = call(client, method, route, world.auth(role, "t1"),
                               {"request_id": theirs, "key_id": their_key})
                absent = call(client, method, route, world.auth(role, "t1"),
                              {"request_id": missing, "key_id": "000000000000"})
                assert foreign.status_code == 404, f"{method} {route.path}: {foreign.status_code}"
                assert absent.status_code == 404
                assert foreign.json()["detail"].replace(theirs, "ID").replace(their_key, "ID") == \
                    absent.json()["detail"].replace(missing, "ID").replace("000000000000", "ID")
                checked += 1
            assert checked >= 10
            # and their request is untouched and still theirs
            mine = client.get(f"/api/v1/requests/{theirs}", headers=world.auth("dpo", "t2")).json()
            assert mine["status"] == "received" and mine["history"][-1]["event"] == "created"
            assert client.get("/api/v1/requests", headers=world.auth("dpo", "t1")).json() == []
            assert all(e["tenant"] == "t1" for e in
                       client.get("/api/v1/audit/events", headers=world.auth("auditor", "t1")).json())
            listed = client.get("/api/v1/keys", headers=world.auth("admin", "t1")).json()
            assert listed and all(k["tenant"] == "t1" for k in listed)
            assert their_key not in {k["key_id"] for k in listed}
    finally:
        world.tutela.close()


def test_tenant_bound_key_cannot_reach_another_tenant_by_asking(sqlite_world):
    world = sqlite_world
    with TestClient(world.app) as client:
        client.post("/api/v1/requests", headers=world.auth("dpo", "t2"),
                    json=EXAMPLE_BODIES[("POST", "/api/v1/requests")])
        assert client.get("/api/v1/requests?tenant=t2", headers=world.auth("dpo", "t1")).json() == []
        created = client.post("/api/v1/requests", headers=world.auth("operator", "t1"),
                              json={**EXAMPLE_BODIES[("POST", "/api/v1/requests")], "tenant": "t2"}).json()
        assert created["tenant"] == "t1"
        refused = client.post("/api/v1/keys", headers=world.auth("admin", "t1"), json={"role": "dpo", "tenant": "t2"})
        assert refused.status_code == 403
        assert client.get("/api/v1/retention/plan", headers=world.auth("dpo", "t1")).status_code == 403
