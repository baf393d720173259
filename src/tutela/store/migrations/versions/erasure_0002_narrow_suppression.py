"""Suppression list: narrow entries (hash, kind, batch); what a write shares moves to its batch row.

Each existing (reason, tenant, source, time) becomes one ``tutela_suppression_batch`` row; the key
id, which is part of the hash, is no longer stored twice. SQLite rebuilds the table (still WITHOUT
ROWID); PostgreSQL and MariaDB alter it in place.

Revision ID: erasure_0002_narrow_suppression
"""

import sqlalchemy as sa
from alembic import op

revision = "erasure_0002_narrow_suppression"
down_revision = "erasure_0001"
branch_labels = None
depends_on = None

SHARED = ("reason", "tenant", "source", "created_at")


def _shared_columns() -> list[sa.Column]:
    """What a write's entries share, as the batch table holds it (fresh Column objects per call)."""
    return [sa.Column("reason", sa.String(20), nullable=False), sa.Column("tenant", sa.String(100), nullable=True),
            sa.Column("source", sa.String(200), nullable=True), sa.Column("created_at", sa.DateTime, nullable=False)]


def _batch_table() -> sa.Table:
    return sa.Table("tutela_suppression_batch", sa.MetaData(),
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True), *_shared_columns())


def upgrade() -> None:
    batch = _batch_table()
    op.create_table(batch.name, sa.Column("id", sa.Integer, autoincrement=True), *_shared_columns(),
                    sa.PrimaryKeyConstraint("id", name="pk_tutela_suppression_batch"))
    with op.batch_alter_table("tutela_suppression", table_kwargs={"sqlite_with_rowid": False}) as alter:
        alter.add_column(sa.Column("batch", sa.Integer, nullable=True))
    entries = sa.table("tutela_suppression", sa.column("batch", sa.Integer),
                       *(sa.column(name) for name in SHARED))
    op.execute(batch.insert().from_select(list(SHARED), sa.select(*(entries.c[n] for n in SHARED)).distinct()))
    match = sa.and_(*(batch.c[n].is_not_distinct_from(entries.c[n]) for n in SHARED))
    op.execute(entries.update().values(batch=sa.select(sa.func.min(batch.c.id)).where(match).scalar_subquery()))
    with op.batch_alter_table("tutela_suppression", table_kwargs={"sqlite_with_rowid": False}) as alter:
        alter.alter_column("batch", existing_type=sa.Integer, nullable=False)
        alter.create_foreign_key("fk_tutela_suppression_batch_tutela_suppression_batch",
                                 "tutela_suppression_batch", ["batch"], ["id"])
        for name in ("key_id", *SHARED):
            alter.drop_column(name)


def downgrade() -> None:
    batch = _batch_table()
    wide = [sa.Column("key_id", sa.String(6), nullable=False), *_shared_columns()]
    with op.batch_alter_table("tutela_suppression", table_kwargs={"sqlite_with_rowid": False}) as alter:
        for column in wide:
            alter.add_column(sa.Column(column.name, column.type, nullable=True))
    entries = sa.table("tutela_suppression", sa.column("hash", sa.String), sa.column("batch", sa.Integer),
                       sa.column("key_id", sa.String), *(sa.column(name) for name in SHARED))
    values = {n: sa.select(batch.c[n]).where(batch.c.id == entries.c.batch).scalar_subquery() for n in SHARED}
    op.execute(entries.update().values(key_id=sa.func.substr(entries.c.hash, 4, 6), **values))
    with op.batch_alter_table("tutela_suppression", table_kwargs={"sqlite_with_rowid": False}) as alter:
        alter.drop_constraint("fk_tutela_suppression_batch_tutela_suppression_batch", type_="foreignkey")
        alter.drop_column("batch")
        for column in wide:
            if not column.nullable:
                alter.alter_column(column.name, existing_type=column.type, nullable=False)
    op.drop_table("tutela_suppression_batch")
