"""Connection settings for bulk runs (retention, pseudonymisation): many short write transactions.

On SQLite in WAL mode every commit checkpoints as soon as the log passes 1,000 pages: the same
scattered index pages are copied back into the database after nearly every batch, and the copy
runs inside the batch's ``COMMIT`` call. During a bulk run the connection's automatic checkpoint
is off; :meth:`BulkWrites.between_batches` checkpoints (``PASSIVE``: it never blocks the
application's readers or writers) outside any batch transaction, once the log holds about a
quarter of the database's pages (at least :data:`CHECKPOINT_PAGES`) — a page that several batches
change is then copied once, and the log stays well under the size one plain statement doing all
the work would give it. A run whose batches seldom rewrite the same pages caps the log
(:attr:`BulkWrites.max_log_pages`): a long log makes every commit slower. The run also keeps up
to :data:`CACHE_KIB` of pages in memory, so the scattered index pages each batch changes are read
from the file once, not once per batch.

``synchronous`` sets how batches reach the disk. ``"NORMAL"`` (WAL only) commits without an
fsync: WAL stays consistent and a killed process loses nothing committed; only a power loss can
undo the last batches — for work that is simply due again then (retention). ``"FULL"`` syncs each
commit — for writes that must be on disk before another database commits (the suppression list
before the pseudonymised batch). Every setting belongs to the connection, not the file, and is
restored. Other databases need none of this.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import sqlalchemy as sa

from tutela.store.database import synchronous as commit_level

#: the fewest log pages gathered between two checkpoints of a bulk run (64 MiB at 4 KiB pages)
CHECKPOINT_PAGES = 16384
#: share of the database's pages the log may gather before a checkpoint
CHECKPOINT_SHARE = 0.25
#: page cache of a bulk run's connection (SQLite's default is 2,000 KiB)
CACHE_KIB = 262144
#: How much a batch may grow or shrink from one batch to the next (by default).
GROWTH = (0.5, 1.5)


class BatchSizer:
    """Adapts the number of rows per batch so a batch transaction takes about ``target`` seconds."""

    def __init__(self, start: int, target: float, minimum: int = 50, maximum: int = 500_000,
                 growth: tuple[float, float] = GROWTH):
        self.minimum = max(1, min(minimum, start))
        self.size = max(self.minimum, min(start, maximum))
        self.target = target
        self.maximum = maximum
        self.growth = growth

    def record(self, rows: int, elapsed: float) -> None:
        """Learn from one batch: ``rows`` touched in ``elapsed`` seconds of transaction time."""
        if rows < self.size and elapsed < self.target:
            return  # a short last batch says nothing about the rate
        self.size = int(max(self.minimum, min(self.maximum, self.size * growth_factor(self.target, elapsed,
                                                                                       self.growth))))


def growth_factor(target: float, elapsed: float, growth: tuple[float, float] = GROWTH) -> float:
    """How much the next batch may grow (or shrink) after one that took ``elapsed`` seconds."""
    return min(growth[1], max(growth[0], target / max(elapsed, 1e-4)))


class BulkWrites:
    """Yielded by :func:`bulk_writes`; call :meth:`between_batches` after each committed batch."""

    def __init__(self, connection: sa.Connection, wal: bool):
        self.connection = connection
        self._wal = wal
        #: at most this many log pages between checkpoints, whatever the database's size (None: no cap)
        self.max_log_pages: int | None = None
        self._every = 1  # batches between checkpoints, adapted to the pages they leave in the log
        self._since = 0
        self.checkpoints = 0

    def between_batches(self) -> None:
        """Checkpoint the log when enough pages have gathered since the last checkpoint."""
        if not self._wal:
            return
        self._since += 1
        if self._since < self._every:
            return
        conn = self.connection
        if conn.in_transaction():
            conn.rollback()
        _busy, pages, _copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        conn.rollback()
        self.checkpoints += 1
        limit = max(CHECKPOINT_PAGES, int(conn.exec_driver_sql("PRAGMA page_count").scalar() * CHECKPOINT_SHARE))
        if self.max_log_pages is not None:
            limit = min(limit, self.max_log_pages)
        conn.rollback()
        per_batch = max(1, pages) / self._since
        self._every = max(1, min(1000, int(limit / per_batch)))
        self._since = 0


@contextmanager
def bulk_writes(connection: sa.Connection, *, synchronous: str | None = None) -> Iterator[BulkWrites]:
    """Settings for a bulk run on ``connection`` (see the module); restored when the block ends."""
    if connection.dialect.name != "sqlite":
        yield BulkWrites(connection, wal=False)
        return
    with ExitStack() as settings:
        if synchronous:
            settings.enter_context(commit_level(connection, synchronous))
        wal = str(connection.exec_driver_sql("PRAGMA journal_mode").scalar()).lower() == "wal"
        pages = int(connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar())
        cache = int(connection.exec_driver_sql("PRAGMA cache_size").scalar())
        if wal:
            connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        connection.exec_driver_sql(f"PRAGMA cache_size=-{max(CACHE_KIB, -cache if cache < 0 else 0)}")
        connection.rollback()
        try:
            yield BulkWrites(connection, wal)
        finally:
            if connection.in_transaction():
                connection.rollback()
            connection.exec_driver_sql(f"PRAGMA cache_size={cache}")  # also frees the run's pages
            if wal:
                connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint={pages}")
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").all()
            connection.rollback()
