"""Request lifecycle and bad input: malformed identities, unknown ids, tenants, extensions, listing."""

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from requests_world import ALICE, make_tutela, seed

from tutela.errors import Conflict, InvalidInput, NotFound
from tutela.requests.model import RequestType, Status
from tutela.requests.service import RequestService
from tutela.requests.tables import request_history, requests


@pytest.fixture
def t1(sqlite_shop, clock):
    return RequestService(sqlite_shop, actor="operator:t1", tenant="t1", clock=clock)


@pytest.fixture
def t2(sqlite_shop, clock):
    return RequestService(sqlite_shop, actor="operator:t2", tenant="t2", clock=clock)


def _counts(tutela):
    with tutela.store.engine.connect() as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(requests)).scalar(),
                conn.execute(sa.select(sa.func.count()).select_from(request_history)).scalar())


def test_create_sets_deadlines_history_and_pseudonym(t1, clock):
    clock.now = datetime(2026, 1, 31, 16, 0)
    req = t1.create("erasure", [("email", "  Alice@Example.ORG ")])
    assert req.status is Status.RECEIVED and req.type is RequestType.ERASURE and req.tenant == "t1"
    assert req.legal_due == date(2026, 2, 28)
    assert req.sla_due == datetime(2026, 2, 14, 16, 0)
    assert req.subject_pseudonym.startswith("t1:") and "alice" not in req.subject_pseudonym.lower()
    from tutela.crypto.hashing import pseudonym
    assert req.subject_pseudonym == pseudonym(t1.tutela.keyring, "email", ALICE)
    assert [(h.event, h.actor, h.to_status) for h in req.history] == [("created", "operator:t1", "received")]


@pytest.mark.parametrize(("identities", "message"), [
    ([("email", "not-an-address")], "e-mail"),
    ([("email", "")], "e-mail address"),
    ([("phone", "12")], "phone"),
    ([("passport", "X123")], "identified by passport"),
    ([], "at least one identity"),
])
def test_malformed_identities_are_refused_and_nothing_is_stored(t1, identities, message):
    before = _counts(t1.tutela)
    with pytest.raises(InvalidInput, match=message):
        t1.create("access", identities)
    assert _counts(t1.tutela) == before


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"type": "delete"}, "not a request type"),
    ({"type": "restriction", "purpose": "astrology"}, "not declared"),
    ({"type": "access", "purpose": "service"}, "only restriction and objection"),
    ({"type": "access", "changes": {"customers.full_name": "X"}}, "only a rectification"),
    ({"type": "rectification", "changes": {}}, "at least one field"),
    ({"type": "rectification", "changes": {"customers.signed_up": "2020-01-01"}}, "not a declared"),
    ({"type": "rectification", "changes": {"products.name": "X"}}, "not declared"),
    ({"type": "access", "subject_type": "robot"}, "not declared"),
])
def test_bad_request_details_are_refused(t1, kwargs, message):
    before = _counts(t1.tutela)
    kind = kwargs.pop("type")
    with pytest.raises(InvalidInput, match=message):
        t1.create(kind, [("email", ALICE)], **kwargs)
    assert _counts(t1.tutela) == before


@pytest.mark.parametrize("request_id", ["6f0c1c4e-3c1b-4b8e-9d55-1f0b8e1e2a11", "nonsense", "'; DROP TABLE x;--"])
def test_unknown_ids_are_not_found(t1, request_id):
    for call in (t1.show, t1.send_code, t1.run, lambda i: t1.verify(i, "12345678"),
                 lambda i: t1.extend(i, "busy"), lambda i: t1.mark_verified(i, "ok"), t1.export_bytes):
        with pytest.raises(NotFound):
            call(request_id)


def test_tenant_a_cannot_touch_tenant_b_requests(t1, t2):
    theirs = t2.create("access", [("email", ALICE)])
    before = _counts(t1.tutela)
    for call in (t1.show, t1.send_code, t1.run, lambda i: t1.verify(i, "12345678"),
                 lambda i: t1.extend(i, "busy"), lambda i: t1.mark_verified(i, "ok"),
                 lambda i: t1.reject(i, "no"), t1.export_bytes):
        with pytest.raises(NotFound) as caught:
            call(theirs.id)
        assert caught.value.message == f"there is no request '{theirs.id}'"
    assert _counts(t1.tutela) == before
    assert t1.list() == [] and [r.id for r in t2.list()] == [theirs.id]
    assert t2.show(theirs.id).status is Status.RECEIVED


