"""Audit fixtures: one migrated engine store per database kind, reset to an empty chain per test."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tutela.audit import AuditLog
from tutela.audit.tables import GENESIS, audit_events, audit_head
from tutela.crypto.keyring import Keyring
from tutela.store import Store

from dbs import KINDS, fresh_database
from support import intruder, require_server


@pytest.fixture(scope="module", params=KINDS)
def migrated_store(request, tmp_path_factory):
    """A migrated engine store of each kind, shared by a module's tests (migrations are slow)."""
    require_server(request.param)
    with fresh_database(request.param, tmp_path_factory.mktemp(request.param)) as url:
        store = Store(url)
        store.migrate()
        yield store
        store.dispose()


@pytest.fixture
def log(migrated_store) -> AuditLog:
    """An empty audit log (rows deleted, head reset) with a fresh keyring."""
    with intruder(migrated_store.engine) as conn:
        conn.execute(audit_events.delete())
        conn.execute(audit_head.delete())
        conn.execute(audit_head.insert().values(id=1, seq=0, hash=GENESIS, key_id=None, signature=None))
    return AuditLog(migrated_store, Keyring.generate())


@pytest.fixture
def execute():
    """Run SQL against the store directly, as an intruder with database (superuser) access would."""

    def run(log: AuditLog, statement: str | sa.Executable, **params) -> None:
        with intruder(log.store.engine) as conn:
            conn.execute(sa.text(statement) if isinstance(statement, str) else statement, params)

    return run
