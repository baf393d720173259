"""The engine-store table of API keys (only a hash of each secret is kept)."""

from __future__ import annotations

import sqlalchemy as sa

from tutela.store.tables import metadata

api_keys = sa.Table(
    "tutela_api_keys",
    metadata,
    #: the public, non-secret part of a key (``tk_<key_id>_<secret>``), used to find its row
    sa.Column("key_id", sa.String(32), primary_key=True),
    #: argon2id hash of the whole presented key
    sa.Column("secret_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("tenant", sa.String(100), nullable=True),
    sa.Column("label", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)
