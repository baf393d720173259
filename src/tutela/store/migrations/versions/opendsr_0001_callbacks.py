"""OpenDSR status callbacks.

Revision ID: opendsr_0001_callbacks
"""

import sqlalchemy as sa
from alembic import op

revision = "opendsr_0001_callbacks"
down_revision = "0001_base"
branch_labels = ("opendsr",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tutela_opendsr_callbacks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("delivered_status", sa.String(20), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_tutela_opendsr_callbacks_request_id", "tutela_opendsr_callbacks", ["request_id"])


def downgrade() -> None:
    op.drop_table("tutela_opendsr_callbacks")
