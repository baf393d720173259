"""Restriction (Art. 18) and objection (Art. 21) records: place, lift, scope, idempotence."""

from __future__ import annotations

import pytest
from consent_helpers import key

from tutela.consent import has_objected, is_restricted, lift, may_process, restrict
from tutela.consent.restrictions import active_records, restriction_history
from tutela.errors import Conflict, InvalidInput


def test_place_and_lift(tutela):
    subject = key(tutela, "r")
    first = restrict(tutela, subject, kind="restriction", purpose="fraud", reason="request 1", actor="op")
    assert restrict(tutela, subject, kind="restriction", purpose="fraud", reason="again", actor="op") == first
    assert is_restricted(tutela, subject, "fraud")
    assert not is_restricted(tutela, subject, "service")
    assert not has_objected(tutela, subject, "fraud")
    lift(tutela, subject, kind="restriction", purpose="fraud", reason="accuracy verified", actor="op")
    assert not is_restricted(tutela, subject, "fraud")
    assert may_process(tutela, subject, "fraud").allowed
    assert [r["event"] for r in restriction_history(tutela, subject)] == ["placed", "lifted"]


def test_all_purposes_and_tenant_scope(tutela):
    subject = key(tutela, "s")
    restrict(tutela, subject, kind="objection", tenant="acme", reason="request 3", actor="op")
    assert has_objected(tutela, subject, "fraud", tenant="acme")
    assert not has_objected(tutela, subject, "fraud", tenant="globex")
    assert not has_objected(tutela, subject, "fraud")
    assert active_records(tutela, subject, "acme") == [("objection", None)]


def test_bad_input_and_lifting_nothing(sqlite_tutela):
    t = sqlite_tutela
    subject = key(t, "bad")
    with pytest.raises(InvalidInput, match="kind"):
        restrict(t, subject, kind="ban", reason="x", actor="op")
    with pytest.raises(InvalidInput, match="not declared"):
        restrict(t, subject, kind="objection", purpose="telepathy", reason="x", actor="op")
    with pytest.raises(InvalidInput, match="reason"):
        restrict(t, subject, kind="objection", reason=" ", actor="op")
    with pytest.raises(InvalidInput, match="pseudonym"):
        restrict(t, "bob@example.org", kind="objection", reason="x", actor="op")
    with pytest.raises(Conflict, match="no active objection"):
        lift(t, subject, kind="objection", reason="x", actor="op")
    assert restriction_history(t, subject) == []
