"""Benchmark: a retention run against one plain DELETE on the same database (SPEC §4).

Builds two identical tables of ``--rows`` rows (half of them expired, with an index on the
timestamp column; ``--layout random`` spreads the expired rows at random over the table, the hard
case; ``--layout ordered`` puts them first, like an append-only log), removes the expired rows
from one with a single
``DELETE … WHERE created_at < cutoff`` (the baseline) and from the other with Tutela's batched
run, and prints the ratio (target ≤ 1.3) and the longest batch transaction (target ≤ 200 ms).

    python bench/retention.py --rows 200000 --db sqlite
    python bench/retention.py --rows 10000000 --db both --layout ordered

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

import sqlalchemy as sa
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from tutela.engine import Tutela  # noqa: E402
from tutela.policy import load_policy  # noqa: E402
from tutela.retention import bind_rules, run_rule  # noqa: E402
from tutela.store.database import make_engine  # noqa: E402

from dbs import fresh_database, server_available  # noqa: E402

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
TARGET_RATIO = 1.3
TARGET_BATCH_MS = 200.0


#: Days before NOW of row i (SQL shared by SQLite and PostgreSQL): expired rows are 400-799 days
#: old (the rule keeps 1 year), the others 0-299 days.
AGE_DAYS = {
    "random": "CASE WHEN (i * 2654435761) % 1000 < 500 THEN 400 + i % 400 ELSE i % 300 END",
    "ordered": "CASE WHEN i <= :half THEN 400 + ((:half - i) * 399) / :half "
               "ELSE ((:rows - i) * 299) / :half END",
}


def build(url: str, rows: int, layout: str) -> None:
    """Two identical tables, ``events_baseline`` and ``events_tutela``, half their rows expired."""
    engine = make_engine(url)
    kind = engine.dialect.name
    params = {"rows": rows, "half": rows // 2}
    if kind == "sqlite":
        with engine.connect() as conn:  # the application's file in WAL mode, as the figures were taken
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    with engine.begin() as conn:
        for name in ("events_baseline", "events_tutela"):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
            conn.exec_driver_sql(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, created_at TIMESTAMP NOT NULL, "
                                 "kind VARCHAR(20) NOT NULL, payload VARCHAR(100))")
        if kind == "sqlite":
            numbers = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows) "
            moment = (f"datetime('2025-06-15 12:00:00', '-' || ({AGE_DAYS[layout]}) || ' days', "
                      "'-' || (i % 86400) || ' seconds')")
            source, payload = "FROM n", "hex(i * 7919)"
        else:
            numbers = ""
            moment = (f"TIMESTAMP '2025-06-15 12:00:00' - make_interval(days => CAST({AGE_DAYS[layout]} AS int), "
                      "secs => i % 86400)")
            source, payload = "FROM generate_series(1, CAST(:rows AS bigint)) AS i", "to_hex(i * 7919)"
        conn.execute(sa.text(f"INSERT INTO events_baseline (id, created_at, kind, payload) {numbers}"
                             f"SELECT i, {moment}, 'page_view', 'payload ' || {payload} {source}"), params)
        conn.exec_driver_sql("INSERT INTO events_tutela SELECT * FROM events_baseline")
        for name in ("events_baseline", "events_tutela"):
            conn.exec_driver_sql(f"CREATE INDEX ix_{name}_created_at ON {name} (created_at)")
            if kind == "postgresql":
                # Autovacuum would start on the baseline's dead rows while Tutela's run is timed.
                conn.exec_driver_sql(f"ALTER TABLE {name} SET (autovacuum_enabled = false)")
    if kind == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE events_baseline")
            conn.exec_driver_sql("VACUUM ANALYZE events_tutela")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def settle(url: str) -> None:
    """Flush what earlier steps wrote, so neither measurement pays for the other's writes."""
    engine = make_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)" if engine.dialect.name == "sqlite"
                             else "CHECKPOINT")
    engine.dispose()


