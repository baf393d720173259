"""The worker and its job claims (in process); the multi-process tests are in tests/integration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from retention_helpers import current_time, fill, open_engine, rows_aged, table_rows, write_policy

from tutela.jobs import Worker, claim_next, finish, sync_jobs
from tutela.retention.tables import job_runs, jobs
from tutela.store import Store


def _engine(tmp_path, batch_size=5000, every="5min"):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    fill(url, rows_aged([timedelta(days=400 + i) for i in range(30)] + [timedelta(days=1)] * 5, now=current_time()))
    fill(url, rows_aged([timedelta(days=10)] * 4 + [timedelta(hours=1)] * 3, now=current_time()), name="uploads")
    tables = {"sessions": {"purpose": "service", "retention": {"after": "1y", "from": "created_at"}},
              "uploads": {"purpose": "service", "retention": {"after": "7d", "from": "created_at",
                                                              "every": every}}}
    return url, open_engine(write_policy(tmp_path, url, tables, batch_size=batch_size))


def _jobs(store: Store) -> dict[str, dict]:
    with store.engine.connect() as conn:
        return {r.name: r._asdict() for r in conn.execute(sa.select(jobs))}


def _runs(store: Store) -> list[dict]:
    with store.engine.connect() as conn:
        return [r._asdict() for r in conn.execute(sa.select(job_runs).order_by(job_runs.c.id))]


def test_worker_once_runs_every_due_rule_once_and_schedules_the_next_run(tmp_path):
    url, tutela = _engine(tmp_path, every="1h")
    assert Worker(tutela, worker_id="w1").run(once=True) == 2
    assert len(table_rows(url)) == 5 and len(table_rows(url, "uploads")) == 3
    found = _jobs(tutela.store)
    assert set(found) == {"retention:app.sessions", "retention:app.uploads"}
    assert found["retention:app.uploads"]["interval_seconds"] == 3600
    assert found["retention:app.sessions"]["interval_seconds"] == 300
    assert {j["last_status"] for j in found.values()} == {"done"}
    assert {j["locked_by"] for j in found.values()} == {None}
    assert sorted((r["job"], r["worker"], r["status"], r["rows"]) for r in _runs(tutela.store)) == [
        ("retention:app.sessions", "w1", "done", 30), ("retention:app.uploads", "w1", "done", 4)]
    assert Worker(tutela, worker_id="w1").run(once=True) == 0  # nothing is due again yet
    assert len(tutela.audit.query(action="retention.run")) == 2
    tutela.close()


def test_stopping_finishes_the_current_batch_and_leaves_the_job_due(tmp_path):
    url, tutela = _engine(tmp_path, batch_size=4)
    worker = Worker(tutela, worker_id="w1")
    from tutela.jobs import worker as worker_module

    original = worker_module._LeaseKeeper.batch_done

    def stop_after_first_batch(keeper, rule, rows):
        original(keeper, rule, rows)
        worker.stop()

    worker_module._LeaseKeeper.batch_done = stop_after_first_batch
    try:
        assert worker.run(once=True) == 1
    finally:
        worker_module._LeaseKeeper.batch_done = original
    [run] = _runs(tutela.store)
    assert run["status"] == "stopped" and run["rows"] == 4
    stopped = _jobs(tutela.store)[run["job"]]
    assert stopped["locked_by"] is None and stopped["last_status"] == "stopped"
    assert Worker(tutela, worker_id="w2").run(once=True) == 2  # the stopped job is due again at once
    assert len(table_rows(url)) == 5 and len(table_rows(url, "uploads")) == 3
    tutela.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def job_store(request, tmp_path):
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        store = Store(request.getfixturevalue("pg_url"))
    store.migrate()
    yield store
    store.dispose()


def test_a_claimed_job_cannot_be_claimed_again_until_its_lease_runs_out(job_store):
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    sync_jobs(job_store, {"retention:app.a": 300}, now=now)
    sync_jobs(job_store, {"retention:app.a": 300}, now=now)  # a second worker starting: no duplicate
    first = claim_next(job_store, "w1", now=now)
    assert first is not None and first.name == "retention:app.a"
    assert claim_next(job_store, "w2", now=now + timedelta(minutes=1)) is None
    taken_over = claim_next(job_store, "w2", now=now + timedelta(minutes=11))
    assert taken_over is not None and taken_over.worker == "w2"
    finish(job_store, taken_over, status="done", rows=3, now=now + timedelta(minutes=12))
    assert claim_next(job_store, "w1", now=now + timedelta(minutes=13)) is None  # next run: 12:16
    assert claim_next(job_store, "w1", now=now + timedelta(minutes=17)) is not None


def test_sync_removes_jobs_of_rules_that_are_gone(job_store):
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    sync_jobs(job_store, {"retention:app.a": 300, "retention:app.b": 60}, now=now)
    sync_jobs(job_store, {"retention:app.b": 120}, now=now)
    assert {name: j["interval_seconds"] for name, j in _jobs(job_store).items()} == {"retention:app.b": 120}
