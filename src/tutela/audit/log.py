"""The tamper-evident audit log: a hash chain of events and a separately signed head.

Each stored event carries ``hash = SHA-256(canonical(seq, at, actor, action, subject, tenant,
details, prev_hash))`` where ``prev_hash`` is the hash of the event before it, so changing any
column of any event, deleting one or swapping two breaks the chain. The head row holds the last
sequence number and hash, signed with the keyring's Ed25519 key: cutting events off the end, or
rewriting the whole chain, no longer matches the signature.

Appends serialise on the head row (SQLite: the write lock taken by a no-op UPDATE; PostgreSQL
and MariaDB: ``SELECT … FOR UPDATE``), so the worker, the server and the CLI may append at once.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature

from tutela.audit.bulk import BulkInserter
from tutela.audit.canonical import event_hash, format_time, parse_time
from tutela.audit.chain import StretchResult, check_in_parallel, check_stretch, default_workers
from tutela.audit.events import AuditEvent, VerifyResult
from tutela.audit.tables import GENESIS, audit_events, audit_head
from tutela.crypto.keyring import Keyring
from tutela.errors import AuditTampered, ConfigurationError, InvalidInput, NotFound
from tutela.store import Store

_HEAD_ID = 1
#: rows per executemany when appending
APPEND_BATCH = 10_000

# The statements of every append, built once (SQLAlchemy then skips building them and their cache
# keys per event). Bound names differ from the columns: SET reserves the column names.
#: SQLite: a no-op write as the first statement takes the database's write lock
_TAKE_WRITE_LOCK = sa.update(audit_head).where(audit_head.c.id == _HEAD_ID).values(seq=audit_head.c.seq)
_READ_HEAD_FOR_UPDATE = sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == _HEAD_ID) \
    .with_for_update()
_WRITE_HEAD = sa.update(audit_head).where(audit_head.c.id == _HEAD_ID).values(
    seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash"), key_id=sa.bindparam("new_key_id"),
    signature=sa.bindparam("new_signature"))


def _head_message(seq: int, last_hash: str) -> bytes:
    return f"tutela-audit-head/v1\x1f{seq}\x1f{last_hash}".encode("ascii")


def _details_text(details: Any) -> str:
    if not details:
        return "{}"
    try:
        return _ENCODER.encode(details)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"audit details must be JSON data: {exc}") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"a {type(value).__name__} is not JSON data")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)
COLUMNS = ("seq", "at", "actor", "action", "subject", "tenant", "details", "prev_hash", "hash")


class AuditLog:
    """Append to, query and verify the audit chain of one engine store."""

    def __init__(self, store: Store, keyring: Keyring):
        self.store = store
        self.keyring = keyring

    # --- appending -------------------------------------------------------------------------
    def record(self, action: str, *, actor: str, subject: str | None = None, tenant: str | None = None,
               connection: sa.Connection | None = None, **details: Any) -> int:
        """Append one event and return its sequence number.

        Pass ``connection`` to append inside the caller's transaction on the engine store, so the
        event commits (or rolls back) together with the work it records.
        """
        return self.append(AuditEvent(action=action, actor=actor, subject=subject, tenant=tenant,
                                      details=details), connection=connection)

    def append(self, event: AuditEvent, *, connection: sa.Connection | None = None) -> int:
        """Append one event; return its sequence number."""
        return self.append_many([event], connection=connection).start

    def append_many(self, events: Iterable[AuditEvent], *, connection: sa.Connection | None = None,
                    batch_size: int = APPEND_BATCH) -> range:
        """Append events in order, in one transaction with one head update; return their seqs.

        Rows go in with one executemany per ``batch_size`` events. Nothing is stored when any event
        is invalid.
        """
        if connection is not None:
            return self._append(connection, events, batch_size)
        with self.store.engine.begin() as conn:
            return self._append(conn, events, batch_size)

    def _append(self, conn: sa.Connection, events: Iterable[AuditEvent], batch_size: int) -> range:
        last_seq, last_hash = self._lock_head(conn)
        first = last_seq + 1
        now = format_time(datetime.now(UTC))
        rows: list[tuple] = []
        with BulkInserter(conn, audit_events, COLUMNS) as bulk:
            for event in events:
                details = _details_text(event.details)
                event.validate(details)
                last_seq += 1
                at = format_time(event.at) if event.at is not None else now
                try:
                    digest = event_hash(last_seq, at, event.actor, event.action, event.subject, event.tenant,
                                        details, last_hash)
                except UnicodeEncodeError:
                    raise InvalidInput("an audit event holds text that is not valid Unicode") from None
                rows.append((last_seq, at, event.actor, event.action, event.subject, event.tenant, details,
                             last_hash, digest))
                last_hash = digest
                if len(rows) >= batch_size:
                    self._insert(conn, rows, bulk)
                    rows = []
            if rows:
                self._insert(conn, rows, bulk)
        if last_seq >= first:
            self._write_head(conn, last_seq, last_hash)
        return range(first, last_seq + 1)

    @staticmethod
    def _insert(conn: sa.Connection, rows: list[tuple], bulk: BulkInserter) -> None:
        # COPY goes to the driver directly, so its errors arrive unwrapped by SQLAlchemy.
        integrity_errors = (sa.exc.IntegrityError, conn.dialect.loaded_dbapi.IntegrityError)
        try:
            bulk.insert(rows)
        except integrity_errors:
            raise AuditTampered("an audit event already holds the next sequence number: events were "
                                "added outside Tutela; run `tutela audit verify`") from None

    def _lock_head(self, conn: sa.Connection) -> tuple[int, str]:
        """Take the chain's lock and return (last seq, last hash)."""
        try:
            if conn.dialect.name == "sqlite":
                # SQLite has no row locks: a write as the first statement takes the database's
                # write lock (waiting for other writers) before the head is read.
                conn.execute(_TAKE_WRITE_LOCK)
            row = conn.execute(_READ_HEAD_FOR_UPDATE).one_or_none()
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
            self._raise_if_not_migrated()
            raise ConfigurationError(f"the audit log cannot be written: {str(exc.orig).splitlines()[0]}") \
                from None
        if row is not None:
            return int(row.seq), row.hash
        if conn.execute(sa.select(sa.func.count()).select_from(audit_events)).scalar():
            raise AuditTampered("the signed audit head is missing while events exist; "
                                "run `tutela audit verify`")
        conn.execute(audit_head.insert().values(id=_HEAD_ID, seq=0, hash=GENESIS))
        return 0, GENESIS

    def _write_head(self, conn: sa.Connection, seq: int, last_hash: str) -> None:
        signature = base64.b64encode(self.keyring.signing_key.sign(_head_message(seq, last_hash)))
        conn.execute(_WRITE_HEAD, {"new_seq": seq, "new_hash": last_hash, "new_key_id": self.keyring.current_key_id,
                                   "new_signature": signature.decode()})

    def _raise_if_not_migrated(self) -> None:
        """ConfigurationError when the store lacks the audit tables (checked on its own connection)."""
        try:
            with self.store.engine.connect() as probe:
                missing = not sa.inspect(probe).has_table(audit_head.name)
        except sa.exc.DBAPIError:
            return
        if missing:
            raise ConfigurationError("the engine store has no audit tables yet; run `tutela init` "
                                     "(or migrate the store) first")

    # --- reading ---------------------------------------------------------------------------
    def query(self, action: str | None = None, actor: str | None = None,
              subject: str | Sequence[str] | None = None,
              tenant: str | None = None, since: datetime | None = None, until: datetime | None = None,
              limit: int | None = None) -> list[AuditEvent]:
        """Events matching every given filter, oldest first; with ``limit``, the newest ``limit``.

        ``action`` matches a whole name or, ending in ``.*`` (``erasure.*``), every action under it.
        ``subject`` may list several pseudonyms (one person's under every key generation, see
        :func:`tutela.crypto.hashing.keyed_hashes`). ``since`` is inclusive, ``until`` exclusive.
        """
        c = audit_events.c
        stmt = sa.select(audit_events)
        if action:
            stmt = stmt.where(c.action.startswith(action[:-1], autoescape=True)
                              if action.endswith(".*") else c.action == action)
        if subject is not None:
            stmt = stmt.where(c.subject == subject if isinstance(subject, str) else c.subject.in_(list(subject)))
        for column, value in ((c.actor, actor), (c.tenant, tenant)):
            if value is not None:
                stmt = stmt.where(column == value)
        if since is not None:
            stmt = stmt.where(c.at >= format_time(since))
        if until is not None:
            stmt = stmt.where(c.at < format_time(until))
        if limit is not None:
            if limit < 1:
                raise InvalidInput("the limit must be 1 or more")
            stmt = stmt.order_by(c.seq.desc()).limit(limit)
        else:
            stmt = stmt.order_by(c.seq)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        if limit is not None:
            rows.reverse()
        return [_event(row) for row in rows]

    def get(self, seq: int) -> AuditEvent:
        """The event with sequence number ``seq``; NotFound if there is none."""
        with self._read() as conn:
            row = conn.execute(sa.select(audit_events).where(audit_events.c.seq == seq)).one_or_none()
        if row is None:
            raise NotFound(f"there is no audit event {seq}")
        return _event(row)

    def count(self) -> int:
        """How many events are stored."""
        with self._read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(audit_events)).scalar_one()

    def head(self) -> dict[str, Any]:
        """The signed head ({seq, hash, key_id, signature}); keep a copy elsewhere as an anchor."""
        with self._read() as conn:
            row = conn.execute(sa.select(audit_head).where(audit_head.c.id == _HEAD_ID)).one_or_none()
        if row is None:
            raise AuditTampered("the signed audit head is missing; run `tutela audit verify`")
        return {"seq": int(row.seq), "hash": row.hash, "key_id": row.key_id, "signature": row.signature}

    def _read(self) -> sa.Connection:
        conn = self.store.engine.connect()
        try:
            conn.execute(sa.select(audit_head.c.id).limit(1))
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
            try:
                self._raise_if_not_migrated()
            finally:
                conn.close()
            raise ConfigurationError(f"the audit log cannot be read: {str(exc.orig).splitlines()[0]}") \
                from None
        return conn

    # --- verifying -------------------------------------------------------------------------
    def verify(self, progress: Callable[[int], None] | None = None, *,
               workers: int | None = 1) -> VerifyResult:
        """Recompute the chain in sequence order and check it against the signed head.

        Finds the first event that was changed, deleted, moved, cut off the end or added outside
        Tutela, and a forged head. Rows are streamed in chunks; ``progress(n)`` is called with the
        number of events checked so far. Events appended while verifying are checked as well.

        ``workers``: processes to share the work; ``None`` picks one per core (at most 4) from
        200,000 events on. New processes are started with ``spawn``, which re-imports the main
        module: call with ``workers != 1`` only from a program whose entry point is guarded by
        ``if __name__ == "__main__"`` (the CLI is). A store in memory is always checked here.
        """
        checked, prev_hash, covered = 0, GENESIS, 0
        with self._read() as conn:
            for _round in range(1000):
                head = conn.execute(sa.select(audit_head).where(audit_head.c.id == _HEAD_ID)).one_or_none()
                conn.commit()
                if head is None:
                    return VerifyResult(False, checked, 1 if self._any_after(conn, 0) else None,
                                        "the signed head of the audit log is missing (deleted)")
                head_seq = int(head.seq)
                if head_seq < covered:
                    return VerifyResult(False, checked, head_seq + 1,
                                        f"the signed head went back from event {covered} to {head_seq}",
                                        head_seq)
                problem = self._check_head_signature(head)
                if head_seq > covered:
                    found = self._check_stretch(conn, covered + 1, head_seq, prev_hash, workers,
                                                _offset(progress, checked))
                    checked, prev_hash = checked + found.checked, found.last_hash or prev_hash
                    if found.bad is not None:
                        return VerifyResult(False, checked, found.bad[0], found.bad[1], head_seq)
                if problem is not None:
                    return VerifyResult(False, checked, head_seq or None, problem, head_seq)
                if head.hash != prev_hash:
                    return VerifyResult(False, checked, head_seq or None,
                                        f"event {head_seq} does not match the signed head", head_seq)
                covered = head_seq
                if not self._any_after(conn, covered):
                    return VerifyResult(True, checked, head_seq=head_seq)
                # Rows after the head: either appended since the head was read (re-read it), or
                # inserted without a head update (caught when the re-read head does not move).
                fresh = conn.execute(sa.select(audit_head.c.seq).where(audit_head.c.id == _HEAD_ID)).scalar()
                conn.commit()
                if fresh is None or int(fresh) <= covered:
                    return VerifyResult(False, checked, covered + 1,
                                        f"event {covered + 1} is not covered by the signed head: it was "
                                        "added outside Tutela", covered)
        return VerifyResult(True, checked, head_seq=covered)

    def _check_stretch(self, conn: sa.Connection, first: int, last: int, prev_hash: str,
                       workers: int | None, progress: Callable[[int], None] | None) -> StretchResult:
        count = last - first + 1
        workers = default_workers(count) if workers is None else max(1, min(workers, count))
        url = self.store.engine.url
        if workers > 1 and url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            workers = 1
        if workers == 1:
            return check_stretch(conn, first, last, prev_hash, final=True, progress=progress)
        return check_in_parallel(conn, url.render_as_string(hide_password=False), first, last, prev_hash,
                                 workers=workers, progress=progress)

    def _check_head_signature(self, head: sa.Row) -> str | None:
        seq = int(head.seq)
        if head.signature is None:
            if seq == 0 and head.hash == GENESIS:
                return None
            return f"the signed head (event {seq}) has no signature: it was forged"
        try:
            key = self.keyring.verify_key_for(head.key_id or "")
            key.verify(base64.b64decode(head.signature, validate=True), _head_message(seq, head.hash))
        except NotFound:
            return (f"the signed head (event {seq}) names key '{head.key_id}', which this keyring does "
                    "not hold: it was forged, or the keyring was replaced")
        except (InvalidSignature, binascii.Error, ValueError):
            return f"the signature of the head (event {seq}) does not verify: the head was forged"
        return None

    @staticmethod
    def _any_after(conn: sa.Connection, seq: int) -> bool:
        found = conn.execute(sa.select(audit_events.c.seq).where(audit_events.c.seq > seq).limit(1)).first()
        conn.commit()
        return found is not None


def _offset(progress: Callable[[int], None] | None, before: int) -> Callable[[int], None] | None:
    """A progress callback for a stretch, counting the events checked before it."""
    if progress is None:
        return None
    return lambda checked: progress(before + checked)


def _event(row: sa.Row) -> AuditEvent:
    try:
        details = json.loads(row.details)
    except (TypeError, ValueError):
        details = {"unreadable": True}
    try:
        at = parse_time(row.at)
    except (TypeError, ValueError):
        at = None
    return AuditEvent(action=row.action, actor=row.actor, subject=row.subject, tenant=row.tenant,
                      details=details, at=at, seq=int(row.seq), hash=row.hash)
