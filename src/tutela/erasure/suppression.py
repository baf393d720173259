"""The suppression list (R8): identifiers that may never be contacted again.

Entries hold only the keyed hash of the normalised identifier (``t1:<key id>:<hex>``), its kind,
the reason (unsubscribe, bounce, erasure) and the time. :func:`is_suppressed` recomputes the hash
under every known key and asks one indexed query, cheap enough to call before every message.
Writing an entry twice is a no-op (unique hash), so every writer may retry freely.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from tutela.clock import utcnow
from tutela.crypto.hashing import hash_key_id, keyed_hashes, pseudonym
from tutela.erasure.tables import REASONS, suppression
from tutela.errors import InvalidInput, NotFound

#: hashes per ``IN (…)`` when filtering a list
_LOOKUP_CHUNK = 500


def check_reason(reason: str) -> str:
    """The reason, or InvalidInput naming the allowed ones."""
    if reason not in REASONS:
        raise InvalidInput(f"'{reason}' is not a suppression reason; use one of: {', '.join(REASONS)}")
    return reason


def entry(hashed: str, kind: str, reason: str, *, tenant: str | None = None, source: str | None = None,
          at: datetime | None = None) -> dict:
    """One suppression row for an already computed keyed hash."""
    return {"hash": hashed, "kind": kind, "key_id": hash_key_id(hashed), "reason": check_reason(reason),
            "tenant": tenant, "source": source, "created_at": (at or utcnow())}


def add_entries(tutela, entries: Iterable[dict], *, connection: sa.Connection | None = None) -> int:
    """Insert entries, skipping hashes already listed; one statement per call. Returns rows given."""
    rows = list({e["hash"]: e for e in entries}.values())
    if not rows:
        return 0
    if connection is not None:
        _insert_ignore(connection, rows)
    else:
        with tutela.store.engine.begin() as conn:
            _insert_ignore(conn, rows)
    return len(rows)


def _insert_ignore(connection: sa.Connection, rows: list[dict]) -> None:
    # Plain DBAPI executemany: SQLAlchemy's per-row parameter processing would cost more than
    # the insert itself on the large batches of a bulk run.
    dialect = connection.dialect.name
    names = ("hash", "kind", "key_id", "reason", "tenant", "source", "created_at")
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    values = ", ".join([mark] * len(names))
    # Table and column names are this module's constants; values travel as parameters.
    columns = f"{suppression.name} ({', '.join(names)}) VALUES ({values})"
    if dialect in ("sqlite", "postgresql"):
        sql = f"INSERT INTO {columns} ON CONFLICT (hash) DO NOTHING"  # noqa: S608
    else:
        sql = f"INSERT IGNORE INTO {columns}"  # noqa: S608
    times: dict[datetime, object] = {}  # a batch shares one time: convert it once
    params = []
    for row in sorted(rows, key=lambda r: r["hash"]):  # in index order: fewer page splits
        at = row["created_at"]
        if at not in times:
            times[at] = at.isoformat(sep=" ") if dialect == "sqlite" else at
        params.append((row["hash"], row["kind"], row["key_id"], row["reason"], row.get("tenant"),
                       row.get("source"), times[at]))
    connection.exec_driver_sql(sql, params)


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
    query = sa.select(suppression).where(suppression.c.hash.in_(hashes)).order_by(suppression.c.created_at)
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


