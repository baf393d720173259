"""Engine-store tables of the erasure area: the suppression list (R8).

One row per pseudonymised identifier: its keyed hash (``t1:<key id>:<hex>``, the primary key, so
writing the same entry twice is a no-op), the kind of identifier, why it was suppressed and when. The raw
identifier is never stored; ``is_suppressed`` recomputes the hash under every known key.
"""

from __future__ import annotations

import sqlalchemy as sa

from tutela.store.tables import metadata

#: why an identifier may never be contacted again
REASONS = ("unsubscribe", "bounce", "erasure", "tenant")

suppression = sa.Table(
    "tutela_suppression",
    metadata,
    sa.Column("hash", sa.String(80), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("key_id", sa.String(6), nullable=False),
    sa.Column("reason", sa.String(20), nullable=False),
    sa.Column("tenant", sa.String(100), nullable=True),
    #: ``system.table`` where the identifier was found, for the authority lookup's report
    sa.Column("source", sa.String(200), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sqlite_with_rowid=False,
)
