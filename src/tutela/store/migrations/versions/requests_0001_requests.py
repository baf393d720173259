"""Data-subject requests and their transition history.

Revision ID: requests_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "requests_0001"
down_revision = "0001_base"
branch_labels = ("requests",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tutela_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("subject_type", sa.String(100), nullable=False),
        sa.Column("identity_kind", sa.String(20), nullable=False),
        sa.Column("subject_pseudonym", sa.String(100), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=True),
        sa.Column("purpose", sa.String(100), nullable=True),
        sa.Column("source", sa.String(30), nullable=False, server_default="operator"),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("legal_due", sa.Date, nullable=False),
        sa.Column("sla_due", sa.DateTime, nullable=False),
        sa.Column("extended", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("extension_reason", sa.Text, nullable=True),
        sa.Column("verified_at", sa.DateTime, nullable=True),
        sa.Column("verification", sa.String(20), nullable=True),
        sa.Column("code_hash", sa.String(200), nullable=True),
        sa.Column("code_expires_at", sa.DateTime, nullable=True),
        sa.Column("code_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("completed_at", sa.DateTime, nullable=True),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_tutela_requests_tenant_status", "tutela_requests", ["tenant", "status"])
    op.create_index("ix_tutela_requests_subject_pseudonym", "tutela_requests", ["subject_pseudonym"])
    op.create_index("ix_tutela_requests_legal_due", "tutela_requests", ["legal_due"])
    op.create_table(
        "tutela_request_history",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(36), sa.ForeignKey("tutela_requests.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_tutela_request_history_request_id", "tutela_request_history", ["request_id"])


def downgrade() -> None:
    op.drop_table("tutela_request_history")
    op.drop_table("tutela_requests")
