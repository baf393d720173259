"""Checking a stretch of the audit chain: in this process, or split over worker processes.

Each event's hash is recomputed from its stored columns and compared with the stored hash; each
event's ``prev_hash`` must equal the stored hash of the event before it; sequence numbers must run
without gaps. Since every event carries its own ``prev_hash``, stretches can be checked
independently and joined afterwards by comparing the links at their boundaries — which is how a
large log is verified on several cores.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa

from tutela.audit.bulk import stream_rows
from tutela.audit.canonical import canonical_sql, event_hash
from tutela.audit.tables import audit_events

#: rows fetched per round trip when verifying
VERIFY_CHUNK = 20_000
#: events from which ``verify()`` splits the work over processes unless told otherwise
PARALLEL_MIN = 200_000
MAX_WORKERS = 4


@dataclass(frozen=True)
class StretchResult:
    """What checking events ``first``..``last`` found.

    ``checked``: events found good before the first problem; ``first_prev``: the stored
    ``prev_hash`` of event ``first`` when it was present and intact (its link is the caller's to
    check when the stretch was checked without a predecessor); ``last_hash``: hash of the last good
    event; ``bad``: (seq, sentence) of the first problem.
    """

    first: int
    last: int
    checked: int
    first_prev: str | None
    last_hash: str | None
    bad: tuple[int, str] | None


def check_stretch(conn: sa.Connection, first: int, last: int, prev_hash: str | None, *,
                  final: bool, progress: Callable[[int], None] | None = None) -> StretchResult:
    """Check events first..last in order; ``prev_hash`` None leaves event ``first``'s link unchecked.

    ``final``: the stretch ends at the signed head, so events missing at its end were cut off.
    A chunk is accepted with a few list comparisons; only a chunk that fails is walked row by row
    to name its first bad event.
    """
    expected, checked, first_prev, link = first, 0, None, prev_hash
    chunks = _digested_chunks(conn, first, last)
    try:
        for seqs, digests, prevs, hashes in chunks:
            if expected == first and seqs[0] == first and digests[0] == hashes[0]:
                first_prev = prevs[0]
                link = prevs[0] if link is None else link
            n = len(seqs)
            if (seqs[0] == expected and seqs[-1] == expected + n - 1 and digests == hashes
                    and prevs[0] == link and prevs[1:] == hashes[:-1]):
                expected, checked, link = expected + n, checked + n, hashes[-1]
                if progress is not None:
                    progress(checked)
                continue
            for seq, digest, stored_prev, stored_hash in zip(seqs, digests, prevs, hashes, strict=True):
                bad = _problem(seq, expected, digest, stored_hash, stored_prev, link)
                if bad is not None:
                    return StretchResult(first, last, checked, first_prev, link, bad)
                expected, checked, link = expected + 1, checked + 1, stored_hash
    finally:
        chunks.close()
        conn.commit()
    bad = None
    if expected <= last:
        gone = f"event {last} is" if expected == last else f"events {expected} to {last} are"
        bad = (expected, f"{gone} missing: the log was cut off at its end" if final
               else f"event {expected} is missing (deleted, or its sequence number was changed)")
    return StretchResult(first, last, checked, first_prev, link, bad)


def _problem(seq: int, expected: int, digest: str | None, stored_hash: str, stored_prev: str,
             link: str | None) -> tuple[int, str] | None:
    """The first problem with one event, checked in the order: position, content, link."""
    if seq != expected:
        return expected, f"event {expected} is missing (deleted, or its sequence number was changed)"
    if digest != stored_hash:
        return seq, f"event {seq} was changed (its content does not match its hash)"
    if stored_prev != link:
        return _broken_link(seq)
    return None


def _broken_link(seq: int) -> tuple[int, str]:
    # The event itself is intact, so the one before it was rewritten (with a recomputed hash).
    if seq > 1:
        return seq - 1, f"event {seq - 1} was replaced (event {seq} no longer links to it)"
    return seq, f"event {seq} does not start the chain"


def join_stretches(results: list[StretchResult], prev_hash: str) -> StretchResult:
    """Join consecutive stretch results (checked without predecessors) into one, checking links."""
    checked, link = 0, prev_hash
    for result in results:
        if result.first_prev is not None and result.first_prev != link:
            return StretchResult(results[0].first, results[-1].last, checked, None, link,
                                 _broken_link(result.first))
        checked += result.checked
        if result.bad is not None:
            return StretchResult(results[0].first, results[-1].last, checked, None, result.last_hash,
                                 result.bad)
        link = result.last_hash or link
    return StretchResult(results[0].first, results[-1].last, checked, None, link, None)


def check_in_parallel(conn: sa.Connection, url: str, first: int, last: int, prev_hash: str, *,
                      workers: int, progress: Callable[[int], None] | None = None) -> StretchResult:
    """Split first..last into ``workers`` stretches: this process checks the first, new ones the rest."""
    size = -(-(last - first + 1) // workers)
    bounds = [(start, min(start + size - 1, last)) for start in range(first, last + 1, size)]
    context = multiprocessing.get_context("spawn")  # safe beside threads (web server, worker)
    with ProcessPoolExecutor(max_workers=len(bounds) - 1, mp_context=context) as pool:
        futures = [pool.submit(check_stretch_at, url, start, end, end == last) for start, end in bounds[1:]]
        own = check_stretch(conn, bounds[0][0], bounds[0][1], prev_hash, final=len(bounds) == 1,
                            progress=progress)
        results = [own] + [future.result() for future in futures]
    joined = join_stretches(results, prev_hash)
    if progress is not None:
        progress(joined.checked)
    return joined


def check_stretch_at(url: str, first: int, last: int, final: bool) -> StretchResult:
    """Worker process entry: open the store at ``url`` and check events first..last."""
    from tutela.store.database import make_engine

    engine = make_engine(url, store=True, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return check_stretch(conn, first, last, None, final=final)
    finally:
        engine.dispose()


def default_workers(events: int) -> int:
    """Processes to verify ``events`` events with: 1 below ``PARALLEL_MIN``, else one per core (≤ 4)."""
    if events < PARALLEL_MIN:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def _digested_chunks(conn: sa.Connection, first: int, last: int) -> Iterator[tuple[list, list, list, list]]:
    """Per chunk of events first..last: (seqs, recomputed hashes, stored prev_hashes, stored hashes).

    PostgreSQL and MariaDB build the canonical string server-side (:func:`canonical_sql`), which
    is faster over the wire; SQLite, in-process, is as fast joining the columns in Python.
    """
    c = audit_events.c
    where = (c.seq >= first, c.seq <= last)
    sha256, join = hashlib.sha256, "\x1f".join
    if conn.dialect.name == "sqlite":
        stmt = sa.select(c.seq, c.at, c.actor, c.action, c.subject, c.tenant, c.details, c.prev_hash,
                         c.hash).where(*where).order_by(c.seq)
        for chunk in stream_rows(conn, stmt, VERIFY_CHUNK):
            try:
                # event_hash inlined: a million calls cost a second; the tests hold both to one result.
                digests = [sha256(join((
                    "a2", str(seq), at, actor, action, "-" if subject is None else "+" + subject,
                    "-" if tenant is None else "+" + tenant, details, prev)).encode()).hexdigest()
                    for seq, at, actor, action, subject, tenant, details, prev, _ in chunk]
            except (TypeError, UnicodeEncodeError):
                # A value of the wrong type or broken text somewhere in the chunk: row by row.
                digests = [_safe_hash(row) for row in chunk]
            yield [r[0] for r in chunk], digests, [r[7] for r in chunk], [r[8] for r in chunk]
        return
    stmt = sa.select(c.seq, canonical_sql(), c.prev_hash, c.hash).where(*where).order_by(c.seq)
    for chunk in stream_rows(conn, stmt, VERIFY_CHUNK):
        digests = [sha256(text.encode()).hexdigest() if isinstance(text, str) else None
                   for _, text, _, _ in chunk]
        yield [r[0] for r in chunk], digests, [r[2] for r in chunk], [r[3] for r in chunk]


def _safe_hash(row: tuple) -> str | None:
    try:
        return event_hash(*row[:8])
    except (TypeError, UnicodeEncodeError):
        return None
