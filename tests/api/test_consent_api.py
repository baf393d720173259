"""Consent over HTTP: subject keys, record and withdraw, may_process check, history, notices, tenants."""

from __future__ import annotations

import pytest

from service_world import ALICE


@pytest.fixture
def notice(world):
    from tutela.consent import create_notice

    return create_notice(world.tutela, "marketing", "Monthly newsletter.", title="Newsletter", actor="test")


def _key(client, world) -> str:
    response = client.post("/api/v1/consent/subject-key", headers=world.auth("operator", "t1"),
                           json={"kind": "email", "value": ALICE})
    assert response.status_code == 200
    return response.json()["subject_key"]


def test_give_check_withdraw_check(client, world, notice):
    key = _key(client, world)
    auth = world.auth("operator", "t1")
    check = {"subject_key": key, "purpose": "marketing"}
    assert client.get("/api/v1/consent/check", headers=auth, params=check).json()["allowed"] is False
    given = client.post("/api/v1/consent", headers=auth, json={"subject_key": key, "purpose": "marketing"})
    assert given.status_code == 201 and given.json()["tenant"] == "t1"
    assert client.get("/api/v1/consent/check", headers=auth, params=check).json()["allowed"] is True
    client.post("/api/v1/consent", headers=auth, json={"subject_key": key, "purpose": "marketing",
                                                        "event": "withdrawn"})
    decision = client.get("/api/v1/consent/check", headers=auth, params=check).json()
    assert decision["allowed"] is False and decision["reason"]
    history = client.get("/api/v1/consent/history", headers=auth, params={"subject_key": key}).json()
    assert [e["event"] for e in history] == ["given", "withdrawn"]


def test_consent_in_one_tenant_is_invisible_to_another(client, world, notice):
    key = _key(client, world)
    client.post("/api/v1/consent", headers=world.auth("operator", "t1"), json={"subject_key": key,
                                                                               "purpose": "marketing"})
    other = world.auth("operator", "t2")
    assert client.get("/api/v1/consent/history", headers=other, params={"subject_key": key}).json() == []
    assert client.get("/api/v1/consent/check", headers=other,
                      params={"subject_key": key, "purpose": "marketing"}).json()["allowed"] is False


def test_raw_identifier_as_subject_key_is_refused_and_not_echoed(client, world, notice):
    response = client.get("/api/v1/consent/check", headers=world.auth("operator", "t1"),
                          params={"subject_key": ALICE, "purpose": "marketing"})
    assert response.status_code == 422 and ALICE not in response.text


def test_unknown_purpose_is_422_and_nothing_recorded(client, world, notice):
    key = _key(client, world)
    auth = world.auth("operator", "t1")
    response = client.post("/api/v1/consent", headers=auth, json={"subject_key": key, "purpose": "astrology"})
    assert response.status_code == 422
    assert client.get("/api/v1/consent/history", headers=auth, params={"subject_key": key}).json() == []


def test_notices_are_listed(client, world, notice):
    listed = client.get("/api/v1/notices", headers=world.auth("auditor"), params={"purpose": "marketing"}).json()
    assert [(n["purpose"], n["version"]) for n in listed] == [("marketing", 1)]


def test_suppression_check_after_erasure(client, world):
    from tutela.erasure import suppress

    auth = world.auth("operator", "t1")
    body = {"kind": "email", "value": ALICE}
    assert client.post("/api/v1/suppression/check", headers=auth, json=body).json() == {"suppressed": False}
    suppress(world.tutela, "email", ALICE, reason="unsubscribe")
    assert client.post("/api/v1/suppression/check", headers=auth, json=body).json() == {"suppressed": True}


def test_authority_lookup_is_audited_and_refused_to_tenant_keys(client, world):
    body = {"kind": "email", "value": ALICE}
    assert client.post("/api/v1/lookup", headers=world.auth("dpo", "t1"), json=body).status_code == 403
    report = client.post("/api/v1/lookup", headers=world.auth("dpo"), json=body)
    assert report.status_code == 200 and report.json()["pseudonym"].startswith("t1:")
    assert ALICE not in report.text
    assert world.tutela.audit.query(action="erasure.lookup")
