"""The engine-store table of OpenDSR status callbacks."""

from __future__ import annotations

import sqlalchemy as sa

from tutela.store.tables import metadata

callbacks = sa.Table(
    "tutela_opendsr_callbacks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(36), nullable=False, index=True),
    sa.Column("tenant", sa.String(100), nullable=True),
    sa.Column("url", sa.String(2000), nullable=False),
    #: our status last delivered to this URL (NULL: none yet)
    sa.Column("delivered_status", sa.String(20), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.String(200), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)
