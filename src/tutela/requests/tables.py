"""Engine-store tables of data-subject requests: the requests and the history of their transitions.

Identities are stored as the subject's pseudonym (keyed hash, the key used everywhere else in
the store) plus, only while the request is open, the raw identities AES-GCM encrypted with the
keyring's encryption key; they are wiped when the request completes or is rejected.
"""

from __future__ import annotations

import sqlalchemy as sa

from tutela.store.tables import metadata

requests = sa.Table(
    "tutela_requests",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(100), nullable=True),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("subject_type", sa.String(100), nullable=False),
    sa.Column("identity_kind", sa.String(20), nullable=False),
    sa.Column("subject_pseudonym", sa.String(100), nullable=False),
    #: nonce + AES-GCM ciphertext of the raw identities and payload; NULL once the request is closed
    sa.Column("sealed", sa.LargeBinary, nullable=True),
    sa.Column("purpose", sa.String(100), nullable=True),
    sa.Column("source", sa.String(30), nullable=False, server_default="operator"),
    sa.Column("received_at", sa.DateTime, nullable=False),
    sa.Column("legal_due", sa.Date, nullable=False),
    sa.Column("sla_due", sa.DateTime, nullable=False),
    sa.Column("extended", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("extension_reason", sa.Text, nullable=True),
    sa.Column("verified_at", sa.DateTime, nullable=True),
    sa.Column("verification", sa.String(20), nullable=True),  # code | operator
    sa.Column("code_hash", sa.String(200), nullable=True),
    sa.Column("code_expires_at", sa.DateTime, nullable=True),
    sa.Column("code_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("completed_at", sa.DateTime, nullable=True),
    sa.Column("result", sa.JSON, nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Index("ix_tutela_requests_tenant_status", "tenant", "status"),
    sa.Index("ix_tutela_requests_subject_pseudonym", "subject_pseudonym"),
    sa.Index("ix_tutela_requests_legal_due", "legal_due"),
)

request_history = sa.Table(
    "tutela_request_history",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(36), sa.ForeignKey("tutela_requests.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("from_status", sa.String(20), nullable=True),
    sa.Column("to_status", sa.String(20), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Index("ix_tutela_request_history_request_id", "request_id"),
)