def baseline(url: str, cutoff: datetime) -> tuple[float, int]:
    """One plain DELETE in one transaction: (seconds, rows)."""
    engine = make_engine(url)  # the same connection settings as Tutela's (the file is in WAL mode)
    table = sa.Table("events_baseline", sa.MetaData(), autoload_with=engine)
    started = time.perf_counter()
    with engine.begin() as conn:
        deleted = conn.execute(sa.delete(table).where(table.c.created_at < cutoff)).rowcount
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, deleted


def tutela_run(url: str, folder: Path) -> tuple[float, int, float, int, int]:
    """Tutela's batched run of a 1-year rule: (seconds, rows, longest batch ms, batches, slow batches)."""
    policy = {
        "version": 1,
        "controller": {"name": "Bench", "contact": "privacy@bench.test"},
        "engine": {"store": f"sqlite:///{folder / 'store.db'}", "keyring": "tutela.key"},
        "purposes": {"analytics": {"description": "Usage statistics", "basis": "legitimate_interests",
                                   "legitimate_interest": "improving the product"}},
        "systems": {"app": {"url": url, "tables": {"events_tutela": {
            "purpose": "analytics", "retention": {"after": "1y", "from": "created_at"}}}}},
    }
    path = folder / "tutela.yaml"
    path.write_text(yaml.safe_dump(policy), encoding="utf-8")
    tutela = Tutela(load_policy(path))
    [rule] = bind_rules(tutela)
    started = time.perf_counter()
    result = run_rule(tutela, rule, now=NOW)
    seconds = time.perf_counter() - started
    tutela.close()
    if result.status != "done":
        raise SystemExit(f"the retention run did not finish: {result.status} {result.error}")
    return seconds, result.rows, result.longest_batch_ms, result.batches, result.slow_batches


def measure(kind: str, rows: int, layout: str, folder: Path) -> dict:
    with fresh_database(kind, folder) as url:
        print(f"[{kind}] building 2 × {rows:,} rows …", flush=True)
        build(url, rows, layout)
        cutoff = datetime(2024, 6, 15, 12, 0)
        settle(url)
        base_s, base_rows = baseline(url, cutoff)
        print(f"[{kind}] plain DELETE: {base_rows:,} rows in {base_s:.2f} s", flush=True)
        settle(url)
        run_s, run_rows, longest, batches, slow = tutela_run(url, folder)
        print(f"[{kind}] tutela run:   {run_rows:,} rows in {run_s:.2f} s, {batches} batches, "
              f"longest batch {longest:.0f} ms, {slow} over 200 ms", flush=True)
        if run_rows != base_rows:
            raise SystemExit(f"[{kind}] the run removed {run_rows} rows, the DELETE {base_rows}")
        ratio = run_s / base_s
        print(f"[{kind}] ratio {ratio:.2f} (target ≤ {TARGET_RATIO}); longest batch {longest:.0f} ms "
              f"(target ≤ {TARGET_BATCH_MS:.0f})", flush=True)
        return {"rows": rows, "layout": layout, "expired": run_rows, "baseline_s": round(base_s, 3),
                "tutela_s": round(run_s, 3),
                "ratio": round(ratio, 3), "longest_batch_ms": longest, "batches": batches,
                "batches_over_200ms": slow}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows per table (half expire)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--layout", choices=["random", "ordered"], default="random",
                        help="expired rows spread at random (default) or first in the table")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    figures = {}
    with tempfile.TemporaryDirectory(prefix="tutela-bench-") as tmp:
        for kind in kinds:
            reason = server_available(kind)
            if reason:
                raise SystemExit(reason)
            folder = Path(tmp) / kind
            folder.mkdir()
            figures[kind] = measure(kind, args.rows, args.layout, folder)
    met = all(f["ratio"] <= TARGET_RATIO and f["longest_batch_ms"] <= TARGET_BATCH_MS for f in figures.values())
    print(json.dumps({"bench": "retention", "figures": figures,
                      "targets": {"ratio": TARGET_RATIO, "longest_batch_ms": TARGET_BATCH_MS}, "met": met}))


if __name__ == "__main__":
    main()
