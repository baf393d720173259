"""The suppression list (R8): identifiers that may never be contacted again.

Entries hold only the keyed hash of the normalised identifier (``t1:<key id>:<hex>``), its kind,
the reason (unsubscribe, bounce, erasure) and the time. :func:`is_suppressed` recomputes the hash
under every known key and asks one indexed query, cheap enough to call before every message.
Writing an entry twice is a no-op (unique hash), so every writer may retry freely.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from tutela.clock import utcnow
from tutela.crypto.hashing import hash_key_id, keyed_hashes, pseudonym
from tutela.erasure.tables import REASONS, entries_select, suppression, suppression_batch
from tutela.errors import InvalidInput, NotFound
from tutela.store.bulk import BulkWrites, bulk_writes
from tutela.store.database import synced

#: hashes per ``IN (…)`` when filtering a list
_LOOKUP_CHUNK = 500


def check_reason(reason: str) -> str:
    """The reason, or InvalidInput naming the allowed ones."""
    if reason not in REASONS:
        raise InvalidInput(f"'{reason}' is not a suppression reason; use one of: {', '.join(REASONS)}")
    return reason


def entry(hashed: str, kind: str, reason: str, *, tenant: str | None = None, source: str | None = None,
          at: datetime | None = None) -> dict:
    """One suppression entry for an already computed keyed hash (InvalidInput if it is not one;
    its key id is read from the hash when reported, not stored)."""
    hash_key_id(hashed)
    return {"hash": hashed, "kind": kind, "reason": check_reason(reason), "tenant": tenant, "source": source,
            "created_at": (at or utcnow())}


def add_entries(tutela, entries: Iterable[dict], *, connection: sa.Connection | None = None) -> int:
    """Insert entries, skipping hashes already listed; one batch row and one statement per distinct
    (reason, tenant, source, time). Returns the distinct hashes given."""
    rows = list({e["hash"]: e for e in entries}.values())
    if not rows:
        return 0
    groups: dict[tuple, list[tuple[str, str]]] = {}
    for r in rows:
        shared = (check_reason(r["reason"]), r.get("tenant"), r.get("source"), r["created_at"])
        groups.setdefault(shared, []).append((r["hash"], r["kind"]))
    if connection is not None:
        _insert_groups(connection, groups)
    else:
        # synced: an erasure commits right after, and must never outlive its entry on a power loss
        with tutela.store.engine.connect() as conn, synced(conn), conn.begin():
            _insert_groups(conn, groups)
    return len(rows)


def _insert_groups(connection: sa.Connection, groups: dict[tuple, list[tuple[str, str]]]) -> None:
    for shared, pairs in groups.items():
        _insert_ignore(connection, _new_batch(connection, shared), sorted(pairs))  # index order: fewer splits


def _new_batch(connection: sa.Connection, shared: tuple) -> int:
    """A new ``tutela_suppression_batch`` row for (reason, tenant, source, created_at); its id."""
    reason, tenant, source, at = shared
    inserted = connection.execute(suppression_batch.insert().values(
        reason=reason, tenant=tenant, source=source, created_at=at))
    return int(inserted.inserted_primary_key[0])


def _insert_sql(connection: sa.Connection, select: str | None = None) -> str:
    """INSERT of (hash, kind, batch) rows that skips hashes already listed: ``VALUES`` placeholders,
    or the rows of ``select``."""
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    # Table and column names are this module's constants; values travel as parameters.
    sql = f"INSERT INTO {suppression.name} (hash, kind, batch) " + (select or f"VALUES ({mark}, {mark}, {mark})")
    if connection.dialect.name in ("sqlite", "postgresql"):
        return sql + " ON CONFLICT (hash) DO NOTHING"
    return sql + " ON DUPLICATE KEY UPDATE hash = hash"  # not INSERT IGNORE: it hides real errors as warnings


def _insert_ignore(connection: sa.Connection, batch: int, pairs: list[tuple[str, str]]) -> None:
    """Insert (hash, kind) pairs of one batch row with one executemany; listed hashes are skipped."""
    # Plain DBAPI executemany: SQLAlchemy's per-row parameter processing costs more than the insert.
    connection.exec_driver_sql(_insert_sql(connection), [(h, kind, batch) for h, kind in pairs])


def _insert_hashes(connection: sa.Connection, hashes: list[str], kind: str, batch: int) -> None:
    """Insert many pseudonyms of one kind with one set-based statement; listed ones are skipped.

    The hashes travel as ONE parameter (a JSON array on SQLite, an array on PostgreSQL) that the
    database unpacks itself, so the statement runs without the Python interpreter; on MariaDB it
    is an executemany.
    """
    dialect = connection.dialect.name
    if dialect == "sqlite":
        # "WHERE true": SQLite's parser needs it before ON CONFLICT after a SELECT
        sql = _insert_sql(connection, "SELECT value, ?, ? FROM json_each(?) WHERE true")
        connection.exec_driver_sql(sql, (kind, batch, json.dumps(sorted(hashes))))
    elif dialect == "postgresql":
        sql = _insert_sql(connection, "SELECT h, %s, %s FROM unnest(%s::text[]) AS h")
        connection.exec_driver_sql(sql, (kind, batch, sorted(hashes)))
    else:
        _insert_ignore(connection, batch, [(h, kind) for h in sorted(hashes)])


class SuppressionWriter:
    """Writes a bulk run's suppression entries while the run's UPDATE is still going.

    :meth:`sink` gives the hash function, per identity kind, a callable that takes each pseudonym
    as the UPDATE computes it. Every :data:`CHUNK` of them goes to a worker thread that inserts
    them with one set-based statement into an open engine-store transaction; the database runs
    that statement without holding Python's interpreter lock, so it overlaps the UPDATE on the
    second core. :meth:`commit` writes the rest and commits: the caller calls it BEFORE committing
    the target batch, so no pseudonymised identifier is ever left off the list. :meth:`rollback`
    drops the batch's entries.

    With ``inline`` (the engine store is the target database itself) there is no thread:
    :meth:`commit` inserts everything through the caller's connection, inside its transaction.
    """

    CHUNK = 4096

    def __init__(self, tutela, *, reason: str, source: str, tenant: str | None = None,
                 inline: bool = False):
        self._engine = tutela.store.engine
        self._fixed = (check_reason(reason), tenant, source)
        self._pool = None if inline else ThreadPoolExecutor(1, "tutela-suppression")
        self._store: sa.Connection | None = None  # opened, used and closed on the worker thread only
        self._failed = False
        self._settings = ExitStack()  # the store connection's bulk settings, undone on close
        self._bulk: BulkWrites | None = None
        self._pending: list[Future] = []
        self._unsent: dict[str, list[str]] = {}  # kind → pseudonyms not yet handed to the thread
        self._batch: list[str] = []  # every pseudonym of the batch, to count them
        self._at = utcnow()
        self._batch_id: int | None = None  # the open transaction's batch row (inline: the caller's)

    def sink(self, kind: str) -> Callable[[str], None]:
        """The callable that takes each pseudonym of identity ``kind`` (called once per row)."""
        unsent = self._unsent.setdefault(kind, [])
        append = unsent.append
        chunk = self.CHUNK if self._pool is not None else None

        def take(hashed: str) -> None:
            append(hashed)
            if chunk is not None and len(unsent) >= chunk:
                self._send(kind)
        return take

    def add(self, kind: str, hashes: Iterable[str]) -> None:
        """Pseudonyms of identity ``kind`` gathered all at once: written together at :meth:`commit`."""
        self._unsent.setdefault(kind, []).extend(hashes)

    def commit(self, connection: sa.Connection | None = None) -> int:
        """Write and commit the batch's entries; return how many distinct pseudonyms it had.

        Inline, the entries are written through ``connection`` and committed with its transaction.
        """
        try:
            for kind in self._unsent:
                self._send(kind, connection)
            if self._pool is not None:
                self._pending.append(self._pool.submit(self._finish, commit=True))
                self._wait()
            return len(set(self._batch))
        finally:
            self._reset()

    def rollback(self) -> None:
        """Drop the batch's entries (nothing of them is committed)."""
        try:
            if self._pool is not None:
                self._pending.append(self._pool.submit(self._finish, commit=False))
                self._wait()
        finally:
            self._reset()

    def close(self) -> None:
        if self._pool is not None:
            try:
                self.rollback()
            finally:
                self._pool.submit(self._close).result()
                self._pool.shutdown()
                self._pool = None

    def _reset(self) -> None:
        for unsent in self._unsent.values():
            unsent.clear()  # in place: the sinks hold these lists
        self._batch = []
        self._at = utcnow()
        if self._pool is None:
            self._batch_id = None

    def _send(self, kind: str, connection: sa.Connection | None = None) -> None:
        unsent = self._unsent[kind]
        if not unsent:
            return
        hashes = unsent[:]
        unsent.clear()
        self._batch += hashes
        shared = (*self._fixed, self._at)
        if self._pool is None:
            if self._batch_id is None:
                self._batch_id = _new_batch(connection, shared)
            _insert_hashes(connection, hashes, kind, self._batch_id)
        else:
            self._pending.append(self._pool.submit(self._insert, hashes, kind, shared))

    def _wait(self) -> None:
        pending, self._pending = self._pending, []
        errors = [f.exception() for f in pending]  # waits for every task, in order
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first

    # -- on the worker thread --
    def _insert(self, hashes: list[str], kind: str, shared: tuple) -> None:
        if self._store is None:
            self._store = self._engine.connect()
            # Each commit synced (the store's own commits skip the fsync under WAL): the entries
            # must be on disk before the target batch commits, or a power loss could keep the
            # pseudonym and lose its entry. Checkpoints wait for gaps between batches.
            self._bulk = self._settings.enter_context(bulk_writes(self._store, synchronous="FULL"))
        try:
            if not self._store.in_transaction():
                self._store.begin()
                self._failed = False
                self._batch_id = _new_batch(self._store, shared)
            _insert_hashes(self._store, hashes, kind, self._batch_id)
        except BaseException:
            self._failed = True  # the batch's commit becomes a rollback
            raise

    def _finish(self, *, commit: bool) -> None:
        if self._store is None or not self._store.in_transaction():
            return
        if commit and not self._failed:
            self._store.commit()
            self._bulk.between_batches()
        else:
            self._store.rollback()

    def _close(self) -> None:
        if self._store is not None:
            try:
                self._settings.close()
            finally:
                self._store.close()
                self._store = None


