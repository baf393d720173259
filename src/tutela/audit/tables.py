"""The audit chain and its signed head, on the engine store's ``metadata``.

``tutela_audit`` holds one row per event, hash-chained by ``prev_hash``; ``tutela_audit_head`` holds
exactly one row (id 1): the last sequence number and hash, signed with the keyring's Ed25519 key,
so that cutting events off the end of the chain is detected.
"""

from __future__ import annotations

import sqlalchemy as sa

from tutela.store.tables import metadata

#: seq is the rowid on SQLite (fast ordered scans) and a BIGINT elsewhere.
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: hash of "no event before": prev_hash of event 1 and the hash of an empty chain's head.
GENESIS = "0" * 64

audit_events = sa.Table(
    "tutela_audit",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=False),
    # UTC, fixed-width ISO 8601 text (YYYY-MM-DDTHH:MM:SS.ffffffZ): hashed exactly as stored,
    # identical on every database, and ordered correctly by text comparison.
    sa.Column("at", sa.String(27), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("subject", sa.String(100), nullable=True),
    sa.Column("tenant", sa.String(100), nullable=True),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_tutela_audit_subject", "subject"),
    sa.Index("ix_tutela_audit_at", "at"),
)

audit_head = sa.Table(
    "tutela_audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", Seq, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(6), nullable=True),
    sa.Column("signature", sa.String(100), nullable=True),
)
