"""Bulk pseudonymisation, suppression lists, authority lookup and tenant erasure on all databases."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "subjects"))

from world import (  # noqa: E402
    answers,
    bookings,
    checksum,
    create_schema,
    end_users,
    ledger,
    make_tutela,
    newsletter_contacts,
    populate,
    rows,
    system_logs,
)

from tutela.crypto.hashing import keyed_hash, md5_compat  # noqa: E402
from tutela.erasure.lookup import lookup_identity  # noqa: E402
from tutela.erasure.pseudonymize import plan_bulk, pseudonymize  # noqa: E402
from tutela.erasure.suppression import filter_mailing_list, is_suppressed  # noqa: E402
from tutela.erasure.tenant import erase_tenant, tenant_counts  # noqa: E402
from tutela.errors import InvalidInput, NotFound  # noqa: E402

WHERE = "status=unsubscribed,bounced"


@pytest.fixture
def app(db_url, store_url, tmp_path):
    engine = create_schema(db_url)
    populate(engine, users=12)
    tutela = make_tutela(db_url, store_url, tmp_path, batch=4)
    yield tutela, engine
    tutela.close()
    engine.dispose()


def test_bulk_pseudonymize_exactly_the_matching_rows(app):
    tutela, engine = app
    targets = newsletter_contacts.c.status.in_(["unsubscribed", "bounced"])
    untouched = checksum(engine, newsletter_contacts, ~targets)
    before = {t.name: checksum(engine, t) for t in (end_users, bookings, answers, system_logs, ledger)}
    assert plan_bulk(tutela, "newsletter_contacts", WHERE).pending == 8
    seen = []
    result = pseudonymize(tutela, "newsletter_contacts", WHERE, actor="test", progress=seen.append)
    assert result.total == 8 and sum(seen) == 8 and len(seen) == 2  # batches of 4
    for row in rows(engine, newsletter_contacts, targets):
        assert row["email"] == keyed_hash(tutela.keyring, "email", f"user{row['id']}@example.org")
        assert row["first_name"] is None
        assert row["country"] == "DE"
        assert row["status"] in ("unsubscribed", "bounced")
    assert checksum(engine, newsletter_contacts, ~targets) == untouched
    assert {t.name: checksum(engine, t) for t in (end_users, bookings, answers, system_logs, ledger)} == before
    assert is_suppressed(tutela, "email", "user1@example.org")  # 1 % 3 == 1: unsubscribed
    assert not is_suppressed(tutela, "email", "user3@example.org")  # subscribed
    assert result.suppressed == 8
    events = tutela.audit.query(action="erasure.pseudonymize")
    assert len(events) == 1 and events[0].details["rows"] == 8


def test_bulk_pseudonymize_twice_changes_nothing(app):
    tutela, engine = app
    pseudonymize(tutela, "newsletter_contacts", WHERE, actor="test")
    after = checksum(engine, newsletter_contacts)
    assert plan_bulk(tutela, "newsletter_contacts", WHERE).pending == 0
    again = pseudonymize(tutela, "newsletter_contacts", WHERE, actor="test")
    assert again.total == 0
    assert checksum(engine, newsletter_contacts) == after


def test_dry_run_counts_and_changes_nothing(app):
    tutela, engine = app
    before = checksum(engine, newsletter_contacts)
    result = pseudonymize(tutela, "newsletter_contacts", WHERE, actor="test", dry_run=True)
    assert result.dry_run and result.counts == {"app.newsletter_contacts": 8}
    assert checksum(engine, newsletter_contacts) == before
    assert not is_suppressed(tutela, "email", "user1@example.org")


@pytest.mark.parametrize("table, where, error, message", [
    ("newsletter_contacts", "colour=red", InvalidInput, "colour"),
    ("newsletter_contacts", "status", InvalidInput, "not a comparison"),
    ("nowhere", WHERE, NotFound, "not declared"),
])
def test_bulk_bad_input_changes_nothing(app, table, where, error, message):
    tutela, engine = app
    before = checksum(engine, newsletter_contacts)
    with pytest.raises(error, match=message):
        pseudonymize(tutela, table, where, actor="test")
    assert checksum(engine, newsletter_contacts) == before


def test_suppressed_list_filter(app, tmp_path):
    tutela, _ = app
    pseudonymize(tutela, "newsletter_contacts", WHERE, actor="test")
    source = tmp_path / "list.csv"
    source.write_text("name,email\nA,User1@example.org\nB,user3@example.org\nC,broken\nD,user2@example.org\n")
    out = tmp_path / "ok.csv"
    result = filter_mailing_list(tutela, source, out)
    assert (result.total, result.suppressed, result.invalid, result.contactable) == (4, 2, 1, 1)
    assert out.read_text().splitlines() == ["name,email", "B,user3@example.org"]


def test_authority_lookup_finds_pseudonymised_records_and_is_audited(app):
    tutela, engine = app
    pseudonymize(tutela, "newsletter_contacts", WHERE, actor="test")
    with engine.begin() as conn:  # a record hashed by an older tool (plain MD5)
        conn.execute(system_logs.update().where(system_logs.c.id == 1)
                     .values(user_email=md5_compat("email", "user1@example.org")))
    report = lookup_identity(tutela, "email", " User1@Example.org", actor="dpo")
    tables = sorted((r["table"], r["matched"].split(" ")[0]) for r in report.records)
    assert tables == [("newsletter_contacts", "keyed"), ("system_logs", "MD5")]
    assert report.suppression[0]["reason"] == "unsubscribe"
    assert any(e["action"] == "erasure.lookup" for e in [x.as_dict() for x in tutela.audit.query()])
    lookups = tutela.audit.query(action="erasure.lookup", subject=report.pseudonym)
    assert len(lookups) == 1 and "example.org" not in str(lookups[0].details)


def test_lookup_after_key_rotation_uses_every_key(app):
    tutela, _ = app
    pseudonymize(tutela, "newsletter_contacts", WHERE, actor="test")
    tutela.keyring.rotate()
    report = lookup_identity(tutela, "email", "user1@example.org", actor="dpo")
    assert [r["table"] for r in report.records] == ["newsletter_contacts"]
    assert is_suppressed(tutela, "email", "user1@example.org")


def test_lookup_of_malformed_identifier(app):
    tutela, _ = app
    with pytest.raises(InvalidInput):
        lookup_identity(tutela, "email", "nope", actor="dpo")


def test_tenant_erasure_removes_only_that_tenant(app):
    tutela, engine = app
    keep = {t.name: checksum(engine, t, t.c.tenant_id != "acme") for t in (end_users, bookings, answers, system_logs)}
    counts = tenant_counts(tutela, "acme")
    assert counts["app.end_users"] == 6 and counts["app.answers"] == 24
    result = erase_tenant(tutela, "acme", actor="test", batch_size=5)
    assert result.counts == counts
    assert tenant_counts(tutela, "acme") == {}
    assert {t.name: checksum(engine, t) for t in (end_users, bookings, answers, system_logs)} == keep
    assert rows(engine, ledger)  # no tenant column: untouched
    assert result.receipt["tenant"] == "acme"
    assert tutela.audit.query(action="erasure.tenant", tenant="acme")


def test_batches_sized_by_time_unless_a_size_is_given(db_url, store_url, tmp_path, monkeypatch):
    """No batch size in the policy: batches grow while they take less than the target; a size
    given (argument or policy) keeps every batch that size."""
    from world import policy_text

    import tutela.erasure.pseudonymize as bulk

    engine = create_schema(db_url)
    populate(engine, users=30)  # 20 unsubscribed or bounced
    text = policy_text(db_url, store_url).replace(", batch_size: 5000", "")
    tutela = make_tutela(db_url, store_url, tmp_path, text=text)
    sizers = []
    original = bulk._batch_sizer

    def small_start(*args):
        sizer = original(*args)
        if sizer.minimum != sizer.maximum:  # adaptive: start at 2 so the growth shows on 20 rows
            sizer.size = sizer.minimum = 2
        sizers.append(sizer)
        return sizer
    monkeypatch.setattr(bulk, "_batch_sizer", small_start)
    monkeypatch.setattr(bulk, "DEFAULT_TARGET_SECONDS", 60.0)
    monkeypatch.setitem(bulk.TARGET_SECONDS, "sqlite", 60.0)
    try:
        seen: list[int] = []
        result = pseudonymize(tutela, "newsletter_contacts", WHERE, actor="test", progress=seen.append)
        assert result.total == 20 and seen == [2, 6, 12]  # x3 while far under the target
        hashed = {r["email"] for r in rows(engine, newsletter_contacts,
                                           newsletter_contacts.c.status.in_(["unsubscribed", "bounced"]))}
        assert len(hashed) == 20 and all(h.startswith("t1:") for h in hashed)
        with pytest.raises(InvalidInput, match="1 or more"):
            pseudonymize(tutela, "newsletter_contacts", WHERE, actor="test", batch_size=0)
    finally:
        tutela.close()
    fixed = make_tutela(db_url, store_url, tmp_path, batch=7)  # written in the policy
    try:
        assert bulk._batch_sizer(fixed, None, 0.001).size == 7
        sizer = bulk._batch_sizer(fixed, 3, 0.001)  # the argument wins
        sizer.record(3, 5.0)  # far over the target: a fixed size stays
        assert sizer.size == 3
    finally:
        fixed.close()
        engine.dispose()