def test_extend_once_with_a_reason_then_conflict(t1, clock):
    clock.now = datetime(2026, 1, 31, 9)
    req = t1.create("access", [("email", ALICE)])
    with pytest.raises(InvalidInput, match="reason"):
        t1.extend(req.id, "")
    done = t1.extend(req.id, "many requests this month")
    assert done.extended and done.legal_due == date(2026, 4, 30)
    assert done.extension_reason == "many requests this month"
    with pytest.raises(Conflict, match="already extended"):
        t1.extend(req.id, "again")
    again = t1.show(req.id)
    assert again.legal_due == date(2026, 4, 30) and again.extension_reason == "many requests this month"
    assert [h.event for h in again.history].count("extended") == 1


def test_completed_or_rejected_requests_cannot_move(t1):
    req = t1.create("access", [("email", ALICE)])
    t1.reject(req.id, "not the data subject")
    for call in (lambda: t1.run(req.id), lambda: t1.extend(req.id, "x"), lambda: t1.reject(req.id, "x"),
                 lambda: t1.mark_verified(req.id, "x"), lambda: t1.send_code(req.id)):
        with pytest.raises(Conflict):
            call()
    assert t1.show(req.id).status is Status.REJECTED


def test_list_due_within_puts_overdue_first(t1, clock):
    clock.now = datetime(2026, 1, 1, 9)
    overdue = t1.create("access", [("email", ALICE)])  # legal due 1 Feb
    clock.now = datetime(2026, 2, 5, 9)
    sla_missed = t1.create("access", [("email", ALICE)])  # SLA 19 Feb, legal 5 Mar
    clock.now = datetime(2026, 2, 20, 9)
    soon = t1.create("access", [("email", ALICE)])  # SLA 6 Mar
    later = t1.create("access", [("email", ALICE)], received_at=datetime(2026, 2, 28, 9))  # SLA 14 Mar
    done = t1.create("access", [("email", ALICE)], received_at=datetime(2026, 1, 2, 9))
    t1.reject(done.id, "duplicate")
    clock.now = datetime(2026, 3, 2, 9)
    listed = t1.list(due_within=timedelta(days=7))
    assert [r.id for r in listed] == [overdue.id, sla_missed.id, soon.id]
    assert listed[0].overdue(clock.now) and not listed[1].overdue(clock.now) and listed[1].sla_missed(clock.now)
    assert later.id in [r.id for r in t1.list()] and done.id in [r.id for r in t1.list()]
    assert [r.id for r in t1.list(status="rejected")] == [done.id]
    with pytest.raises(InvalidInput):
        t1.list(status="done")


def test_the_store_can_live_on_postgresql(pg_url, tmp_path, monkeypatch, clock):
    monkeypatch.setenv("TUTELA_EXPORT_DIR", str(tmp_path / "exports"))
    app_url = f"sqlite:///{tmp_path / 'shop.db'}"
    seed(app_url)
    tutela = make_tutela(app_url, pg_url, tmp_path)
    try:
        service = RequestService(tutela, actor="op", tenant="t1", clock=clock)
        req = service.create("access", [("email", ALICE)])
        service.mark_verified(req.id, "checked")
        service.extend(req.id, "complex")
        done = service.run(req.id)
        assert done.status is Status.COMPLETED and done.result["export"]["tables"]["shop.customers"] == 1
        assert [h.event for h in done.history] == ["created", "verified", "extended", "started", "completed"]
    finally:
        tutela.close()


def test_operator_verified_intake_is_one_step_with_both_history_entries(t1):
    req = t1.create("erasure", [("email", ALICE)], verified_reason="controller's written instruction")
    assert req.status is Status.VERIFIED and req.verification == "operator"
    assert [h.event for h in req.history] == ["created", "verified"]
    assert "controller's written instruction" in req.history[-1].note
    before = _counts(t1.tutela)
    with pytest.raises(InvalidInput, match="reason"):
        t1.create("erasure", [("email", ALICE)], verified_reason=" ")
    assert _counts(t1.tutela) == before
