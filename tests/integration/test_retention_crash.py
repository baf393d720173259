"""Kill -9 during `tutela retention run`, run again: expired rows gone, surviving rows unchanged.

Each trial refills the table, starts the real CLI as a subprocess, picks at random how far it may
get (between a tenth and nine tenths of the expired rows), watches the row count and kills it with
SIGKILL as soon as it has got that far (so the kill lands mid-run however fast the machine), checks
that no row is half-processed, runs it again and compares the survivors' checksum with the one
taken before. ``TUTELA_CRASH_TRIALS`` sets the number of trials (5 by default; 20 for §5).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parents[1] / "retention"))

from retention_helpers import write_policy  # noqa: E402

pytestmark = pytest.mark.slow

TRIALS = int(os.environ.get("TUTELA_CRASH_TRIALS", "5"))
ROWS = 30_000
CLI = [sys.executable, "-c", "from tutela.cli.main import main; main()"]
SLICING_CLI = [sys.executable, "-c", "from tutela.retention import batches; batches.SLICE_ROWS = 1; "
               "from tutela.cli.main import main; main()"]


def _build_template(url: str) -> None:
    """``template``: odd ids are 400-699 days old (expired after 1y), even ids 0-299 days old."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE template (id INTEGER PRIMARY KEY, created_at TIMESTAMP NOT NULL, "
                             "email VARCHAR(100), note VARCHAR(100))")
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "INSERT INTO template WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                "WHERE i < ?) SELECT i, datetime('now', '-' || (CASE WHEN i % 2 = 1 THEN 400 + i % 300 "
                "ELSE i % 300 END) || ' days'), 'user' || i || '@example.test', 'note ' || i FROM n", (ROWS,))
        else:
            conn.exec_driver_sql(
                "INSERT INTO template SELECT i, (now() AT TIME ZONE 'UTC') - make_interval(days => CASE WHEN "
                "mod(i, 2) = 1 THEN 400 + mod(i, 300) ELSE mod(i, 300) END), 'user' || i || '@example.test', "
                "'note ' || i FROM generate_series(1, %(rows)s) AS i", {"rows": ROWS})
    engine.dispose()


def _reset(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS sessions")
        conn.exec_driver_sql("CREATE TABLE sessions (id INTEGER PRIMARY KEY, created_at TIMESTAMP NOT NULL, "
                             "email VARCHAR(100), note VARCHAR(100))")
        conn.exec_driver_sql("INSERT INTO sessions SELECT * FROM template")
        conn.exec_driver_sql("CREATE INDEX ix_sessions_created_at ON sessions (created_at)")
    engine.dispose()


SESSIONS = sa.table("sessions", sa.column("id"), sa.column("created_at"), sa.column("email"), sa.column("note"))
ODD = SESSIONS.c.id % 2 == 1
EVEN = SESSIONS.c.id % 2 == 0
HALF_ERASED = sa.or_(sa.and_(SESSIONS.c.email.is_(None), SESSIONS.c.note.is_not(None)),
                     sa.and_(SESSIONS.c.email.is_not(None), SESSIONS.c.note.is_(None)))


def _checksum(url: str, where: sa.ColumnElement[bool]) -> str:
    engine = sa.create_engine(url)
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for row in conn.execute(sa.select(SESSIONS).where(where).order_by(SESSIONS.c.id)):
            digest.update(repr(tuple(str(v) for v in row)).encode())
    engine.dispose()
    return digest.hexdigest()


def _count(url: str, where: sa.ColumnElement[bool] = sa.true()) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(SESSIONS).where(where)).scalar_one()
    engine.dispose()
    return count


def _run(cli: list[str], policy: Path, tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen([*cli, "--policy", str(policy), "retention", "run", "--yes"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_when_left(process: subprocess.Popen, url: str, due: sa.ColumnElement[bool], left: int) -> bool:
    """SIGKILL ``process`` once at most ``left`` due rows remain; False if it ended first."""
    engine = sa.create_engine(url)
    query = sa.select(sa.func.count()).select_from(SESSIONS).where(due)
    try:
        while process.poll() is None:
            with engine.connect() as conn:
                if conn.execute(query).scalar_one() <= left:
                    process.send_signal(signal.SIGKILL)
                    break
            time.sleep(0.002)
    finally:
        engine.dispose()
    process.wait(timeout=60)
    return process.returncode == -signal.SIGKILL


@pytest.mark.parametrize("db_kind", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("action", ["delete_rows", "erase_fields"])
def test_kill_9_then_rerun_finishes_and_spares_the_rest(db_url, tmp_path, action):
    _trials(db_url, tmp_path, action, CLI)


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_kill_9_amid_slices_of_time_then_rerun_finishes_and_spares_the_rest(db_url, tmp_path):
    """SQLite cuts big tables' rowid ranges into slices of time; the same CLI, slicing this small table."""
    _trials(db_url, tmp_path, "delete_rows", SLICING_CLI)


def _trials(db_url: str, tmp_path: Path, action: str, cli: list[str]) -> None:
    _build_template(db_url)
    tables = {"sessions": {"purpose": "service",
                           "retention": {"after": "1y", "from": "created_at", "action": action},
                           "fields": {"email": {"category": "user.contact.email"},
                                      "note": {"category": "user.content.private"}}}}
    policy = write_policy(tmp_path, db_url, tables, batch_size=50)
    trials = TRIALS if action == "delete_rows" else max(1, TRIALS // 5)
    due = ODD if action == "delete_rows" else sa.and_(ODD, SESSIONS.c.email.is_not(None))
    rng = random.Random(trials)
    killed = 0
    for _ in range(trials):
        _reset(db_url)
        survivors = _checksum(db_url, EVEN)
        kill_at = int(ROWS // 2 * rng.uniform(0.1, 0.9))
        process = _run(cli, policy, tmp_path)
        killed += _kill_when_left(process, db_url, due, kill_at)
        # Whole batches only: every row is either untouched or fully processed.
        assert _count(db_url, HALF_ERASED) == 0
        rerun = subprocess.run([*cli, "--policy", str(policy), "retention", "run", "--yes"], cwd=tmp_path,
                               capture_output=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr.decode()
        assert _count(db_url, due) == 0
        assert _checksum(db_url, EVEN) == survivors
        if action == "delete_rows":
            assert _count(db_url) == ROWS // 2
        else:
            assert _count(db_url, sa.and_(ODD, SESSIONS.c.email.is_(None), SESSIONS.c.note.is_(None))) == ROWS // 2
    assert killed >= (trials + 1) // 2, f"only {killed} of {trials} runs were killed mid-run; make the table bigger"
