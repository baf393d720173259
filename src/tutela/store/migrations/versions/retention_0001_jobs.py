"""Scheduler jobs (one per retention rule) and the log of job runs.

Revision ID: retention_0001_jobs
"""

import sqlalchemy as sa
from alembic import op

revision = "retention_0001_jobs"
down_revision = "0001_base"
branch_labels = ("retention",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tutela_jobs",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("interval_seconds", sa.Integer, nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(100), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(20), nullable=True),
        sa.Column("last_rows", sa.BigInteger, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_tutela_jobs"),
    )
    op.create_table(
        "tutela_job_runs",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("job", sa.String(200), nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_tutela_job_runs"),
    )
    op.create_index("ix_tutela_job_runs_job", "tutela_job_runs", ["job"])


def downgrade() -> None:
    op.drop_index("ix_tutela_job_runs_job", table_name="tutela_job_runs")
    op.drop_table("tutela_job_runs")
    op.drop_table("tutela_jobs")
