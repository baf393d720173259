"""Every kind of tampering with the stored chain is detected, and the first bad event is named."""

import pytest
import sqlalchemy as sa

from tutela.audit import AuditEvent
from tutela.audit.log import event_hash
from tutela.audit.tables import audit_events

SUBJECT = "t1:abcdef:" + "2" * 64
COLUMNS = ("at", "actor", "action", "subject", "tenant", "details", "prev_hash", "hash")


@pytest.fixture
def chain(log):
    """Five events; event 3 has every column filled, event 4 has no subject and no tenant."""
    log.append_many([
        AuditEvent("request.created", "api", SUBJECT, "acme", {"request_id": "r-1"}),
        AuditEvent("request.verified", "api", SUBJECT, "acme", {"request_id": "r-1"}),
        AuditEvent("erasure.forget", "dpo", SUBJECT, "acme", {"rows": 12, "tables": ["users", "logs"]}),
        AuditEvent("retention.run", "worker", None, None, {"rule": "logs", "rows": 40}),
        AuditEvent("consent.given", "api", SUBJECT, "beta", {"purpose": "newsletter"}),
    ])
    assert log.verify().ok
    return log


def rows(log) -> dict[int, sa.Row]:
    with log.store.engine.connect() as conn:
        return {r.seq: r for r in conn.execute(sa.text("SELECT * FROM tutela_audit ORDER BY seq"))}


def assert_detected(log, seq: int, words: str = ""):
    result = log.verify()
    assert not result.ok
    assert result.first_bad_seq == seq, result
    assert words in result.problem


@pytest.mark.parametrize("column", COLUMNS)
def test_editing_any_column_of_an_event_is_detected(chain, column, execute):
    new = {"at": "2026-01-01T00:00:00.000000Z", "details": '{"rows":0}', "prev_hash": "f" * 64,
           "hash": "e" * 64}.get(column, "changed")
    execute(chain, audit_events.update().where(audit_events.c.seq == 3).values({column: new}))
    assert_detected(chain, 3)


@pytest.mark.parametrize("column", ["subject", "tenant"])
def test_setting_an_empty_column_or_emptying_one_is_detected(chain, column, execute):
    execute(chain, audit_events.update().where(audit_events.c.seq == 4).values({column: "x"}))
    assert_detected(chain, 4)
    execute(chain, audit_events.update().where(audit_events.c.seq.in_([3, 4])).values({column: None}))
    assert_detected(chain, 3)


@pytest.mark.parametrize("value", ["", "-", "+", "\x00"])
def test_replacing_a_missing_subject_by_a_marker_like_value_is_detected(chain, execute, value):
    if value == "\x00" and chain.store.dialect == "postgresql":
        pytest.skip("PostgreSQL text cannot hold NUL")
    execute(chain, audit_events.update().where(audit_events.c.seq == 4).values(subject=value))
    assert_detected(chain, 4)


def test_a_one_character_edit_in_details_is_detected(chain, execute):
    execute(chain, "UPDATE tutela_audit SET details = :v WHERE seq = 3",
            v=rows(chain)[3].details.replace("12", "13"))
    assert_detected(chain, 3, "changed")


@pytest.mark.parametrize("seq, words", [(1, "missing"), (3, "missing"), (5, "cut off")])
def test_deleting_the_first_a_middle_or_the_last_event_is_detected(chain, seq, words, execute):
    execute(chain, "DELETE FROM tutela_audit WHERE seq = :s", s=seq)
    assert_detected(chain, seq, words)


def test_cutting_off_the_tail_is_detected(chain, execute):
    execute(chain, "DELETE FROM tutela_audit WHERE seq >= 4")
    assert_detected(chain, 4, "events 4 to 5 are missing")


def test_swapping_two_events_is_detected(chain, execute):
    stored = rows(chain)
    for target, source in ((2, 3), (3, 2)):
        row = stored[source]
        execute(chain, "UPDATE tutela_audit SET at=:at, actor=:actor, action=:action, subject=:subject, "
                       "tenant=:tenant, details=:details, prev_hash=:prev_hash, hash=:hash WHERE seq=:seq",
                at=row.at, actor=row.actor, action=row.action, subject=row.subject, tenant=row.tenant,
                details=row.details, prev_hash=row.prev_hash, hash=row.hash, seq=target)
    assert_detected(chain, 2)


def test_moving_an_event_to_another_position_is_detected(chain, execute):
    execute(chain, "UPDATE tutela_audit SET seq = 99 WHERE seq = 2")
    assert_detected(chain, 2, "missing")


def test_rewriting_an_event_with_a_recomputed_hash_is_detected(chain, execute):
    row = rows(chain)[3]
    forged = event_hash(3, row.at, row.actor, row.action, row.subject, row.tenant, '{"rows":0}', row.prev_hash)
    execute(chain, "UPDATE tutela_audit SET details=:d, hash=:h WHERE seq=3", d='{"rows":0}', h=forged)
    assert_detected(chain, 3, "replaced")


def test_rewriting_the_last_event_with_a_recomputed_hash_is_caught_by_the_head(chain, execute):
    row = rows(chain)[5]
    forged = event_hash(5, row.at, "someone", row.action, row.subject, row.tenant, row.details, row.prev_hash)
    execute(chain, "UPDATE tutela_audit SET actor='someone', hash=:h WHERE seq=5", h=forged)
    assert_detected(chain, 5, "signed head")


def test_an_event_added_without_the_head_is_detected(chain, execute):
    last = rows(chain)[5]
    at = last.at
    digest = event_hash(6, at, "intruder", "consent.given", None, None, "{}", last.hash)
    execute(chain, "INSERT INTO tutela_audit (seq, at, actor, action, subject, tenant, details, prev_hash, hash) "
                   "VALUES (6, :at, 'intruder', 'consent.given', NULL, NULL, '{}', :prev, :h)",
            at=at, prev=last.hash, h=digest)
    assert_detected(chain, 6, "not covered by the signed head")


def test_moving_the_head_back_to_hide_a_cut_is_detected(chain, execute):
    row = rows(chain)[3]
    execute(chain, "DELETE FROM tutela_audit WHERE seq > 3")
    execute(chain, "UPDATE tutela_audit_head SET seq = 3, hash = :h", h=row.hash)
    assert_detected(chain, 3, "forged")


def test_removing_the_head_signature_is_detected(chain, execute):
    execute(chain, "UPDATE tutela_audit_head SET signature = NULL")
    assert_detected(chain, 5, "no signature")


def test_deleting_the_head_is_detected(chain, execute):
    execute(chain, "DELETE FROM tutela_audit_head")
    assert_detected(chain, 1, "missing")


def test_wiping_all_events_but_keeping_the_head_is_detected(chain, execute):
    execute(chain, "DELETE FROM tutela_audit")
    assert_detected(chain, 1, "events 1 to 5 are missing")


def test_appending_after_tampering_does_not_hide_it(chain, execute):
    execute(chain, "UPDATE tutela_audit SET actor = 'x' WHERE seq = 2")
    chain.record("request.created", actor="api")
    assert_detected(chain, 2)
