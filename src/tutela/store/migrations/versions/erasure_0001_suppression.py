"""The suppression list of pseudonymised identifiers.

Revision ID: erasure_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "erasure_0001"
down_revision = "0001_base"
branch_labels = ("erasure",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tutela_suppression",
        sa.Column("hash", sa.String(80), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key_id", sa.String(6), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("tutela_suppression")
