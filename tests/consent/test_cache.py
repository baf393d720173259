"""The decision cache: in-process writes flip decisions at once; other processes' within the bound."""

from __future__ import annotations

from datetime import datetime

from consent_helpers import key

from tutela.consent import create_notice, give_consent, may_process, restrict, withdraw_consent
from tutela.consent.decisions import configure_cache, invalidate
from tutela.consent.notices import text_sha256
from tutela.consent.tables import ledger


def test_give_withdraw_flips_immediately(tutela):
    configure_cache(tutela, staleness_ms=3_600_000)  # only in-process invalidation can help
    create_notice(tutela, "newsletter", "Mail.", actor="op")
    subject = key(tutela, "flip")
    assert not may_process(tutela, subject, "newsletter").allowed
    assert not may_process(tutela, subject, "newsletter").allowed  # cached
    give_consent(tutela, subject, "newsletter", actor="op")
    assert may_process(tutela, subject, "newsletter").allowed
    withdraw_consent(tutela, subject, "newsletter", actor="op")
    assert may_process(tutela, subject, "newsletter").code == "withdrawn"
    give_consent(tutela, subject, "newsletter", actor="op")
    assert may_process(tutela, subject, "newsletter").allowed
    restrict(tutela, subject, kind="objection", purpose="newsletter", reason="request 2", actor="op")
    assert may_process(tutela, subject, "newsletter").code == "objected_direct_marketing"


def test_material_notice_invalidates_cached_consent(sqlite_tutela):
    t = sqlite_tutela
    configure_cache(t, staleness_ms=3_600_000)
    create_notice(t, "newsletter", "Mail v1.", actor="op")
    subject = key(t, "material")
    give_consent(t, subject, "newsletter", actor="op")
    assert may_process(t, subject, "newsletter").allowed
    create_notice(t, "newsletter", "Mail v2, typo fixed.", material=False, actor="op")
    assert may_process(t, subject, "newsletter").allowed
    create_notice(t, "newsletter", "Mail v3: now also SMS.", material=True, actor="op")
    assert may_process(t, subject, "newsletter").code == "stale_consent"


def _insert_behind_our_back(tutela, subject: str, event: str, **extra) -> None:
    """Write a ledger row as another process would (no in-process invalidation)."""
    with tutela.store.engine.begin() as conn:
        conn.execute(ledger.insert().values(
            **extra, subject_key=subject, purpose="newsletter", event=event, notice_id=1, notice_version=1,
            notice_sha256=text_sha256("Mail."), method="api", at=datetime(2026, 6, 1),
            recorded_at=datetime(2026, 6, 1), actor="other-process"))


def test_other_processes_writes_seen_by_watermark(tutela):
    create_notice(tutela, "newsletter", "Mail.", actor="op")
    subject = key(tutela, "elsewhere")
    configure_cache(tutela, staleness_ms=0)  # check the watermark on every call
    assert not may_process(tutela, subject, "newsletter").allowed
    _insert_behind_our_back(tutela, subject, "given")
    assert may_process(tutela, subject, "newsletter").allowed


def test_late_commit_with_a_lower_id_is_noticed(tutela):
    create_notice(tutela, "newsletter", "Mail.", actor="op")
    configure_cache(tutela, staleness_ms=0)
    _insert_behind_our_back(tutela, key(tutela, "early"), "given", id=50)
    late = key(tutela, "late")
    assert not may_process(tutela, late, "newsletter").allowed
    # a transaction that took id 20 commits after the one that took id 50: the highest id stays 50
    _insert_behind_our_back(tutela, late, "given", id=20)
    assert may_process(tutela, late, "newsletter").allowed


def test_staleness_bound_applies_until_the_next_check(sqlite_tutela):
    t = sqlite_tutela
    create_notice(t, "newsletter", "Mail.", actor="op")
    subject = key(t, "bounded")
    configure_cache(t, staleness_ms=3_600_000)
    assert not may_process(t, subject, "newsletter").allowed
    _insert_behind_our_back(t, subject, "given")
    assert not may_process(t, subject, "newsletter").allowed  # within the bound: the cached answer
    invalidate(t)
    assert may_process(t, subject, "newsletter").allowed


def test_new_suppression_seen_after_its_check_interval(tutela, monkeypatch):
    from tutela.consent import decisions
    from tutela.erasure.suppression import add_entries, entry

    create_notice(tutela, "newsletter", "Mail.", actor="op")
    subject = key(tutela, "suppressed-later")
    give_consent(tutela, subject, "newsletter", actor="op")
    monkeypatch.setattr(decisions, "SUPPRESSION_STALENESS_MS", 0)
    configure_cache(tutela, staleness_ms=0)
    assert may_process(tutela, subject, "newsletter").allowed
    with tutela.store.engine.begin() as conn:
        add_entries(tutela, [entry(subject, "email", "unsubscribe", at=datetime(2026, 6, 1))], connection=conn)
    assert may_process(tutela, subject, "newsletter").code == "suppressed"
    assert may_process(tutela, subject, "service").allowed  # suppression stops marketing only
