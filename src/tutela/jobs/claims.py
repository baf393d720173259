"""Jobs in the engine store and how a worker claims one so that no two workers run it at once.

A claim is a lease: the worker writes its id and ``locked_until`` into the job row with a
conditional UPDATE (only when no live lease exists), which is an atomic compare-and-set on every
database. On PostgreSQL and MariaDB the candidate row is first read with ``FOR UPDATE SKIP
LOCKED``, so workers racing for jobs skip each other's rows instead of waiting. A worker renews
its lease while it runs; if it dies, the lease runs out and another worker takes the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tutela.retention.tables import job_runs, jobs
from tutela.store import Store

#: How long a claim holds a job without renewal (a dead worker's job is free again after this).
LEASE = timedelta(minutes=10)


@dataclass
class Claim:
    """A job this worker holds, and the id of its row in the run log."""

    name: str
    worker: str
    run_id: int
    started_at: datetime
    interval_seconds: int


def utcnow() -> datetime:
    return datetime.now(UTC)


def sync_jobs(store: Store, wanted: dict[str, int], *, kind: str = "retention",
              now: datetime | None = None) -> None:
    """Make the job rows of ``kind`` match ``wanted`` (job name → interval in seconds).

    New jobs are due at once; changed intervals are updated; jobs no longer wanted and not held
    by a worker are removed. Safe when several workers start at the same moment.
    """
    now = now or utcnow()
    with store.engine.begin() as conn:
        existing = dict(conn.execute(sa.select(jobs.c.name, jobs.c.interval_seconds)
                                     .where(jobs.c.kind == kind)).all())
        new = [{"name": name, "kind": kind, "interval_seconds": seconds, "next_run_at": now}
               for name, seconds in wanted.items() if name not in existing]
        if new:
            conn.execute(_insert_ignore(conn), new)
        for name, seconds in wanted.items():
            if name in existing and existing[name] != seconds:
                conn.execute(sa.update(jobs).where(jobs.c.name == name).values(interval_seconds=seconds))
        gone = [name for name in existing if name not in wanted]
        if gone:
            conn.execute(sa.delete(jobs).where(jobs.c.name.in_(gone), jobs.c.locked_by.is_(None)))


def claim_next(store: Store, worker: str, *, now: datetime | None = None, lease: timedelta = LEASE,
               kind: str = "retention") -> Claim | None:
    """Claim the most overdue free job of ``kind``, or return None when none is due (or free)."""
    now = now or utcnow()
    free = sa.or_(jobs.c.locked_until.is_(None), jobs.c.locked_until < now)
    query = (sa.select(jobs.c.name, jobs.c.interval_seconds)
             .where(jobs.c.kind == kind, jobs.c.next_run_at <= now, free)
             .order_by(jobs.c.next_run_at, jobs.c.name).limit(1))
    if store.dialect in ("postgresql", "mysql", "mariadb"):
        query = query.with_for_update(skip_locked=True)
    try:
        with store.engine.begin() as conn:
            row = conn.execute(query).first()
            if row is None:
                return None
            taken = conn.execute(sa.update(jobs).where(jobs.c.name == row.name, free)
                                 .values(locked_by=worker, locked_until=now + lease, last_started_at=now))
            if taken.rowcount != 1:
                return None
            run_id = conn.execute(sa.insert(job_runs).values(job=row.name, worker=worker, started_at=now,
                                                             status="running")).inserted_primary_key[0]
    except sa.exc.OperationalError:
        return None  # another worker holds the store's write lock (SQLite); try again later
    return Claim(row.name, worker, int(run_id), now, int(row.interval_seconds))


def renew(store: Store, claim: Claim, *, now: datetime | None = None, lease: timedelta = LEASE) -> bool:
    """Extend the lease of a held job; False when the lease was lost (it ran out and was taken)."""
    now = now or utcnow()
    with store.engine.begin() as conn:
        done = conn.execute(sa.update(jobs).where(jobs.c.name == claim.name, jobs.c.locked_by == claim.worker)
                            .values(locked_until=now + lease))
    return done.rowcount == 1


def finish(store: Store, claim: Claim, *, status: str, rows: int, error: str | None = None,
           now: datetime | None = None) -> None:
    """Release the job, schedule its next run and close its entry in the run log.

    A stopped job (worker shutting down) is due again at once, so the next worker resumes it.
    """
    now = now or utcnow()
    if status == "stopped":
        next_run = now
    else:
        next_run = max(claim.started_at + timedelta(seconds=claim.interval_seconds), now)
    with store.engine.begin() as conn:
        conn.execute(sa.update(jobs).where(jobs.c.name == claim.name, jobs.c.locked_by == claim.worker)
                     .values(locked_by=None, locked_until=None, last_finished_at=now, last_status=status,
                             last_rows=rows, last_error=(error or None) and error[:300], next_run_at=next_run))
        conn.execute(sa.update(job_runs).where(job_runs.c.id == claim.run_id)
                     .values(finished_at=now, status=status, rows=rows))


def _insert_ignore(conn: sa.Connection) -> sa.Insert:
    name = conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert(jobs).on_conflict_do_nothing(index_elements=["name"])
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert

        return insert(jobs).on_conflict_do_nothing(index_elements=["name"])
    return sa.insert(jobs).prefix_with("IGNORE")
