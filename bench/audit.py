"""Benchmark: audit appends per second (target ≥ 50,000) and verify of 1,000,000 events (≤ 5 s).

For each store (``--db sqlite|postgresql|both``), ``--events`` events (default 1,000,000) of a
realistic shape (action, actor, pseudonym subject, tenant, small details) are:

* appended with ``AuditLog.append_many`` (validation, canonical JSON details, SHA-256 chain,
  batched inserts, one signed head update) — events/s;
* verified with ``AuditLog.verify`` (streamed in sequence order, every hash recomputed, links and
  the signed head checked; from 200,000 events split over one process per core, at most 4) —
  seconds; then once more in one process (``workers=1``), for comparison.

Baseline in the same run: the same rows (already serialised, no validation, no hashing, no head)
inserted into the same table with the same driver path and batches, then removed — the cost of
storing alone; the ratio is append time / baseline time.

    python bench/audit.py --events 100000 --db both     # quick
    python bench/audit.py                                # 1,000,000 events, sqlite and postgresql

Wall-clock figures decide ``met``; the CPU seconds of this process are printed beside them, since
on a shared machine the wall clock mostly measures the other processes (for PostgreSQL the
server's own CPU is not included).

The last line is one JSON object: {"bench", "figures", "targets", "met"}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from tutela.audit import AuditEvent, AuditLog  # noqa: E402
from tutela.audit.bulk import BulkInserter  # noqa: E402
from tutela.audit.log import COLUMNS, format_time  # noqa: E402
from tutela.audit.tables import audit_events  # noqa: E402
from tutela.crypto.hashing import keyed_hash_normalised  # noqa: E402
from tutela.crypto.keyring import Keyring  # noqa: E402
from tutela.store import Store  # noqa: E402

from dbs import fresh_database, server_available  # noqa: E402

TARGETS = {"append_events_per_s": 50_000, "verify_seconds_per_million": 5.0}
ACTIONS = ("request.created", "request.verified", "erasure.forget", "consent.given", "retention.run")


def make_events(count: int, keyring: Keyring) -> list[AuditEvent]:
    key, key_id = keyring.hash_key(), keyring.current_hash_key_id
    subjects = [keyed_hash_normalised(key, key_id, f"user{i}@example.de") for i in range(1000)]
    return [AuditEvent(ACTIONS[i % 5], "worker" if i % 5 == 4 else "api", subjects[i % 1000],
                       f"tenant-{i % 20}", {"request_id": f"r-{i}", "rows": i % 50})
            for i in range(count)]


def baseline(store: Store, events: list[AuditEvent], batch: int) -> float:
    """Insert the same rows, pre-serialised and without validation, hashing or head, then remove them.

    Same table (same indexes), same driver path (executemany, COPY on PostgreSQL; SQLite's larger
    page cache), same batches.
    """
    at = format_time(datetime.now(UTC))
    rows = [(i + 1, at, e.actor, e.action, e.subject, e.tenant, json.dumps(dict(e.details)), "0" * 64, "0" * 64)
            for i, e in enumerate(events)]
    start = time.perf_counter()
    with store.engine.begin() as conn, BulkInserter(conn, audit_events, COLUMNS) as bulk:
        for first in range(0, len(rows), batch):
            bulk.insert(rows[first:first + batch])
    elapsed = time.perf_counter() - start
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")  # past the append-only trigger
        conn.execute(audit_events.delete())
    if store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE tutela_audit")
    return elapsed


def run_one(url: str, count: int, batch: int) -> dict:
    store = Store(url)
    store.migrate()
    keyring = Keyring.generate()
    log = AuditLog(store, keyring)
    events = make_events(count, keyring)
    base = baseline(store, events, batch)
    start, cpu = time.perf_counter(), time.process_time()
    log.append_many(events, batch_size=batch)
    append, append_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    result = log.verify(workers=None)  # as `tutela audit verify` does
    verify, verify_cpu = time.perf_counter() - start, time.process_time() - cpu
    if not result.ok or result.checked != count:
        raise SystemExit(f"verify failed: {result}")
    start = time.perf_counter()
    serial = log.verify(workers=1)
    verify_serial = time.perf_counter() - start
    if serial != result:
        raise SystemExit(f"serial and parallel verification disagree: {serial} / {result}")
    store.dispose()
    return {"events": count, "baseline_s": round(base, 3), "append_s": round(append, 3),
            "append_events_per_s": round(count / append), "ratio_vs_plain_insert": round(append / base, 2),
            "verify_s": round(verify, 3), "verify_seconds_per_million": round(verify * 1_000_000 / count, 2),
            "append_cpu_s": round(append_cpu, 3), "verify_cpu_s": round(verify_cpu, 3),
            "verify_one_process_s": round(verify_serial, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", "--rows", type=int, default=1_000_000, help="events to append and verify")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--batch", type=int, default=10_000, help="rows per executemany / COPY")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    figures: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            reason = server_available(kind)
            if reason:
                print(f"{kind}: skipped ({reason})")
                continue
            with fresh_database(kind, Path(tmp)) as url:
                figures[kind] = run_one(url, args.events, args.batch)
            f = figures[kind]
            print(f"{kind}: append {f['events']:,} events in {f['append_s']} s = {f['append_events_per_s']:,}/s "
                  f"(plain insert {f['baseline_s']} s, ratio {f['ratio_vs_plain_insert']}); "
                  f"verify {f['verify_s']} s ({f['verify_seconds_per_million']} s per million); "
                  f"CPU of this process: append {f['append_cpu_s']} s, verify {f['verify_cpu_s']} s; "
                  f"verify in one process {f['verify_one_process_s']} s")
    met = bool(figures) and all(
        f["append_events_per_s"] >= TARGETS["append_events_per_s"]
        and f["verify_seconds_per_million"] <= TARGETS["verify_seconds_per_million"] for f in figures.values())
    print(json.dumps({"bench": "audit", "figures": figures, "targets": TARGETS, "met": met}))


if __name__ == "__main__":
    main()
