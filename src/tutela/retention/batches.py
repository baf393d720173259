"""Bounded batches: windows over the table, each one short transaction with ONE set-based statement.

Three ways to cut a table into windows, chosen per run:

* **along the index of the ``from`` column** (PostgreSQL, SQLite) when an index starts with it
  and either few rows are due or the table is append-only (its timestamps grow with the storage
  order, checked on a few sampled rows): keyset batches over ``(from, primary key)`` read only
  the due rows, in order, and stop where they end.
* **physical ranges** when many rows are due and spread over the table: consecutive ranges of
  the table's storage order — PostgreSQL heap pages (``ctid`` range scans, PostgreSQL 14+),
  SQLite ``rowid`` ranges, or integer primary-key ranges on MariaDB/MySQL (InnoDB stores rows
  in key order). Each window is read once, in order, so the whole run costs about what one plain
  ``DELETE`` costs.
* **keyset over the primary key** otherwise.

In a keyset walk the key of the n-th due row after the previous batch is read first (outside the
write transaction), then the window up to it is written.

The window's size adapts so that each write transaction takes about :func:`target_seconds`.
Every window's statement repeats the rule's condition and commits on its own, so a run killed at
any moment leaves only whole batches done and a re-run finds exactly what is still due.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from tutela.store.bulk import BatchSizer, bulk_writes, growth_factor

#: Each batch transaction aims at this length; a busy machine can make one batch several times
#: slower than the last. SQLite and PostgreSQL aim at half the 200 ms limit: every batch pays a
#: commit (on SQLite it rewrites each page the batch touched into the WAL) and a keyset lookup, so
#: fewer, larger batches cost less in total (measured: 10,000,000 rows, append-only, PostgreSQL
#: 1.47x a plain DELETE at 50 ms, 1.35x at 100 ms, longest batch 104 ms).
TARGET_SECONDS = {"sqlite": 0.1, "postgresql": 0.1}
DEFAULT_TARGET_SECONDS = 0.05
#: The promised upper bound of one batch transaction (SPEC §4); slower batches are counted.
LIMIT_SECONDS = 0.2
@dataclass
class Batch:
    """One committed batch: rows touched and how long its write transaction took."""

    rows: int
    seconds: float


@dataclass
class PhysicalRanges:
    """The span of a table in storage order, and how to say "inside [lo, hi)" in SQL."""

    first: int
    end: int  # exclusive
    start_width: int
    clause: Callable[[int, int], sa.ColumnElement[bool]]
    estimated_rows: int
    #: what orders rows by position in SQL (None: a range scan returns them in order already)
    position: Any = None


def run_batches(engine: sa.Engine, table: sa.Table, due: sa.ColumnElement[bool],
                write: Callable[[sa.Connection, sa.ColumnElement[bool]], int], start_rows: int,
                should_stop: Callable[[], bool] = lambda: False,
                order_column: sa.Column | None = None) -> Iterator[Batch]:
    """Run ``write`` over windows of ``table`` until no row matching ``due`` is left.

    ``write(conn, window)`` runs the one set-based statement of a batch (a DELETE or UPDATE) over
    the rows matching the window's WHERE clause and returns how many rows it changed. Stops early,
    between batches, when ``should_stop()`` turns true. ``order_column`` is the rule's ``from``
    column: when an index leads with it (PostgreSQL, SQLite), keyset batches follow that index.
    """
    # SQLite: batches commit without an fsync and the log is checkpointed less often (rows a power
    # loss puts back are simply due again)
    with engine.connect() as conn, bulk_writes(conn, synchronous="NORMAL") as bulk:
        target = target_seconds(conn.dialect.name)
        by_time = (order_column is not None and conn.dialect.name in ("postgresql", "sqlite")
                   and _leads_an_index(table, order_column))
        ranges = physical_ranges(conn, table, start_rows)
        appended = by_time and ranges is not None and _follows_storage_order(conn, order_column, ranges)
        walk = ranges is not None and not appended and _many_due(conn, table, due, ranges, start_rows)
        conn.rollback()
        if walk:
            batches = _range_batches(conn, ranges, due, write, target, should_stop)
        elif appended and conn.dialect.name == "postgresql" and isinstance(order_column.type, sa.DateTime):
            batches = _time_batches(conn, order_column, due, write, start_rows, target, should_stop)
        else:
            keys = list(table.primary_key.columns)
            if by_time:
                keys = [order_column, *(k for k in keys if k is not order_column)]
            if conn.dialect.name == "sqlite":
                # Compare keys as the text SQLite holds: a timestamp written without microseconds
                # would not equal the same moment re-rendered by SQLAlchemy.
                keys = [sa.type_coerce(k, sa.String) if isinstance(k.type, (sa.Date, sa.DateTime)) else k
                        for k in keys]
            batches = _keyset_batches(conn, keys, due, write, BatchSizer(start_rows, target), should_stop)
        for batch in batches:
            yield batch
            bulk.between_batches()  # outside the batch's transaction: never counted as lock time


def _leads_an_index(table: sa.Table, column: sa.Column) -> bool:
    return any(list(index.columns)[:1] == [column] for index in table.indexes)


def _follows_storage_order(conn: sa.Connection, column: sa.Column, ranges: PhysicalRanges,
                           samples: int = 17) -> bool:
    """Do the column's values grow with the storage order (an append-only log)? Samples a few rows.

    Then the index on the column reaches the due rows in storage order, and a keyset walk along
    it reads only those rows instead of the whole table.
    """
    span = ranges.end - ranges.first
    if span < samples:
        return False  # too small to tell, and too small to matter
    values = []
    for k in range(samples):
        point = ranges.first + span * k // samples
        query = sa.select(column).select_from(column.table).where(ranges.clause(point, ranges.end)).limit(1)
        if ranges.position is not None:
            query = query.order_by(ranges.position)
        value = conn.execute(query).scalar()
        if value is not None:
            values.append(value)
    pairs = list(zip(values, values[1:], strict=False))
    return bool(pairs) and sum(a <= b for a, b in pairs) >= 0.9 * len(pairs)


def target_seconds(dialect: str) -> float:
    """How long one batch transaction should take on this kind of database."""
    return TARGET_SECONDS.get(dialect, DEFAULT_TARGET_SECONDS)


def physical_ranges(conn: sa.Connection, table: sa.Table, start_rows: int) -> PhysicalRanges | None:
    """The table's storage-order span on this database, or None when it cannot be cut by ranges."""
    dialect = conn.dialect.name
    if dialect == "postgresql" and conn.dialect.server_version_info >= (14,):
        name = conn.dialect.identifier_preparer.format_table(table)
        pages, tuples = conn.execute(sa.text(
            "SELECT pg_relation_size(CAST(:name AS regclass)) / current_setting('block_size')::int, "
            "(SELECT reltuples FROM pg_class WHERE oid = CAST(:name AS regclass))"), {"name": name}).one()
        per_page = tuples / pages if pages and tuples and tuples > 0 else 50.0
        return PhysicalRanges(0, int(pages) + 1, max(1, int(start_rows / max(per_page, 1.0))),
                              _ctid_between, int(pages * per_page))
    if dialect == "sqlite" and not {"rowid", "oid", "_rowid_"} & set(table.c.keys()):
        rowid = sa.literal_column("rowid")
        try:
            # two scalar subqueries: SQLite answers a lone min() or max() of the rowid from the
            # b-tree's ends, but scans the whole table for both in one SELECT
            low, high = conn.execute(sa.select(sa.select(sa.func.min(rowid)).select_from(table).scalar_subquery(),
                                               sa.select(sa.func.max(rowid)).select_from(table).scalar_subquery())
                                     ).one()
        except sa.exc.OperationalError:  # a WITHOUT ROWID table
            conn.rollback()
            return None
        return _id_ranges(rowid, low, high, start_rows)
    keys = list(table.primary_key.columns)
    if dialect in ("mysql", "mariadb") and len(keys) == 1 and _is_integer(keys[0]):
        low, high = conn.execute(sa.select(sa.func.min(keys[0]), sa.func.max(keys[0]))).one()
        return _id_ranges(keys[0], low, high, start_rows)
    return None


