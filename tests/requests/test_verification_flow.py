"""E-mail verification through a real SMTP server: right, wrong, expired, five failures, replayed,
operator verification, and running before verification."""

import pytest
import sqlalchemy as sa
from requests_world import ALICE

from smtp_server import latest_code
from tutela.errors import Conflict, InvalidInput
from tutela.requests.model import Status
from tutela.requests.service import RequestService
from tutela.requests.tables import requests
from tutela.requests.verification import CODE_DIGITS, MAX_ATTEMPTS


@pytest.fixture
def service(sqlite_shop, clock):
    return RequestService(sqlite_shop, actor="operator:test", tenant="t1", clock=clock)


@pytest.fixture
def filed(service, smtp_server):
    req = service.create("access", [("email", ALICE)])
    service.send_code(req.id)
    return req


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** CODE_DIGITS:0{CODE_DIGITS}d}"


def test_the_code_arrives_by_smtp_and_verifies_the_request(service, filed, smtp_server):
    message = smtp_server.wait_for(1)[0]
    assert message["To"] == ALICE and message["From"] == "privacy@shop.example"
    code = latest_code(smtp_server)
    req = service.verify(filed.id, code)
    assert req.status is Status.VERIFIED and req.verification == "code"
    assert [h.event for h in req.history] == ["created", "code_sent", "verified"]


def test_the_code_is_stored_hashed_never_in_clear(service, filed, smtp_server):
    code = latest_code(smtp_server)
    with service.tutela.store.engine.connect() as conn:
        row = conn.execute(sa.select(requests).where(requests.c.id == filed.id)).one()
    assert row.code_hash.startswith("$argon2id$") and code not in row.code_hash
    assert ALICE.encode() not in row.sealed


def test_a_wrong_code_is_refused_and_counts_an_attempt(service, filed, smtp_server):
    code = latest_code(smtp_server)
    with pytest.raises(InvalidInput, match=f"{MAX_ATTEMPTS - 1} attempts left"):
        service.verify(filed.id, _wrong(code))
    req = service.show(filed.id)
    assert req.status is Status.VERIFYING and req.code_attempts == 1
    assert service.verify(filed.id, code).status is Status.VERIFIED


def test_an_expired_code_is_refused(service, filed, smtp_server, clock):
    code = latest_code(smtp_server)
    clock.advance(minutes=15, seconds=1)
    with pytest.raises(Conflict, match="expired"):
        service.verify(filed.id, code)
    assert service.show(filed.id).status is Status.VERIFYING


def test_a_code_just_inside_fifteen_minutes_works(service, filed, smtp_server, clock):
    code = latest_code(smtp_server)
    clock.advance(minutes=14, seconds=59)
    assert service.verify(filed.id, code).status is Status.VERIFIED


def test_five_failures_lock_the_request_until_a_new_code_is_sent(service, filed, smtp_server):
    code = latest_code(smtp_server)
    for _ in range(MAX_ATTEMPTS - 1):
        with pytest.raises(InvalidInput):
            service.verify(filed.id, _wrong(code))
    with pytest.raises(Conflict, match="locked"):
        service.verify(filed.id, _wrong(code))
    with pytest.raises(Conflict, match="locked"):
        service.verify(filed.id, code)  # even the right code no longer works
    assert service.show(filed.id).locked
    service.send_code(filed.id)
    fresh = latest_code(smtp_server, count=2)
    req = service.verify(filed.id, fresh)
    assert req.status is Status.VERIFIED and not req.locked


def test_a_replayed_code_is_refused(service, filed, smtp_server):
    code = latest_code(smtp_server)
    service.verify(filed.id, code)
    with pytest.raises(Conflict, match="once"):
        service.verify(filed.id, code)
    assert service.show(filed.id).status is Status.VERIFIED


def test_an_old_code_stops_working_when_a_new_one_is_sent(service, filed, smtp_server):
    first = latest_code(smtp_server)
    service.send_code(filed.id)
    second = latest_code(smtp_server, count=2)
    if first != second:
        with pytest.raises(InvalidInput):
            service.verify(filed.id, first)
    assert service.verify(filed.id, second).status is Status.VERIFIED


def test_verifying_before_a_code_was_sent_is_a_conflict(service):
    req = service.create("access", [("email", ALICE)])
    with pytest.raises(Conflict, match="no code"):
        service.verify(req.id, "12345678")


def test_an_operator_can_mark_verified_with_a_reason(service):
    req = service.create("access", [("email", ALICE)])
    with pytest.raises(InvalidInput, match="reason"):
        service.mark_verified(req.id, "  ")
    assert service.show(req.id).status is Status.RECEIVED
    done = service.mark_verified(req.id, "identity checked by phone call")
    assert done.status is Status.VERIFIED and done.verification == "operator"
    assert "identity checked by phone call" in done.history[-1].note


def test_running_an_unverified_request_is_a_conflict_and_changes_nothing(service, filed):
    with pytest.raises(Conflict, match="not verified"):
        service.run(filed.id)
    assert service.show(filed.id).status is Status.VERIFYING


def test_audit_records_the_pseudonym_never_the_address(service, filed, smtp_server):
    service.verify(filed.id, latest_code(smtp_server))
    events = service.tutela.audit.query(subject=filed.subject_pseudonym)
    actions = [e.action for e in events]
    assert "request.created" in actions and "request.verified" in actions
    assert all(ALICE not in str(e.as_dict()) for e in service.tutela.audit.query())


def test_a_request_without_e_mail_cannot_get_a_code(service):
    req = service.create("access", [("phone", "+49 30 901820")])
    with pytest.raises(Conflict, match="no e-mail identity"):
        service.send_code(req.id)
    assert service.show(req.id).status is Status.RECEIVED


def test_without_smtp_settings_no_code_is_stored(service, monkeypatch):
    from tutela.errors import ConfigurationError

    monkeypatch.delenv("TUTELA_SMTP_HOST", raising=False)
    service.tutela.policy.engine.smtp = None
    req = service.create("access", [("email", ALICE)])
    with pytest.raises(ConfigurationError, match="no SMTP server"):
        service.send_code(req.id)
    assert service.show(req.id).status is Status.RECEIVED


def test_a_failed_delivery_leaves_no_code_behind(service):
    from tutela.errors import ConfigurationError
    from tutela.policy.model import SmtpSettings

    service.tutela.policy.engine.smtp = SmtpSettings(host="127.0.0.1", port=1, timeout_seconds=2)
    req = service.create("access", [("email", ALICE)])
    with pytest.raises(ConfigurationError, match="cannot send mail"):
        service.send_code(req.id)
    with service.tutela.store.engine.connect() as conn:
        row = conn.execute(sa.select(requests).where(requests.c.id == req.id)).one()
    assert row.status == "received" and row.code_hash is None


def test_opendsr_intake_files_a_request(service):
    from tutela.requests.model import from_opendsr, to_opendsr

    req = service.create_from(from_opendsr({
        "subject_request_type": "erasure",
        "subject_identities": [{"identity_type": "email", "identity_value": ALICE, "identity_format": "raw"}]}))
    body = to_opendsr(service.show(req.id))
    assert body["subject_request_type"] == "erasure" and body["request_status"] == "pending"
    assert req.source == "opendsr"
