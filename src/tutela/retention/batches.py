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
  ``DELETE`` costs. On SQLite, when rows are deleted and an index leads with the ``from``
  column, each range is cut once more into **slices of time** (see :func:`_time_slices`).
* **keyset over the primary key** otherwise.

In a keyset walk the key of the n-th due row after the previous batch is read first (outside the
write transaction), then the window up to it is written.

The window's size adapts so that each write transaction takes about :func:`target_seconds`.
Every window's statement repeats the rule's condition and commits on its own, so a run killed at
any moment leaves only whole batches done and a re-run finds exactly what is still due.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

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
#: Slices of time per storage-order range (SQLite deletes, see :func:`_time_slices`):
#: ``due rows / sqrt(rows * SLICE_ROWS)``, at most ``MAX_SLICES``. Fitted on 10,000,000 rows with
#: 5,000,000 due at random (7.9 slices here): 7 to 12 slices took 32-35 s, 1 slice 56 s, 2 slices
#: 51 s, 4 slices 37 s, 16 slices 38 s (one plain DELETE 40 s).
SLICE_ROWS = 40_000
MAX_SLICES = 16
#: rows sampled (rowid seeks, one statement) to estimate the due share and where the slices cut:
#: enough that slices hold about as many due rows each (a range's batches are sized by its slowest)
SLICE_SAMPLES = 2048
#: A sliced run checkpoints its log once it holds this many pages (128 MiB at 4 KiB pages) even
#: in a larger database: its batches rewrite fewer pages again, so a long log saves less copying
#: than it costs every commit (measured, 10,000,000 rows with 8 slices: 16,384 to 32,768 log pages
#: 31-34 s, 60,000 pages 35-36 s, 120,000 pages 44 s).
SLICED_LOG_PAGES = 32768


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
                order_column: sa.Column | None = None, deletes: bool = False) -> Iterator[Batch]:
    """Run ``write`` over windows of ``table`` until no row matching ``due`` is left.

    ``write(conn, window)`` runs the one set-based statement of a batch (a DELETE or UPDATE) over
    the rows matching the window's WHERE clause and returns how many rows it changed. Stops early,
    between batches, when ``should_stop()`` turns true. ``order_column`` is the rule's ``from``
    column: when an index leads with it (PostgreSQL, SQLite), keyset batches follow that index.
    ``deletes`` says that ``write`` removes rows (so it changes that index too).
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
        slices = (_time_slices(conn, table, order_column, due, ranges)
                  if walk and deletes and by_time and conn.dialect.name == "sqlite" else [None])
        conn.rollback()
        if slices[0] is not None:
            bulk.max_log_pages = SLICED_LOG_PAGES
        if walk:
            batches = _range_batches(conn, ranges, due, write, target, should_stop, slices)
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
    if ranges.end - ranges.first < samples:
        return False  # too small to tell, and too small to matter
    values = [value for (value,) in _sample(conn, column.table, [column], ranges, samples) if value is not None]
    pairs = list(zip(values, values[1:], strict=False))
    return bool(pairs) and sum(a <= b for a, b in pairs) >= 0.9 * len(pairs)


def _sample(conn: sa.Connection, table: sa.Table, columns: list[Any], ranges: PhysicalRanges,
            samples: int) -> list[tuple]:
    """``columns`` of the first row at or after each of ``samples`` evenly spaced storage positions.

    Where positions are numbers (rowids, integer keys) one statement seeks every point; a
    PostgreSQL ``ctid`` bound is a parameter, so there each point is its own (short) query.
    """
    span = ranges.end - ranges.first
    count = min(samples, max(span, 0))
    if ranges.position is None:
        rows = []
        for k in range(count):
            query = sa.select(*columns).select_from(table).limit(1)
            row = conn.execute(query.where(ranges.clause(ranges.first + span * k // count, ranges.end))).first()
            if row is not None:
                rows.append(tuple(row))
        return rows
    steps = sa.select(sa.literal(0).label("k")).cte("steps", recursive=True)
    steps = steps.union_all(sa.select((steps.c.k + 1).label("k")).where(steps.c.k + 1 < count))
    point = ranges.first + (steps.c.k * span) // count

    def first_at_point(column: Any) -> sa.ScalarSelect:
        return (sa.select(column).select_from(table).where(ranges.clause(point, ranges.end))
                .order_by(ranges.position).limit(1).scalar_subquery())

    query = sa.select(*(first_at_point(column) for column in [ranges.position, *columns])).select_from(steps)
    return [tuple(row[1:]) for row in conn.execute(query) if row[0] is not None] if count else []


def _time_slices(conn: sa.Connection, table: sa.Table, column: sa.Column, due: sa.ColumnElement[bool],
                 ranges: PhysicalRanges) -> list[sa.ColumnElement[bool] | None]:
    """SQLite, rows deleted at random places: slices of time that cut every storage-order range.

    A batch deletes its rows from the table *and* from the ``from`` column's index, and its commit
    rewrites every page it touched into the WAL. A rowid range touches few table pages but, when the
    due rows lie at random, a large share of the index's due part; a slice of time touches few
    index pages but every table page. A window of a range *and* a slice touches few of both: each
    table page is rewritten once per slice instead of once, each due index page once per range
    instead of once per batch (10,000,000 rows, 5,000,000 due at random: 0.82-0.99x a plain DELETE
    with 8 slices, 1.3-1.4x with none). The cut points are quantiles of sampled due values, compared
    as stored; the slices cover every value whatever the cut points, and every window still repeats
    ``due``. Returns ``[None]`` (no slicing) when too few rows are due to gain from it.
    """
    if round(math.sqrt(ranges.estimated_rows / SLICE_ROWS)) < 2:
        return [None]  # fewer than two slices even if every row were due: no need to sample
    stored = sa.type_coerce(column, sa.String)  # the values as SQLite holds them, never re-rendered
    rows = _sample(conn, table, [stored, sa.case((due, 1), else_=0)], ranges, SLICE_SAMPLES)
    values = sorted((value for value, is_due in rows if is_due), key=_sqlite_order)
    if not values:
        return [None]
    due_rows = ranges.estimated_rows * len(values) / len(rows)
    count = min(MAX_SLICES, len(values), round(due_rows / math.sqrt(ranges.estimated_rows * SLICE_ROWS)))
    cuts = sorted({values[len(values) * k // count] for k in range(1, count)}, key=_sqlite_order)
    if not cuts:
        return [None]
    # SQLite's unary + keeps a term from choosing an index: each window scans its rowid range
    plain = UnaryExpression(stored, operator=operators.custom_op("+"), type_=sa.String())
    edges = [None, *cuts, None]
    return [sa.and_(*([plain >= low] if low is not None else []), *([plain < high] if high is not None else []))
            for low, high in zip(edges, edges[1:], strict=False)]


def _sqlite_order(value: Any) -> tuple[int, Any]:
    """Sort key of SQLite's order of stored values: numbers, then text, then blobs."""
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, value) if isinstance(value, str) else (2, bytes(value))


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
                   should_stop: Callable[[], bool], slices: list[sa.ColumnElement[bool] | None]) -> Iterator[Batch]:
    """Consecutive storage-order ranges, each written once per slice (one batch per range and slice).

    The ranges widen or narrow with the slowest batch of the last range.
    """
    width, low = ranges.start_width, ranges.first
    while low < ranges.end and not should_stop():
        high = min(low + width, ranges.end)
        slowest = 0.0
        for part in slices:
            if should_stop():
                return
            window = ranges.clause(low, high) if part is None else sa.and_(ranges.clause(low, high), part)
            batch = _write_batch(conn, write, sa.and_(window, due))
            yield batch
            slowest = max(slowest, batch.seconds)
        low = high
        width = max(1, int(width * growth_factor(target, slowest)))


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
