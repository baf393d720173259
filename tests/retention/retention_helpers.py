"""Helpers for retention tests: a policy file over a throwaway database, and a table filled with rows."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
import yaml

from tutela.crypto.keyring import Keyring
from tutela.engine import Tutela
from tutela.policy import load_policy
from tutela.store import Store

#: The moment the tests pretend it is (naive UTC, like the columns).
NOW = datetime(2025, 6, 15, 12, 0, 0)


def write_policy(directory: Path, url: str, tables: dict, *, store: str | None = None,
                 batch_size: int = 5000) -> Path:
    """Write a policy with one system ``app`` at ``url`` holding ``tables``; return its path."""
    doc = {
        "version": 1,
        "controller": {"name": "Test Controller", "contact": "privacy@example.test"},
        "engine": {"store": store or f"sqlite:///{directory / 'store.db'}", "keyring": "tutela.key",
                   "batch_size": batch_size},
        "purposes": {"service": {"description": "Run the service", "basis": "contract"}},
        "systems": {"app": {"url": url, "tables": tables}},
    }
    path = directory / "tutela.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    if not (directory / "tutela.key").exists():
        Keyring.create(directory / "tutela.key")
    return path


def open_engine(policy_path: Path) -> Tutela:
    """A Tutela on the policy, with its store migrated."""
    policy = load_policy(policy_path)
    tutela = Tutela(policy, store=Store(policy.engine.store), actor="test")
    tutela.migrate()
    return tutela


def current_time() -> datetime:
    """The real current time as naive UTC (for tests that run the worker or the CLI)."""
    return datetime.now(UTC).replace(tzinfo=None)


def sessions_table(metadata: sa.MetaData, name: str = "sessions") -> sa.Table:
    """A table like Flussu's workflow sessions: id, status, created_at, email, note."""
    return sa.Table(
        name, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False, index=True),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("note", sa.String(200), nullable=True),
    )


def fill(url: str, rows: list[dict], name: str = "sessions") -> sa.Table:
    """Create the sessions table at ``url`` and insert ``rows`` (in chunks)."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    table = sessions_table(metadata, name)
    metadata.create_all(engine)
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(sa.insert(table), rows[start:start + 5000])
    engine.dispose()
    return table


def rows_aged(ages: list[timedelta], *, status: str = "completed", start_id: int = 1,
              now: datetime = NOW) -> list[dict]:
    """Rows created ``age`` before ``now``, one per age, with a made-up e-mail each."""
    return [{"id": start_id + i, "status": status, "created_at": now - age,
             "email": f"user{start_id + i}@example.test", "note": f"note {start_id + i}"}
            for i, age in enumerate(ages)]


def table_rows(url: str, name: str = "sessions") -> list[tuple]:
    """Every row of the table, ordered by id, as plain tuples."""
    engine = sa.create_engine(url)
    table = sa.Table(name, sa.MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.select(table).order_by(table.c.id))]
    engine.dispose()
    return rows


def checksum(rows: list[tuple]) -> str:
    """A SHA-256 over the rows' text form (to prove surviving rows did not change)."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(tuple(str(v) for v in row)).encode())
    return digest.hexdigest()
