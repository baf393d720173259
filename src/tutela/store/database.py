"""Opening and migrating the engine store (SQLite file by default, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from importlib import resources

import sqlalchemy as sa
from sqlalchemy import event

from tutela.errors import ConfigurationError


def make_engine(url: str, *, store: bool = False, **kwargs) -> sa.Engine:
    """A SQLAlchemy engine with Tutela's connection settings for each database kind.

    Every SQLite connection waits for locks (busy timeout) and enforces foreign keys. An engine
    store (``store=True``) is also switched to WAL, so the CLI, the worker and the server share the
    file; the application's own SQLite files keep the journal mode the application chose (WAL
    persists in the file, so switching it is not Tutela's call).
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigurationError("a database URL is malformed (expected e.g. sqlite:///file.db or "
                                 "postgresql+psycopg://host/db)") from None
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() in ("mysql", "mariadb") and "+" not in parsed.drivername:
        parsed = parsed.set(drivername=f"{parsed.get_backend_name()}+pymysql")
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except ImportError as exc:
        raise ConfigurationError(f"no driver for {parsed.get_backend_name()}: {exc.name} is not installed") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_store_pragmas if store else _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_store_pragmas(dbapi_connection, record) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # Under WAL, NORMAL keeps every commit through a crash or kill -9 of any process and never
    # corrupts; only the last commits can be lost if the machine itself loses power. It saves an
    # fsync per commit of the store (audit, requests, suppression).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: SQLite's names of the synchronous levels Tutela sets
_LEVELS = {"NORMAL": 1, "FULL": 2}


@contextmanager
def synchronous(connection: sa.Connection, level: str) -> Iterator[sa.Connection]:
    """Inside the block this SQLite connection commits at ``level``; restored afterwards.

    ``"FULL"``: each commit reaches the disk before it returns. ``"NORMAL"``: commits skip the
    fsync — applied only under WAL, where it stays consistent and only a power loss can undo the
    last commits. Other databases are left as they are (they always sync).
    """
    if connection.dialect.name != "sqlite":
        yield connection
        return
    before = int(connection.exec_driver_sql("PRAGMA synchronous").scalar())
    wal = str(connection.exec_driver_sql("PRAGMA journal_mode").scalar()).lower() == "wal"
    wanted = _LEVELS[level]
    change = wanted != before and (wanted > before or wal)
    if change:
        connection.exec_driver_sql(f"PRAGMA synchronous={wanted}")
    connection.rollback()  # the level cannot change inside a transaction
    try:
        yield connection
    finally:
        if change:
            if connection.in_transaction():
                connection.rollback()
            connection.exec_driver_sql(f"PRAGMA synchronous={before}")
            connection.rollback()


def synced(connection: sa.Connection):
    """Commits that reach the disk before they return (``synchronous(connection, "FULL")``).

    An engine store on SQLite commits without an fsync (``synchronous=NORMAL``, see
    :func:`_sqlite_store_pragmas`); a write that another database's commit must never outlive
    (a suppression entry before the erasure it stands for) asks for this, about 0.15 ms a commit.
    """
    return synchronous(connection, "FULL")


class Store:
    """The engine store: ``Store(url).migrate()`` brings it to the newest schema."""

    def __init__(self, url: str, engine: sa.Engine | None = None):
        self.url = url
        self._engine = engine

    @cached_property
    def engine(self) -> sa.Engine:
        return self._engine or make_engine(self.url, store=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def alembic_config(self):
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("tutela.store").joinpath("migrations")))
        return cfg

    def migrate(self) -> None:
        """Apply every pending migration of every area (all Alembic heads). Idempotent."""
        from alembic import command

        cfg = self.alembic_config()
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "heads")

    def current_revisions(self) -> set[str]:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())

    def dispose(self) -> None:
        if self._engine is not None or "engine" in self.__dict__:
            self.engine.dispose()