def suppress(tutela, kind: str, value: str, *, reason: str, tenant: str | None = None,
             source: str | None = None) -> str:
    """Add one identifier (normalised, hashed with the current key); return its pseudonym."""
    hashed = pseudonym(tutela.keyring, kind, value)
    add_entries(tutela, [entry(hashed, kind, reason, tenant=tenant, source=source)])
    return hashed


def is_suppressed(tutela, kind: str, value: str) -> bool:
    """True when ``value`` (an e-mail, phone …) is on the suppression list under any known key.

    InvalidInput when the identifier is malformed.
    """
    hashes = keyed_hashes(tutela.keyring, kind, value)
    query = sa.select(suppression.c.hash).where(suppression.c.hash.in_(hashes)).limit(1)
    with tutela.store.engine.connect() as conn:
        return conn.execute(query).first() is not None


def entries_for(tutela, hashes: list[str]) -> list[dict]:
    """The suppression rows of these hashes (for the authority lookup)."""
    if not hashes:
        return []
    query = entries_select().where(suppression.c.hash.in_(hashes)).order_by("created_at", suppression.c.hash)
    with tutela.store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


@dataclass
class FilterResult:
    total: int = 0
    suppressed: int = 0
    invalid: int = 0
    contactable: int = 0


def filter_mailing_list(tutela, source: Path, target: Path, *, column: str | None = None,
                        kind: str = "email") -> FilterResult:
    """Copy the rows of the CSV ``source`` whose identifier may be contacted into ``target``.

    The identifier column is ``column`` or the first header named like the kind (``email``).
    Rows with a malformed identifier are left out too (they cannot be contacted) and counted.
    """
    try:
        handle = source.open(newline="", encoding="utf-8-sig")
    except OSError:
        raise NotFound(f"cannot read the list '{source}'") from None
    with handle:
        reader = csv.DictReader(handle)
        headers = reader.fieldnames or []
        column = column or next((h for h in headers if h.strip().lower() in (kind, f"{kind}_address", "e-mail")),
                                None)
        if column not in headers:
            raise InvalidInput(f"the list has no '{column or kind}' column (columns: {', '.join(headers)})")
        result = FilterResult()
        with target.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=headers)
            writer.writeheader()
            chunk: list[tuple[dict, list[str]]] = []
            for row in reader:
                result.total += 1
                try:
                    chunk.append((row, keyed_hashes(tutela.keyring, kind, row[column] or "")))
                except InvalidInput:
                    result.invalid += 1
                    continue
                if len(chunk) >= _LOOKUP_CHUNK:
                    _write_contactable(tutela, chunk, writer, result)
                    chunk = []
            _write_contactable(tutela, chunk, writer, result)
    return result


def _write_contactable(tutela, chunk: list[tuple[dict, list[str]]], writer: csv.DictWriter,
                       result: FilterResult) -> None:
    if not chunk:
        return
    wanted = [h for _, hashes in chunk for h in hashes]
    with tutela.store.engine.connect() as conn:
        listed = set(conn.execute(sa.select(suppression.c.hash).where(suppression.c.hash.in_(wanted))).scalars())
    for row, hashes in chunk:
        if listed.intersection(hashes):
            result.suppressed += 1
        else:
            result.contactable += 1
            writer.writerow(row)


