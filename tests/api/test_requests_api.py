"""Data-subject requests over HTTP, end to end: intake, e-mailed code, verify, run, ZIP, OpenDSR."""

from __future__ import annotations

import io
import json
import zipfile

from service_world import ALICE
from smtp_server import latest_code


def _create(client, world, tenant="t1", **extra):
    body = {"type": "access", "identities": [{"kind": "email", "value": ALICE}], **extra}
    response = client.post("/api/v1/requests", headers=world.auth("operator", tenant), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_access_request_lifecycle_over_http(client, world, smtp_server):
    created = _create(client, world, send_code=True)
    assert created["status"] == "verifying" and created["tenant"] == "t1"
    assert ALICE not in json.dumps(created)  # only the pseudonym comes back
    code = latest_code(smtp_server)
    auth = world.auth("operator", "t1")
    wrong = client.post(f"/api/v1/requests/{created['id']}/verify", headers=auth, json={"code": "00000000"})
    assert wrong.status_code == 422 and "attempt" in wrong.json()["detail"]
    verified = client.post(f"/api/v1/requests/{created['id']}/verify", headers=auth, json={"code": code})
    assert verified.json()["status"] == "verified"
    ran = client.post(f"/api/v1/requests/{created['id']}/run", headers=auth)
    assert ran.status_code == 200 and ran.json()["status"] == "completed"
    export = client.get(f"/api/v1/requests/{created['id']}/export", headers=auth)
    assert export.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(export.content)).namelist()
    assert any(n.endswith(".json") for n in names)
    events = [e["event"] for e in client.get(f"/api/v1/requests/{created['id']}", headers=auth).json()["history"]]
    assert events[-1] == "exported"
    assert world.tutela.audit.query(action="request.exported")


def test_list_is_sorted_by_due_date_and_filtered(client, world):
    first = _create(client, world)
    second = _create(client, world, type="erasure")
    auth = world.auth("dpo", "t1")
    listed = client.get("/api/v1/requests", headers=auth).json()
    assert [r["id"] for r in listed] == [first["id"], second["id"]]
    assert [r["id"] for r in client.get("/api/v1/requests?status=received&open_only=true",
                                        headers=auth).json()] == [first["id"], second["id"]]
    assert client.get("/api/v1/requests?status=completed", headers=auth).json() == []
    assert client.get("/api/v1/requests?status=bogus", headers=auth).status_code == 422


def test_extend_once_then_conflict(client, world):
    created = _create(client, world)
    auth = world.auth("operator", "t1")
    extended = client.post(f"/api/v1/requests/{created['id']}/extend", headers=auth, json={"reason": "complex"})
    assert extended.json()["extended"] is True
    assert extended.json()["legal_due"] > created["legal_due"]
    again = client.post(f"/api/v1/requests/{created['id']}/extend", headers=auth, json={"reason": "again"})
    assert again.status_code == 409


def test_running_an_unverified_request_is_a_conflict_and_changes_nothing(client, world):
    created = _create(client, world)
    auth = world.auth("operator", "t1")
    response = client.post(f"/api/v1/requests/{created['id']}/run", headers=auth)
    assert response.status_code == 409
    assert client.get(f"/api/v1/requests/{created['id']}", headers=auth).json()["status"] == "received"


def test_erasure_receipt_is_signed(client, world):
    created = _create(client, world, type="erasure")
    auth = world.auth("dpo", "t1")
    client.post(f"/api/v1/requests/{created['id']}/mark-verified", headers=auth, json={"reason": "known caller"})
    assert client.get(f"/api/v1/requests/{created['id']}/receipt", headers=auth).status_code == 409
    assert client.post(f"/api/v1/requests/{created['id']}/run", headers=auth).status_code == 200
    receipt = client.get(f"/api/v1/requests/{created['id']}/receipt", headers=auth)
    assert receipt.status_code == 200
    assert receipt.json()["signature"]["alg"] == "Ed25519"


def test_opendsr_create_and_status(client, world):
    discovery = client.get("/opendsr/discovery").json()
    assert "access" in discovery["supported_subject_request_types"]
    assert {"identity_type": "email", "identity_format": "raw"} in discovery["supported_identities"]
    body = {"subject_request_type": "erasure", "api_version": "1.0",
            "subject_identities": [{"identity_type": "email", "identity_value": ALICE, "identity_format": "raw"}]}
    created = client.post("/opendsr/requests", headers=world.auth("operator", "t1"), json=body)
    assert created.status_code == 201
    data = created.json()
    assert data["request_status"] == "pending" and ALICE not in created.text
    status = client.get(f"/opendsr/requests/{data['subject_request_id']}", headers=world.auth("auditor", "t1"))
    assert status.json()["subject_request_type"] == "erasure"
    bad = client.post("/opendsr/requests", headers=world.auth("operator", "t1"),
                      json={**body, "subject_request_type": "teleport"})
    assert bad.status_code == 422
    assert len(client.get("/api/v1/requests", headers=world.auth("dpo")).json()) == 1
