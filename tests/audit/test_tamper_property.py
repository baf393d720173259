"""Property: any single-column edit of any event is caught, and the event is named (SQLite)."""

from __future__ import annotations

import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tutela.audit import AuditEvent, AuditLog
from tutela.audit.tables import audit_events
from tutela.crypto.keyring import Keyring
from tutela.store import Store

EVENTS = 12
KEYRING = Keyring.generate()
TEXT_COLUMNS = ("at", "actor", "action", "subject", "tenant", "details", "prev_hash", "hash")


@given(seq=st.integers(1, EVENTS), column=st.sampled_from(TEXT_COLUMNS),
       value=st.one_of(st.none(), st.text(max_size=30)))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_single_edit_is_detected_at_that_event(tmp_path, seq, column, value):
    assume(value is not None or column in ("subject", "tenant"))  # the others are NOT NULL
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(url)
    if not sa.inspect(store.engine).has_table("tutela_audit"):
        store.migrate()
        AuditLog(store, KEYRING).append_many(
            AuditEvent("request.created", f"actor{i}", None if i % 3 else f"t1:abcdef:{i:064x}",
                       None if i % 4 else "acme", {"i": i}) for i in range(EVENTS))
    c = audit_events.c
    with store.engine.begin() as conn:
        original = conn.execute(sa.select(c[column]).where(c.seq == seq)).scalar()
    assume(value != original)
    try:
        with store.engine.begin() as conn:
            conn.execute(sa.update(audit_events).where(c.seq == seq).values({column: value}))
        result = AuditLog(store, KEYRING).verify()
        assert not result.ok
        assert result.first_bad_seq == seq
    finally:
        with store.engine.begin() as conn:
            conn.execute(sa.update(audit_events).where(c.seq == seq).values({column: original}))
        store.dispose()
    assert AuditLog(store, KEYRING).verify().ok

