"""Helpers shared by test modules (import as ``from support import …``; conftest modules are not importable
by name once sub-folders have their own)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from dbs import server_available

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SAMPLE_POLICY = Path(__file__).parent / "policy" / "sample.yaml"
_availability: dict[str, str | None] = {}


def require_server(kind: str) -> None:
    """Skip (or, under CI, fail) when the database server of ``kind`` is unreachable."""
    if kind not in _availability:
        _availability[kind] = server_available(kind)
    reason = _availability[kind]
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)


#: the MariaDB triggers of migration audit_0002, re-created after an intruder's edit
_MARIADB_TRIGGERS = {
    op: f"CREATE TRIGGER tutela_audit_no_{op.lower()} BEFORE {op} ON tutela_audit FOR EACH ROW SIGNAL SQLSTATE "
        "'45000' SET MESSAGE_TEXT = 'tutela_audit is append-only: audit events cannot be changed or deleted'"
    for op in ("UPDATE", "DELETE")}


@contextmanager
def intruder(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction that skips the append-only triggers, as a superuser could (tests play intruder).

    PostgreSQL: ``session_replication_role = replica`` for the transaction; MariaDB: the triggers
    are dropped for the edit and created again after it.
    """
    mariadb = engine.dialect.name in ("mysql", "mariadb")
    if mariadb:
        with engine.connect() as conn:
            for op in _MARIADB_TRIGGERS:
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS tutela_audit_no_{op.lower()}")
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            yield conn
    finally:
        if mariadb:
            with engine.connect() as conn:
                for statement in _MARIADB_TRIGGERS.values():
                    conn.exec_driver_sql(statement)
