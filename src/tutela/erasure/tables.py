"""Engine-store tables of the erasure area: the suppression list (R8).

One narrow row per pseudonymised identifier: its keyed hash (``t1:<key id>:<hex>``, the primary key,
so writing the same entry twice is a no-op — the first entry stays), the kind of identifier and
the write it came with. What a write's entries share — why they were suppressed, for which tenant,
from which table, when — is one row of ``tutela_suppression_batch``; the key id is part of the
hash. The raw identifier is never stored; ``is_suppressed`` recomputes the hash under every known key.

Why two tables: a bulk run adds a batch of random hashes per transaction, and on SQLite every commit
rewrites each index page it touched. Rows of about 80 bytes instead of 180 halve the pages each
batch touches (see docs/erasure.md, "The suppression list").
"""

from __future__ import annotations

import sqlalchemy as sa

from tutela.store.tables import metadata

#: why an identifier may never be contacted again
REASONS = ("unsubscribe", "bounce", "erasure", "tenant")

#: one row per write of entries (a bulk batch, a forget, a tenant erasure …); ids only grow
suppression_batch = sa.Table(
    "tutela_suppression_batch",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("reason", sa.String(20), nullable=False),
    sa.Column("tenant", sa.String(100), nullable=True),
    #: ``system.table`` where the identifiers were found, for the authority lookup's report
    sa.Column("source", sa.String(200), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

suppression = sa.Table(
    "tutela_suppression",
    metadata,
    sa.Column("hash", sa.String(80), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("batch", sa.Integer, sa.ForeignKey("tutela_suppression_batch.id"), nullable=False),
    sqlite_with_rowid=False,
)


def entries_select() -> sa.Select:
    """Suppression entries as the reports show them: hash, kind, key_id, reason, tenant, source,
    created_at (add a WHERE on ``suppression.c.hash``)."""
    b = suppression_batch
    return (sa.select(suppression.c.hash, suppression.c.kind, sa.func.substr(suppression.c.hash, 4, 6).label("key_id"),
                      b.c.reason, b.c.tenant, b.c.source, b.c.created_at)
            .join_from(suppression, b, suppression.c.batch == b.c.id))
