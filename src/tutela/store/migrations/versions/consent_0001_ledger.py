"""Consent: notices, the append-only ledger, restriction/objection records.

Triggers refuse UPDATE and DELETE on all three tables (on PostgreSQL also TRUNCATE), so the
history that proves consent (Art. 7(1)) cannot be rewritten even by a careless SQL session. The
PostgreSQL trigger is the guarantee the documentation promises; SQLite and MariaDB get the same
refusal as a safety net (MariaDB's TRUNCATE, being DDL, bypasses triggers there).

Revision ID: consent_0001_ledger
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "consent_0001_ledger"
down_revision = "0001_base"
branch_labels = ("consent",)
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = ("tutela_consent_notices", "tutela_consent_ledger", "tutela_consent_restrictions")


def upgrade() -> None:
    op.create_table(
        "tutela_consent_notices",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("material", sa.Boolean, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("purpose", "version", name="uq_tutela_consent_notices_purpose_version"),
    )
    op.create_table(
        "tutela_consent_ledger",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("subject_key", sa.String(100), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("event", sa.String(10), nullable=False),
        sa.Column("notice_id", sa.Integer, nullable=True),
        sa.Column("notice_version", sa.Integer, nullable=True),
        sa.Column("notice_sha256", sa.String(64), nullable=True),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("collection_point", sa.String(200), nullable=True),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("recorded_at", Timestamp, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("declared_age", sa.Integer, nullable=True),
        sa.Column("declared_country", sa.String(2), nullable=True),
        sa.Column("parent_holder_sealed", sa.LargeBinary, nullable=True),
        sa.Column("parent_relationship", sa.String(50), nullable=True),
        sa.Column("parent_verification", sa.String(100), nullable=True),
        sa.Column("identity_sealed", sa.LargeBinary, nullable=True),
    )
    op.create_index("ix_tutela_consent_ledger_subject", "tutela_consent_ledger",
                    ["subject_key", "purpose", "at"])
    op.create_index("ix_tutela_consent_ledger_purpose", "tutela_consent_ledger", ["purpose", "at"])
    op.create_table(
        "tutela_consent_restrictions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("subject_key", sa.String(100), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("purpose", sa.String(100), nullable=True),
        sa.Column("event", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
    )
    op.create_index("ix_tutela_consent_restrictions_subject", "tutela_consent_restrictions",
                    ["subject_key", "kind"])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            """
            CREATE FUNCTION tutela_consent_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'table % is append-only: % is refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
    for table in APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            name = f"{table}_no_{operation.lower()}"
            message = f"table {table} is append-only: {operation} is refused"
            if dialect == "postgresql":
                op.execute(f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                           "FOR EACH ROW EXECUTE FUNCTION tutela_consent_append_only()")
            elif dialect == "sqlite":
                op.execute(f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
            elif dialect in ("mysql", "mariadb"):
                op.execute(f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW "
                           f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'")
        if dialect == "postgresql":
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION tutela_consent_append_only()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        for operation in ("update", "delete", "truncate"):
            if dialect == "postgresql":
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation} ON {table}")
            elif operation != "truncate":
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS tutela_consent_append_only()")
    op.drop_table("tutela_consent_restrictions")
    op.drop_table("tutela_consent_ledger")
    op.drop_table("tutela_consent_notices")
