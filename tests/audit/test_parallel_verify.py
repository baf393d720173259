"""Verifying on several processes finds exactly what verifying in one process finds."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from tutela.audit import AuditEvent
from tutela.audit.canonical import event_hash
from tutela.audit.tables import audit_events

# Three workers split 90 events into 1-30 (this process), 31-60 and 61-90 (worker processes).
EVENTS, WORKERS = 90, 3


def _rewrite_30_with_a_recomputed_hash(log, execute):
    with log.store.engine.connect() as conn:
        row = conn.execute(sa.select(audit_events).where(audit_events.c.seq == 30)).one()
    digest = event_hash(30, row.at, "intruder", row.action, row.subject, row.tenant, row.details, row.prev_hash)
    execute(log, audit_events.update().where(audit_events.c.seq == 30).values(actor="intruder", hash=digest))


def _swap_60_and_61(log, execute):
    execute(log, "UPDATE tutela_audit SET seq = 1000 WHERE seq = 60")
    execute(log, "UPDATE tutela_audit SET seq = 60 WHERE seq = 61")
    execute(log, "UPDATE tutela_audit SET seq = 61 WHERE seq = 1000")


CASES = {
    "intact": (lambda log, execute: None, None),
    "edit in a worker's stretch": (
        lambda log, execute: execute(log, "UPDATE tutela_audit SET actor = 'x' WHERE seq = 45"), 45),
    "delete a stretch's first event": (
        lambda log, execute: execute(log, "DELETE FROM tutela_audit WHERE seq = 31"), 31),
    "delete a stretch's last event": (
        lambda log, execute: execute(log, "DELETE FROM tutela_audit WHERE seq = 30"), 30),
    "rewrite across a boundary": (_rewrite_30_with_a_recomputed_hash, 30),
    "swap across a boundary": (_swap_60_and_61, 60),
    "cut the tail": (lambda log, execute: execute(log, "DELETE FROM tutela_audit WHERE seq >= 85"), 85),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_parallel_and_serial_verification_agree(log, execute, case):
    log.append_many(AuditEvent("request.created", "api", details={"i": i}) for i in range(EVENTS))
    tamper, first_bad = CASES[case]
    tamper(log, execute)
    serial = log.verify(workers=1)
    parallel = log.verify(workers=WORKERS)
    assert parallel == serial
    assert parallel.ok is (first_bad is None)
    assert parallel.first_bad_seq == first_bad
    if first_bad is None:
        assert parallel.checked == EVENTS


def test_large_logs_use_several_processes_and_small_ones_one():
    from tutela.audit.chain import MAX_WORKERS, PARALLEL_MIN, default_workers

    assert default_workers(PARALLEL_MIN - 1) == 1
    assert default_workers(PARALLEL_MIN) == max(1, min(os.cpu_count() or 1, MAX_WORKERS))
