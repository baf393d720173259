"""Engine-store tables of the scheduler: one job per retention rule, and a log of every job run.

Workers claim a due job by taking a lease on its row (``locked_by``/``locked_until``); on
PostgreSQL the claim reads with ``FOR UPDATE SKIP LOCKED`` so workers never wait on each other.
The run log holds one row per run (which worker, when, outcome, row count) — never row values.
"""

from __future__ import annotations

import sqlalchemy as sa

from tutela.store.tables import metadata

jobs = sa.Table(
    "tutela_jobs",
    metadata,
    #: ``retention:<system>.<table>``
    sa.Column("name", sa.String(200), primary_key=True),
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
)

job_runs = sa.Table(
    "tutela_job_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(200), nullable=False, index=True),
    sa.Column("worker", sa.String(100), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    #: running | done | stopped | failed
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
)
