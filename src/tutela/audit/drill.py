"""A tamper drill: prove on a throwaway copy that the audit log catches an edited event.

The SQLite engine store is copied with SQLite's online backup (consistent while others write),
one event in the middle of the copy is edited the way an intruder with database access would,
and the copy is verified. The real store is never touched.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from tutela.audit.events import VerifyResult
from tutela.audit.log import AuditLog
from tutela.audit.tables import audit_events
from tutela.crypto.keyring import Keyring
from tutela.errors import Conflict
from tutela.store import Store


@dataclass(frozen=True)
class DrillResult:
    """Which event the drill edited in the copy, and what verification of the copy found."""

    edited_seq: int
    result: VerifyResult

    @property
    def detected(self) -> bool:
        return not self.result.ok and self.result.first_bad_seq == self.edited_seq


def tamper_drill(store: Store, keyring: Keyring) -> DrillResult:
    """Edit the middle event of a copy of the (SQLite) store and verify the copy."""
    if store.dialect != "sqlite" or not store.engine.url.database:
        raise Conflict("the tamper drill copies a SQLite store file; this store is not one")
    with tempfile.TemporaryDirectory(prefix="tutela-drill-") as tmp:
        copy = Path(tmp) / "store-copy.db"
        with sqlite3.connect(store.engine.url.database) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        copy_store = Store(f"sqlite:///{copy}")
        try:
            log = AuditLog(copy_store, keyring)
            count = log.count()
            if count == 0:
                raise Conflict("the audit log is empty: there is no event to tamper with")
            edited = (count + 1) // 2
            with copy_store.engine.begin() as conn:
                conn.execute(sa.update(audit_events).where(audit_events.c.seq == edited)
                             .values(actor="intruder"))
            return DrillResult(edited, log.verify())
        finally:
            copy_store.dispose()
