"""Benchmark: building the demo booking app against a bare sqlite3 load of the same rows.

The baseline generates the same rows (``tutela.demo.app.generate``) and inserts them with the
standard library's ``sqlite3.executemany`` into the same schema, with no SQLAlchemy and no
batching; the measured run is ``build_app`` (streamed batches through SQLAlchemy Core, on an engine
from ``make_engine``, upload files not written). Targets: 10,000 end users built in ≤ 10 s (scaled
linearly for other sizes), within 1.5× of the baseline.

    python bench/demo_build.py --size 10000

The last line is one JSON object: {"bench", "figures", "targets", "met"}.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from tutela.demo.app import TABLES, build_app, create_schema, generate, utc_now
from tutela.store.database import make_engine

TARGET_SECONDS_PER_10K = 10.0
TARGET_RATIO = 1.5


def baseline(path: Path, size: int, seed: int, now) -> tuple[float, int]:
    """Generate the rows, then load them with plain sqlite3 executemany; (seconds, rows)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    create_schema(engine)
    engine.dispose()
    start = time.perf_counter()
    data = generate(size=size, seed=seed, now=now)
    conn = sqlite3.connect(path)
    total = 0
    with conn:
        for table in TABLES:
            rows = data.rows[table.name]
            if not rows:
                continue
            columns = list(rows[0])
            sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - fixed names
                   f"VALUES ({', '.join('?' for _ in columns)})")
            conn.executemany(sql, [tuple(_plain(row[c]) for c in columns) for row in rows])
            total += len(rows)
    conn.close()
    return time.perf_counter() - start, total


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value.isoformat() if isinstance(value, date) else value


def measured(path: Path, size: int, seed: int, now) -> tuple[float, int]:
    engine = make_engine(f"sqlite:///{path}")
    start = time.perf_counter()
    result = build_app(engine, size=size, seed=seed, now=now)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed, result.total_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="end users to generate")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    now = utc_now()
    with tempfile.TemporaryDirectory() as tmp:
        base_s, base_rows = baseline(Path(tmp) / "baseline.db", args.size, args.seed, now)
        build_s, rows = measured(Path(tmp) / "app.db", args.size, args.seed, now)
    assert rows == base_rows, "both runs must write the same rows"
    ratio = build_s / base_s
    limit = TARGET_SECONDS_PER_10K * args.size / 10_000
    print(f"{args.size:,} end users, {rows:,} rows")
    print(f"baseline (generate + sqlite3.executemany): {base_s:.2f} s")
    print(f"build_app (streamed SQLAlchemy batches):   {build_s:.2f} s  ({rows / build_s:,.0f} rows/s)")
    print(f"ratio {ratio:.2f} (target ≤ {TARGET_RATIO}), time target ≤ {limit:.1f} s")
    met = ratio <= TARGET_RATIO and build_s <= limit
    print(json.dumps({"bench": "demo_build",
                      "figures": {"size": args.size, "rows": rows, "baseline_s": round(base_s, 3),
                                  "build_s": round(build_s, 3), "rows_per_s": round(rows / build_s),
                                  "ratio": round(ratio, 3)},
                      "targets": {"build_s": limit, "ratio": TARGET_RATIO}, "met": met}))


if __name__ == "__main__":
    main()