def _id_ranges(column: Any, low: Any, high: Any, start_rows: int) -> PhysicalRanges:
    low, high = (int(low), int(high)) if low is not None else (0, -1)
    return PhysicalRanges(low, high + 1, start_rows, lambda lo, hi: sa.and_(column >= lo, column < hi),
                          high - low + 1, column)


def _ctid_between(lo: int, hi: int) -> sa.ColumnElement[bool]:
    return sa.text("ctid >= CAST(:ctid_lo AS tid) AND ctid < CAST(:ctid_hi AS tid)").bindparams(
        ctid_lo=f"({lo},0)", ctid_hi=f"({hi},0)")


def _relax_commit(conn: sa.Connection) -> None:
    """Let a batch commit without waiting for its WAL flush (PostgreSQL ``synchronous_commit``).

    Safe for retention: should the database server itself crash, at most the last batches are
    rolled back, the rows are due again and the next run removes them. A client crash (kill -9)
    loses nothing that was committed.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))


def _is_integer(column: sa.Column) -> bool:
    try:
        return column.type.python_type is int
    except NotImplementedError:
        return False


def _many_due(conn: sa.Connection, table: sa.Table, due: sa.ColumnElement[bool], ranges: PhysicalRanges,
              start_rows: int) -> bool:
    """Are at least a tenth of the rows due? Counts at most that many (cheap when few are due)."""
    enough = max(start_rows, ranges.estimated_rows // 10, 1)
    sample = sa.select(sa.literal(1).label("one")).select_from(table).where(due).limit(enough).subquery()
    return conn.execute(sa.select(sa.func.count()).select_from(sample)).scalar_one() >= enough


def _range_batches(conn: sa.Connection, ranges: PhysicalRanges, due: sa.ColumnElement[bool],
                   write: Callable[[sa.Connection, sa.ColumnElement[bool]], int], target: float,
                   should_stop: Callable[[], bool]) -> Iterator[Batch]:
    width, low = ranges.start_width, ranges.first
    while low < ranges.end and not should_stop():
        high = min(low + width, ranges.end)
        batch = _write_batch(conn, write, sa.and_(ranges.clause(low, high), due))
        yield batch
        low = high
        width = max(1, int(width * growth_factor(target, batch.seconds)))


def _time_batches(conn: sa.Connection, column: sa.Column, due: sa.ColumnElement[bool],
                  write: Callable[[sa.Connection, sa.ColumnElement[bool]], int], start_rows: int, target: float,
                  should_stop: Callable[[], bool]) -> Iterator[Batch]:
    """PostgreSQL, append-only tables: consecutive windows of TIME along the ``from`` column's index.

    Each batch is one range scan of the index (``from >= lo AND from < hi``), with no lookup of the
    n-th key first — that lookup read the same index entries a second time and cost a third of a
    keyset run. The first window holds about ``start_rows`` due rows; later ones grow or shrink
    with the time their batch took. An empty window jumps to the next due row.
    """
    ordered = sa.select(column).where(due).order_by(column)
    low = conn.execute(ordered.limit(1)).scalar()
    nth = conn.execute(ordered.offset(start_rows).limit(1)).scalar() if low is not None else None
    conn.rollback()
    if low is None:
        return
    width = max(nth - low, timedelta(microseconds=1)) if nth is not None else None
    while not should_stop():
        window = sa.and_(column >= low, due) if width is None else sa.and_(column >= low, column < low + width, due)
        batch = _write_batch(conn, write, window)
        yield batch
        if width is None:
            return  # one window held every due row
        if batch.rows:
            low += width
        else:  # an empty stretch of time: on to the next due row
            low = conn.execute(ordered.where(column >= low + width).limit(1)).scalar()
            conn.rollback()
            if low is None:
                return
        width = max(width * growth_factor(target, batch.seconds), timedelta(microseconds=1))


def _write_batch(conn: sa.Connection, write: Callable[[sa.Connection, sa.ColumnElement[bool]], int],
                 window: sa.ColumnElement[bool]) -> Batch:
    """One batch: ``write`` over ``window`` in its own transaction, timed."""
    started = time.perf_counter()
    with conn.begin():
        _relax_commit(conn)
        rows = max(write(conn, window), 0)
    return Batch(rows, time.perf_counter() - started)



def _keyset_batches(conn: sa.Connection, keys: list[Any], due: sa.ColumnElement[bool],
                    write: Callable[[sa.Connection, sa.ColumnElement[bool]], int], sizer: BatchSizer,
                    should_stop: Callable[[], bool]) -> Iterator[Batch]:
    last: tuple[Any, ...] | None = None
    while not should_stop():
        # The window's own bounds come first: SQLite takes the first bounds it meets on an index
        # column as the range to scan, and the cutoff alone would make every batch scan to it.
        window = due if last is None else sa.and_(_after(keys, last), due)
        upper = _upper_key(conn, keys, window, sizer.size)
        conn.rollback()  # end the read transaction: nothing is held between batches
        if upper is None:
            return
        batch = _write_batch(conn, write, sa.and_(_at_most(keys, upper), window))
        sizer.record(batch.rows, batch.seconds)
        last = upper
        yield batch


def _upper_key(conn: sa.Connection, keys: list[Any], window: sa.ColumnElement[bool],
               size: int) -> tuple[Any, ...] | None:
    """The key of the ``size``-th due row of the window in key order (or of the last one).

    Skipping along the index (OFFSET) costs no sort; only the last, shorter batch asks again for
    the greatest key.
    """
    ordered = sa.select(*keys).where(window)
    row = conn.execute(ordered.order_by(*keys).offset(size - 1).limit(1)).first()
    if row is None:
        row = conn.execute(ordered.order_by(*(k.desc() for k in keys)).limit(1)).first()
    return tuple(row) if row is not None else None


def _after(keys: list[Any], last: tuple[Any, ...]) -> sa.ColumnElement[bool]:
    """``(keys) > (last)`` in key order, spelled so that every database scans an index range.

    The leading column's bound comes first and the rest is a plain OR, which SQLite evaluates
    much faster than a row-value comparison.
    """
    if len(keys) == 1:
        return keys[0] > last[0]
    return sa.and_(keys[0] >= last[0], sa.or_(keys[0] > last[0], _after(keys[1:], last[1:])))


def _at_most(keys: list[Any], upper: tuple[Any, ...]) -> sa.ColumnElement[bool]:
    """``(keys) <= (upper)`` in key order (see :func:`_after`)."""
    if len(keys) == 1:
        return keys[0] <= upper[0]
    return sa.and_(keys[0] <= upper[0], sa.or_(keys[0] < upper[0], _at_most(keys[1:], upper[1:])))
