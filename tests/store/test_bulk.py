"""Connection settings of bulk runs on SQLite: spaced checkpoints outside batches, relaxed fsync."""

from __future__ import annotations

import pytest

from tutela.store.bulk import bulk_writes
from tutela.store.database import make_engine


@pytest.fixture
def wal_conn(tmp_path):
    """A connection to a SQLite file in WAL mode with an empty table ``t``."""
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            conn.commit()
            yield conn
    finally:
        engine.dispose()


def _twenty_batches(conn, bulk) -> None:
    """20 committed batches of about 50 log pages each, each followed by ``between_batches``."""
    for _ in range(20):
        with conn.begin():
            conn.exec_driver_sql("INSERT INTO t (v) VALUES (?)", [("x" * 3000,)] * 50)
        bulk.between_batches()
        assert not conn.in_transaction()


def test_bulk_writes_checkpoint_between_batches_and_restore_the_setting(wal_conn):
    conn = wal_conn
    before = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    with bulk_writes(conn) as bulk:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        conn.rollback()
        _twenty_batches(conn, bulk)
        # the first checkpoint learns that a batch leaves ~50 pages: the next one waits for
        # CHECKPOINT_PAGES of them, far beyond these 20 batches
        assert bulk.checkpoints == 1
        assert conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()[1] > 19 * 50
        conn.rollback()
    assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == before
    busy, log, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    assert busy == 0 and log == copied  # the run's end leaves nothing uncopied


def test_a_cap_on_the_log_checkpoints_sooner_than_the_database_size_asks(wal_conn):
    conn = wal_conn
    with bulk_writes(conn) as bulk:
        bulk.max_log_pages = 120  # about two batches
        _twenty_batches(conn, bulk)
        assert bulk.checkpoints >= 8  # without the cap: 1 (see the test above)
        assert conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()[1] < 3 * 50
        conn.rollback()


@pytest.mark.parametrize("journal, start, wanted, during", [("wal", 2, "NORMAL", 1), ("delete", 2, "NORMAL", 2),
                                                           ("wal", 1, "FULL", 2), ("delete", 1, "FULL", 2)])
def test_bulk_writes_synchronous_setting(tmp_path, journal, start, wanted, during):
    """NORMAL (no fsync per commit) only under WAL; FULL wherever asked; restored afterwards."""
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"PRAGMA journal_mode={journal}")
            conn.exec_driver_sql(f"PRAGMA synchronous={start}")
            with bulk_writes(conn, synchronous=wanted):
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == during
                conn.rollback()
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == start
    finally:
        engine.dispose()


def test_bulk_writes_cache_is_the_runs_own(tmp_path):
    from tutela.store.bulk import CACHE_KIB

    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        with engine.connect() as conn:
            before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            with bulk_writes(conn):
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -CACHE_KIB
                conn.rollback()
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == before
    finally:
        engine.dispose()


def test_synced_commits_reach_the_disk_and_the_level_is_restored(tmp_path):
    from tutela.store.database import synced

    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}", store=True)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # a store: NORMAL
            conn.rollback()
            with synced(conn):
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
                conn.rollback()
                with conn.begin():
                    conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    finally:
        engine.dispose()
