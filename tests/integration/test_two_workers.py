"""Two real `tutela worker` processes on one PostgreSQL store never run the same rule twice.

Both start at the same moment against a store (``TUTELA_STORE_URL``) holding six due retention
jobs. The run log and the audit trail must show each rule run exactly once, by one worker, and
every expired row gone. A third test sends SIGTERM to a busy worker: it finishes its batch and
exits 0, and the job is left due for the next worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parents[1] / "retention"))

from retention_helpers import write_policy  # noqa: E402

from tutela.audit import AuditLog  # noqa: E402
from tutela.crypto.keyring import Keyring  # noqa: E402
from tutela.retention.tables import job_runs, jobs  # noqa: E402
from tutela.store import Store  # noqa: E402

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-c", "from tutela.cli.main import main; main()"]
TABLES = [f"log_{i}" for i in range(6)]


def _fill(url: str, rows: int) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for name in TABLES:
            conn.exec_driver_sql(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, created_at TIMESTAMP NOT NULL)")
            series = sa.func.generate_series(1, rows).table_valued("i").render_derived(name="s")
            age = sa.case((series.c.i % 2 == 1, 400), else_=10)  # odd ids expire after 1y
            created = sa.func.timezone("UTC", sa.func.now()) - sa.func.make_interval(0, 0, 0, age)
            conn.execute(sa.insert(sa.table(name, sa.column("id"), sa.column("created_at")))
                         .from_select(["id", "created_at"], sa.select(series.c.i, created)))
    engine.dispose()


def _setup(pg_url: str, tmp_path: Path, rows: int, batch_size: int) -> tuple[Path, dict]:
    _fill(pg_url, rows)
    tables = {name: {"purpose": "service", "retention": {"after": "1y", "from": "created_at"}} for name in TABLES}
    policy = write_policy(tmp_path, pg_url, tables, batch_size=batch_size)
    store = Store(pg_url)
    store.migrate()
    store.dispose()
    env = {**os.environ, "TUTELA_STORE_URL": pg_url, "TUTELA_POLICY": str(policy)}
    return policy, env


def _expired_left(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        left = sum(conn.execute(sa.select(sa.func.count()).select_from(sa.table(name, sa.column("id")))
                                .where(sa.column("id") % 2 == 1)).scalar_one() for name in TABLES)
    engine.dispose()
    return left


def test_two_workers_side_by_side_never_run_a_rule_twice(pg_url, tmp_path):
    policy, env = _setup(pg_url, tmp_path, rows=20_000, batch_size=200)
    workers = [subprocess.Popen([*CLI, "worker", "--once"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [w.communicate(timeout=180) for w in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err.decode()
    store = Store(pg_url)
    with store.engine.connect() as conn:
        runs = conn.execute(sa.select(job_runs.c.job, job_runs.c.worker, job_runs.c.status,
                                      job_runs.c.rows)).all()
        locks = conn.execute(sa.select(jobs.c.locked_by)).scalars().all()
    assert sorted(r.job for r in runs) == sorted(f"retention:app.{name}" for name in TABLES)
    assert {r.status for r in runs} == {"done"} and {r.rows for r in runs} == {10_000}
    assert locks == [None] * len(TABLES)
    keyring = Keyring.load(str(tmp_path / "tutela.key"))
    events = AuditLog(store, keyring).query(action="retention.run")
    assert sorted(e.details["rule"] for e in events) == sorted(f"app.{name}" for name in TABLES)
    assert {e.actor for e in events} <= {f"worker:{r.worker}" for r in runs}
    store.dispose()
    assert _expired_left(pg_url) == 0
    logs = b"".join(err for _, err in outputs).decode()
    assert logs.count(" ran retention:app.") == len(TABLES)
    assert "@" not in logs


def test_sigterm_finishes_the_batch_and_exits_0(pg_url, tmp_path):
    policy, env = _setup(pg_url, tmp_path, rows=200_000, batch_size=20)
    worker = subprocess.Popen([*CLI, "worker", "--interval", "60"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    started = time.monotonic()
    while _expired_left(pg_url) == len(TABLES) * 100_000 and time.monotonic() - started < 60:
        time.sleep(0.02)
    worker.send_signal(signal.SIGTERM)
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err.decode()
    store = Store(pg_url)
    with store.engine.connect() as conn:
        runs = conn.execute(sa.select(job_runs.c.status).order_by(job_runs.c.id)).scalars().all()
        held = conn.execute(sa.select(sa.func.count()).where(jobs.c.locked_by.is_not(None))).scalar_one()
    store.dispose()
    assert runs and runs[-1] == "stopped" and held == 0
    assert _expired_left(pg_url) > 0
