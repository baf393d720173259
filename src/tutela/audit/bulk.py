"""Bulk row transfer for the audit chain, close to the database driver.

Appending and verifying touch every event, so the per-row cost of building parameter dicts and
result rows matters: inserts go to the driver's ``executemany`` as tuples where its parameter
style is positional (``COPY`` on PostgreSQL), and verification reads plain tuples from a server-side cursor.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence

import sqlalchemy as sa

#: rows from which a SQLite insert gets a larger page cache (index pages stay in memory)
LARGE_INSERT = 5_000
_LARGE_CACHE_KIB = 65_536

#: dialect → {(table, columns): the driver's INSERT text, or None when its parameters are not
#: positional in ``columns`` order}; compiling costs more than inserting one audit event
_insert_sql: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class BulkInserter:
    """Inserts batches of rows into one table in the caller's transaction (a context manager).

    On SQLite, the first batch of at least ``LARGE_INSERT`` rows raises the page cache to 64 MiB
    until the end of the block: a bulk insert updates the ``subject`` index at scattered places, and
    with SQLite's default 2 MiB cache most of those pages are re-read for every batch, which halves
    the insert rate.
    """

    def __init__(self, conn: sa.Connection, table: sa.Table, columns: Sequence[str]):
        self.conn, self.table, self.columns = conn, table, columns
        self._previous_cache: int | None = None

    def __enter__(self) -> BulkInserter:
        return self

    def insert(self, rows: list[tuple]) -> None:
        """Insert ``rows`` (tuples in ``columns`` order)."""
        if (len(rows) >= LARGE_INSERT and self._previous_cache is None
                and self.conn.dialect.name == "sqlite"):
            self._previous_cache = int(self.conn.exec_driver_sql("PRAGMA cache_size").scalar())
            self.conn.exec_driver_sql(f"PRAGMA cache_size = -{_LARGE_CACHE_KIB}")
        insert_rows(self.conn, self.table, self.columns, rows)

    def __exit__(self, *exc) -> None:
        if self._previous_cache is not None and not self.conn.closed:
            self.conn.exec_driver_sql(f"PRAGMA cache_size = {self._previous_cache}")


def insert_rows(conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) in the caller's transaction.

    PostgreSQL (psycopg): one ``COPY … FROM STDIN``; elsewhere one executemany.
    """
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        preparer = conn.dialect.identifier_preparer
        names = ", ".join(preparer.quote(c) for c in columns)
        with conn.connection.dbapi_connection.cursor() as cursor:
            with cursor.copy(f"COPY {preparer.format_table(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    sql = positional_insert(conn.dialect, table, columns)
    if sql is not None:
        conn.exec_driver_sql(sql, rows)
    else:
        conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])


def positional_insert(dialect: sa.Dialect, table: sa.Table, columns: Sequence[str]) -> str | None:
    """The INSERT of ``columns`` into ``table`` as the driver's text, taking a tuple per row;
    None when the dialect's parameters are not positional. Compiled once per dialect."""
    cache = _insert_sql.setdefault(dialect, {})
    shape = (table, tuple(columns))
    if shape not in cache:
        statement = table.insert().compile(dialect=dialect, column_keys=list(columns))
        positional = statement.positional and tuple(statement.positiontup or ()) == tuple(columns)
        cache[shape] = str(statement) if positional else None
    return cache[shape]


def stream_rows(conn: sa.Connection, select: sa.Select, chunk: int) -> Iterator[list[tuple]]:
    """Yield the rows of ``select`` as lists of plain tuples, ``chunk`` at a time, streamed.

    ``select`` must only hold integer bind values: it is compiled with literal values.
    """
    sql = str(select.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if not conn.in_transaction():
        conn.begin()  # so that the caller's commit() also ends the driver's transaction
    dbapi = conn.connection.dbapi_connection
    name = conn.dialect.name
    if name == "postgresql" and conn.dialect.driver == "psycopg":
        cursor = dbapi.cursor(name="tutela_stream")
        cursor.itersize = chunk
    elif name in ("mysql", "mariadb") and conn.dialect.driver == "pymysql":
        import pymysql.cursors

        cursor = dbapi.cursor(pymysql.cursors.SSCursor)
    else:
        cursor = dbapi.cursor()
    try:
        cursor.execute(sql)
        while True:
            rows = cursor.fetchmany(chunk)
            if not rows:
                break
            yield rows
    finally:
        cursor.close()
