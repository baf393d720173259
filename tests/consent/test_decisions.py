"""The decision table of may_process: every lawful basis × consent state × restriction/objection/suppression.

Consent states exist only for consent purposes (the ledger refuses consent to other bases, see
test_ledger); for the others the state is "none". Each combination is its own subject, so one
store answers the whole table; the single and bulk forms must agree.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from consent_helpers import key

from tutela.consent import ConsentEvent, create_notice, may_process, may_process_many, record_events, restrict
from tutela.consent.decisions import Facts, decide
from tutela.errors import InvalidInput
from tutela.legal import LawfulBasis

CONSENT_PURPOSES = ("newsletter", "analytics")  # direct marketing / not
OTHER_PURPOSES = ("service", "tax", "safety", "registry", "fraud", "postal")
CONSENT_STATES = ("none", "given", "withdrawn", "old_material", "old_nonmaterial")
MODIFIERS = ("none", "restriction", "objection", "suppression")

# Notices of each consent purpose: v1 material, v2 material, v3 not material → current material v2.
NOTICE_OF_STATE = {"given": 3, "withdrawn": 3, "old_material": 1, "old_nonmaterial": 2}


def expected(tutela, purpose: str, state: str, modifier: str) -> str:
    """The decision code the table says, written out rule by rule from Art. 6, 7, 18 and 21."""
    declared = tutela.policy.purposes[purpose]
    marketing, basis = declared.direct_marketing, declared.basis
    if modifier == "suppression" and marketing:
        return "suppressed"
    if modifier == "objection":
        if marketing:
            return "objected_direct_marketing"
        if basis in (LawfulBasis.LEGITIMATE_INTERESTS, LawfulBasis.PUBLIC_TASK, LawfulBasis.CONSENT):
            return "objected"
    if modifier == "restriction":
        return "restricted"
    if basis != LawfulBasis.CONSENT:
        return "basis"
    return {"none": "no_consent", "given": "consent", "withdrawn": "withdrawn",
            "old_material": "stale_consent", "old_nonmaterial": "consent"}[state]


def _combinations():
    for purpose in CONSENT_PURPOSES:
        for state in CONSENT_STATES:
            for modifier in MODIFIERS:
                yield purpose, state, modifier
    for purpose in OTHER_PURPOSES:
        for modifier in MODIFIERS:
            yield purpose, "none", modifier


def test_every_basis_state_and_modifier(tutela):
    for purpose in CONSENT_PURPOSES:
        for version, material in ((1, True), (2, True), (3, False)):
            create_notice(tutela, purpose, f"# {purpose} v{version}\nText.", material=material, actor="op")
    combos = list(_combinations())
    subjects = {combo: key(tutela, "-".join(combo)) for combo in combos}
    events = []
    for (purpose, state, _modifier), subject in subjects.items():
        if state == "none":
            continue
        events.append(ConsentEvent(subject, purpose, "given", notice_version=NOTICE_OF_STATE[state],
                                   at=datetime(2026, 1, 1, 12, 0)))
        if state == "withdrawn":
            events.append(ConsentEvent(subject, purpose, "withdrawn", at=datetime(2026, 2, 1, 12, 0)))
    record_events(tutela, events, actor="op")
    from tutela.erasure.suppression import add_entries, entry

    for (purpose, _state, modifier), subject in subjects.items():
        if modifier in ("restriction", "objection"):
            restrict(tutela, subject, kind=modifier, purpose=purpose, reason="request 1", actor="op")
    with tutela.store.engine.begin() as conn:
        for (_purpose, _state, modifier), subject in subjects.items():
            if modifier == "suppression":
                add_entries(tutela, [entry(subject, "email", "unsubscribe", at=datetime(2026, 3, 1))], connection=conn)

    mismatches = []
    for (purpose, state, modifier), subject in subjects.items():
        decision = may_process(tutela, subject, purpose)
        want = expected(tutela, purpose, state, modifier)
        if decision.code != want or decision.allowed != (want in ("basis", "consent")):
            mismatches.append((purpose, state, modifier, decision.code, want))
        assert decision.reason
    assert mismatches == []

    for purpose in CONSENT_PURPOSES + OTHER_PURPOSES:
        mine = [s for (p, _st, _m), s in subjects.items() if p == purpose]
        bulk = may_process_many(tutela, mine, purpose)
        assert {k: d.code for k, d in bulk.items()} == {k: may_process(tutela, k, purpose).code for k in mine}


def test_objection_to_all_purposes_spares_contract_but_stops_marketing(tutela):
    subject = key(tutela, "objector")
    restrict(tutela, subject, kind="objection", reason="request 7", actor="op")
    assert may_process(tutela, subject, "service").allowed
    assert "does not apply" in may_process(tutela, subject, "service").reason
    assert may_process(tutela, subject, "postal").code == "objected_direct_marketing"
    assert may_process(tutela, subject, "fraud").code == "objected"


def test_tenant_scopes_consent_but_global_restriction_covers_every_tenant(tutela):
    create_notice(tutela, "newsletter", "Mail.", actor="op")
    subject = key(tutela, "tenanted")
    record_events(tutela, [ConsentEvent(subject, "newsletter", tenant="acme")], actor="op")
    assert may_process(tutela, subject, "newsletter", tenant="acme").allowed
    assert not may_process(tutela, subject, "newsletter", tenant="globex").allowed
    assert not may_process(tutela, subject, "newsletter").allowed
    restrict(tutela, subject, kind="restriction", reason="request 9", actor="op")
    assert may_process(tutela, subject, "newsletter", tenant="acme").code == "restricted"
    assert may_process(tutela, subject, "service", tenant="globex").code == "restricted"


def test_unknown_purpose_and_raw_identifier_are_refused(sqlite_tutela):
    subject = key(sqlite_tutela, "x")
    with pytest.raises(InvalidInput, match="not declared"):
        may_process(sqlite_tutela, subject, "telepathy")
    with pytest.raises(InvalidInput, match="pseudonym"):
        may_process(sqlite_tutela, "ada@example.org", "service")
    with pytest.raises(InvalidInput, match="not declared"):
        may_process_many(sqlite_tutela, [subject], "telepathy")


def test_bulk_form_answers_in_batches(sqlite_tutela, monkeypatch):
    from tutela.consent import decisions

    create_notice(sqlite_tutela, "newsletter", "Mail.", actor="op")
    subjects = [key(sqlite_tutela, f"bulk{i}") for i in range(25)]
    record_events(sqlite_tutela, [ConsentEvent(s, "newsletter") for s in subjects[::2]], actor="op")
    monkeypatch.setattr(decisions, "BULK_BATCH", 4)
    statements = []
    sa.event.listen(sqlite_tutela.store.engine, "before_cursor_execute",
                    lambda *args: statements.append(args[2]) if "row_number" in args[2] else None)
    answers = may_process_many(sqlite_tutela, subjects + subjects[:3], "newsletter")
    assert [answers[s].allowed for s in subjects] == [i % 2 == 0 for i in range(25)]
    assert len(statements) == 7  # ceil(25 / 4) batches, one statement each


def test_decide_is_pure_and_reasons_cite_articles(sqlite_tutela):
    newsletter = sqlite_tutela.policy.purposes["newsletter"]
    assert "Art. 21(3)" in decide("newsletter", newsletter, Facts(objected=True)).reason
    assert "Art. 18" in decide("newsletter", newsletter, Facts(restricted=True)).reason
    stale = decide("newsletter", newsletter, Facts("given", 1, 2))
    assert not stale.allowed and "v2" in stale.reason


def test_identity_form_finds_events_recorded_before_a_key_rotation(sqlite_tutela):
    from tutela.consent import consent_history, may_process_identity, withdraw_consent

    t = sqlite_tutela
    create_notice(t, "newsletter", "Mail.", actor="op")
    old_key = key(t, "rotated")
    record_events(t, [ConsentEvent(old_key, "newsletter", at=datetime(2026, 1, 1))], actor="op")
    restrict(t, old_key, kind="objection", purpose="fraud", reason="request 5", actor="op")
    t.keyring.rotate()
    new_key = key(t, "rotated")
    assert new_key != old_key
    assert may_process(t, new_key, "newsletter").code == "no_consent"  # the fast form knows one key
    assert may_process_identity(t, "email", "Rotated@example.org", "newsletter").code == "consent"
    assert may_process_identity(t, "email", "rotated@example.org", "fraud").code == "objected"
    withdraw_consent(t, new_key, "newsletter", actor="op")
    assert may_process_identity(t, "email", "rotated@example.org", "newsletter").code == "withdrawn"
    assert [e["event"] for e in consent_history(t, [old_key, new_key])] == ["given", "withdrawn"]
