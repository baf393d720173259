"""Running erasure, rectification, restriction and objection requests (three databases where the
target data changes)."""

import json

import pytest
import sqlalchemy as sa
from requests_world import ALICE, BOB, customers, login_events, order_items, orders

from tutela.errors import InvalidInput, NotFound
from tutela.requests.model import Status
from tutela.requests.service import RequestService


def _verified(tutela, kind, email=ALICE, tenant="t1", **kwargs):
    service = RequestService(tutela, actor="operator:test", tenant=tenant)
    req = service.create(kind, [("email", email)], **kwargs)
    service.mark_verified(req.id, "checked in person")
    return service, req


def _snapshot(tutela, table, where):
    with tutela.system_engine("shop").connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(table).where(where).order_by(table.c.id))]


def test_erasure_runs_the_engine_and_attaches_the_signed_receipt(shop):
    from tutela.crypto.signing import verify_document

    bob_before = _snapshot(shop, customers, customers.c.id != 1)
    service, req = _verified(shop, "erasure")
    done = service.run(req.id)
    assert done.status is Status.COMPLETED
    receipt = done.result["erasure"]["receipt"]
    assert receipt["signature"]["alg"] == "Ed25519" and verify_document(receipt, shop.keyring)
    alice = _snapshot(shop, customers, customers.c.id == 1)[0]
    assert alice["full_name"] is None and alice["email"].startswith("t1:")
    assert _snapshot(shop, login_events, sa.and_(login_events.c.user_email == ALICE,
                                                  login_events.c.tenant_id == "t1")) == []
    assert _snapshot(shop, customers, customers.c.id != 1) == bob_before
    from tutela.erasure.suppression import is_suppressed
    assert is_suppressed(shop, "email", ALICE)


def test_erasure_of_a_subject_without_data_completes_with_a_note(sqlite_shop):
    service, req = _verified(sqlite_shop, "erasure", email="nobody@example.org")
    done = service.run(req.id)
    assert done.status is Status.COMPLETED and done.result["erasure"]["receipt"] is None


def test_rectification_updates_declared_fields_and_audits_only_hashes(shop):
    others_before = _snapshot(shop, orders, orders.c.customer_id != 1)
    service, req = _verified(shop, "rectification", changes={"customers.full_name": "Alice Anderson",
                                                             "orders.shipping_address": "9 New Rd",
                                                             "order_items.gift_message": None})
    done = service.run(req.id)
    assert done.status is Status.COMPLETED
    assert _snapshot(shop, customers, customers.c.id == 1)[0]["full_name"] == "Alice Anderson"
    assert {o["shipping_address"] for o in _snapshot(shop, orders, orders.c.customer_id == 1)} == {"9 New Rd"}
    assert _snapshot(shop, order_items, order_items.c.id == 100)[0]["gift_message"] is None
    assert _snapshot(shop, orders, orders.c.customer_id != 1) == others_before
    assert _snapshot(shop, customers, customers.c.id == 4)[0]["full_name"] == "Alice in t2"
    fields = {f["field"]: f for f in done.result["rectification"]}
    assert fields["shipping_address"]["rows"] == 2 and len(fields["shipping_address"]["old_value_hashes"]) == 1
    audit = [e for e in shop.audit.query(action="request.rectified")]
    text = json.dumps([e.as_dict() for e in audit])
    assert len(audit) == 1 and "Alice Anderson" not in text and "9 New Rd" not in text and "1 Main St" not in text


@pytest.mark.parametrize(("changes", "message"), [
    ({"customers.credit_score": "excellent"}, "must be a int"),
    ({"customers.full_name": "x" * 101}, "at most 100"),
    ({"customers.email": None}, "NOT NULL"),
])
def test_rectification_with_values_that_do_not_fit_changes_nothing(sqlite_shop, changes, message):
    before = _snapshot(sqlite_shop, customers, sa.true())
    service, req = _verified(sqlite_shop, "rectification", changes=changes)
    with pytest.raises(InvalidInput, match=message):
        service.run(req.id)
    assert _snapshot(sqlite_shop, customers, sa.true()) == before
    assert service.show(req.id).status is Status.IN_PROGRESS


def test_rectification_of_an_unknown_subject_is_not_found(sqlite_shop):
    service, req = _verified(sqlite_shop, "rectification", email="nobody@example.org",
                             changes={"customers.full_name": "X"})
    with pytest.raises(NotFound):
        service.run(req.id)


@pytest.mark.parametrize("kind", ["restriction", "objection"])
def test_restriction_and_objection_mark_the_subject_for_may_process(sqlite_shop, kind):
    from tutela.consent.restrictions import has_objected, is_restricted

    service, req = _verified(sqlite_shop, kind, purpose="marketing")
    done = service.run(req.id)
    assert done.status is Status.COMPLETED
    check = is_restricted if kind == "restriction" else has_objected
    assert check(sqlite_shop, req.subject_pseudonym, "marketing", tenant="t1")
    assert not check(sqlite_shop, req.subject_pseudonym, "service", tenant="t1")
    from tutela.crypto.hashing import pseudonym
    assert not check(sqlite_shop, pseudonym(sqlite_shop.keyring, "email", BOB), "marketing", tenant="t1")


def test_a_restriction_without_purpose_covers_every_purpose(sqlite_shop):
    from tutela.consent.restrictions import is_restricted

    service, req = _verified(sqlite_shop, "restriction")
    service.run(req.id)
    assert all(is_restricted(sqlite_shop, req.subject_pseudonym, p, tenant="t1")
               for p in ("service", "marketing", "risk"))


def test_an_interrupted_run_can_be_run_again(sqlite_shop, monkeypatch):
    from tutela.requests import executors

    service, req = _verified(sqlite_shop, "erasure")
    real = executors._erase

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(executors, "_erase", crash)
    with pytest.raises(KeyboardInterrupt):
        service.run(req.id)
    assert service.show(req.id).status is Status.IN_PROGRESS
    monkeypatch.setattr(executors, "_erase", real)
    assert service.run(req.id).status is Status.COMPLETED
