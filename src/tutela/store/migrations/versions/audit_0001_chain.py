"""Audit: the hash-chained event log and its signed head (one row, id 1).

On PostgreSQL a trigger also refuses UPDATE, DELETE and TRUNCATE of events: the chain already makes
any change evident; the trigger stops a careless SQL session from making one in the first place.

Revision ID: audit_0001_chain
"""

import sqlalchemy as sa
from alembic import op

revision = "audit_0001_chain"
down_revision = "0001_base"
branch_labels = ("audit",)
depends_on = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "tutela_audit",
        sa.Column("seq", Seq, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(27), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(100), nullable=True),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_tutela_audit"),
    )
    op.create_index("ix_tutela_audit_subject", "tutela_audit", ["subject"])
    op.create_index("ix_tutela_audit_at", "tutela_audit", ["at"])
    head = op.create_table(
        "tutela_audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", Seq, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(6), nullable=True),
        sa.Column("signature", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tutela_audit_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS, "key_id": None, "signature": None}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION tutela_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'tutela_audit is append-only: audit events cannot be changed or deleted';
            END $$
            """
        )
        op.execute("CREATE TRIGGER tutela_audit_no_change BEFORE UPDATE OR DELETE ON tutela_audit "
                   "FOR EACH ROW EXECUTE FUNCTION tutela_audit_append_only()")
        op.execute("CREATE TRIGGER tutela_audit_no_truncate BEFORE TRUNCATE ON tutela_audit "
                   "FOR EACH STATEMENT EXECUTE FUNCTION tutela_audit_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS tutela_audit_no_truncate ON tutela_audit")
        op.execute("DROP TRIGGER IF EXISTS tutela_audit_no_change ON tutela_audit")
        op.execute("DROP FUNCTION IF EXISTS tutela_audit_append_only()")
    op.drop_table("tutela_audit_head")
    op.drop_index("ix_tutela_audit_at", "tutela_audit")
    op.drop_index("ix_tutela_audit_subject", "tutela_audit")
    op.drop_table("tutela_audit")
