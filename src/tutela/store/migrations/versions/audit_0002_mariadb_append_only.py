"""Audit: on MariaDB/MySQL, triggers refuse UPDATE and DELETE of audit events (as on PostgreSQL).

The chain already makes any change evident; the triggers stop a careless SQL session from making
one in the first place. (MariaDB has no TRUNCATE trigger; TRUNCATE needs the DROP privilege.)

Revision ID: audit_0002_mariadb_append_only
"""

from alembic import op

revision = "audit_0002_mariadb_append_only"
down_revision = "audit_0001_chain"
branch_labels = None
depends_on = None

MESSAGE = "tutela_audit is append-only: audit events cannot be changed or deleted"


def upgrade() -> None:
    if op.get_bind().dialect.name not in ("mysql", "mariadb"):
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER tutela_audit_no_{operation.lower()} BEFORE {operation} ON tutela_audit "
                   f"FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{MESSAGE}'")


def downgrade() -> None:
    if op.get_bind().dialect.name not in ("mysql", "mariadb"):
        return
    for operation in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS tutela_audit_no_{operation}")
