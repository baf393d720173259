"""The consent ledger: events as recorded, bad input writing nothing, children (Art. 8), history."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from consent_helpers import key

from tutela.consent import (
    ConsentEvent,
    ParentalConsent,
    consent_history,
    create_notice,
    give_consent,
    may_process,
    record_events,
    withdraw_consent,
)
from tutela.consent.ledger import unseal
from tutela.consent.tables import ledger
from tutela.errors import InvalidInput


def _count(tutela) -> int:
    with tutela.store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(ledger)).scalar()


def test_event_records_notice_hash_method_and_point(tutela):
    notice = create_notice(tutela, "newsletter", "# Newsletter\nOne mail a week.", actor="op")
    subject = key(tutela, "ada")
    give_consent(tutela, subject, "newsletter", actor="op", method="paper", collection_point="fair-2026",
                 tenant="acme", age=30, country="de")
    withdraw_consent(tutela, subject, "newsletter", actor="op", tenant="acme")
    history = consent_history(tutela, subject)
    assert [h["event"] for h in history] == ["given", "withdrawn"]
    given = history[0]
    assert (given["notice_id"], given["notice_version"], given["notice_sha256"]) == (notice.id, 1, notice.sha256)
    assert (given["method"], given["collection_point"], given["tenant"]) == ("paper", "fair-2026", "acme")
    assert (given["declared_age"], given["declared_country"]) == (30, "DE")
    assert consent_history(tutela, subject, tenant="other") == []
    actions = [e.action for e in tutela.audit.query(subject=subject)]
    assert actions == ["consent.given", "consent.withdrawn"]


BAD_EVENTS = [
    (dict(purpose="telepathy"), "not declared"),
    (dict(notice_version=7), "no notice version 7"),
    (dict(age=12, country="DE"), "under the age of digital consent"),
    (dict(birth_date=date.today() - timedelta(days=365 * 14)), "under the age of digital consent"),
    (dict(purpose="service"), "not on consent"),
    (dict(method="carrier_pigeon"), "method"),
    (dict(country="Germany"), "two-letter"),
    (dict(at=datetime(2999, 1, 1)), "future"),
    (dict(age=10, parent=ParentalConsent("")), "name of the holder"),
]


def test_bad_input_writes_nothing(tutela):
    create_notice(tutela, "newsletter", "Mail.", actor="op")
    audit_before = tutela.audit.count()
    good = ConsentEvent(key(tutela, "good"), "newsletter")
    for event, problem in BAD_EVENTS:
        bad = ConsentEvent(key(tutela, "bad"), **{"purpose": "newsletter", **event})
        with pytest.raises(InvalidInput, match=problem):
            record_events(tutela, [good, bad], actor="op")
        assert _count(tutela) == 0
        assert tutela.audit.count() == audit_before


def test_raw_identifier_as_subject_key_is_refused(sqlite_tutela):
    create_notice(sqlite_tutela, "newsletter", "Mail.", actor="op")
    with pytest.raises(InvalidInput, match="pseudonym"):
        give_consent(sqlite_tutela, "ada@example.org", "newsletter", actor="op")
    assert _count(sqlite_tutela) == 0


def test_no_notice_yet_means_no_consent(sqlite_tutela):
    with pytest.raises(InvalidInput, match="no notice yet"):
        give_consent(sqlite_tutela, key(sqlite_tutela, "a"), "newsletter", actor="op")


def test_child_with_parental_record_is_accepted_and_parent_name_sealed(tutela):
    create_notice(tutela, "newsletter", "Mail.", actor="op")
    subject = key(tutela, "kid")
    parent = ParentalConsent("Erika Mustermann", "parent", "email_confirmation")
    give_consent(tutela, subject, "newsletter", actor="op", age=12, country="DE", parent=parent)
    assert may_process(tutela, subject, "newsletter").allowed
    with tutela.store.engine.connect() as conn:
        sealed = conn.execute(sa.select(ledger.c.parent_holder_sealed)).scalar()
    assert b"Erika" not in sealed and unseal(tutela, sealed) == "Erika Mustermann"
    history = consent_history(tutela, subject)
    assert history[0]["parental_consent"] == {"holder_recorded": True, "relationship": "parent",
                                              "verification_method": "email_confirmation"}
    assert "Erika" not in str(history)


@pytest.mark.parametrize("age, country, needs_parent", [
    (12, "BE", True), (13, "BE", False), (13, "AT", True), (14, "AT", False), (14, "FR", True),
    (15, "FR", False), (15, "DE", True), (16, "DE", False), (15, None, True), (13, "NL", False),
])
def test_age_threshold_follows_the_art8_table_and_policy_override(sqlite_tutela, age, country, needs_parent):
    create_notice(sqlite_tutela, "newsletter", "Mail.", actor="op")
    attempt = ConsentEvent(key(sqlite_tutela, f"a{age}{country}"), "newsletter", age=age, country=country)
    if needs_parent:
        with pytest.raises(InvalidInput, match="Art. 8"):
            record_events(sqlite_tutela, [attempt], actor="op")
    else:
        record_events(sqlite_tutela, [attempt], actor="op")
        assert _count(sqlite_tutela) == 1


def test_identity_kept_only_encrypted(sqlite_tutela):
    create_notice(sqlite_tutela, "newsletter", "Mail.", actor="op")
    subject = key(sqlite_tutela, "proof")
    give_consent(sqlite_tutela, subject, "newsletter", actor="op", identity=("email", " Proof@Example.org"))
    with sqlite_tutela.store.engine.connect() as conn:
        sealed = conn.execute(sa.select(ledger.c.identity_sealed)).scalar()
    assert b"proof" not in sealed.lower()
    assert unseal(sqlite_tutela, sealed) == "email:proof@example.org"


def test_newest_event_by_time_wins_over_insertion_order(sqlite_tutela):
    create_notice(sqlite_tutela, "newsletter", "Mail.", actor="op")
    subject = key(sqlite_tutela, "late-import")
    give_consent(sqlite_tutela, subject, "newsletter", actor="op", at=datetime(2026, 5, 1))
    # an older withdrawal imported afterwards does not undo the newer consent
    withdraw_consent(sqlite_tutela, subject, "newsletter", actor="op", at=datetime(2025, 5, 1))
    assert may_process(sqlite_tutela, subject, "newsletter").allowed
