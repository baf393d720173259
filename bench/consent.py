"""Benchmark: ``may_process`` warm in-process (target ≤ 5 µs per call) and ledger appends per second.

For each store (``--db sqlite|postgresql|both``): one consent notice, ``--subjects`` subjects of
whom half gave consent, a few restricted. Measured:

* ``may_process`` cold (first call per subject: one query each) and warm (``--calls`` calls over
  the same subjects, answered by the in-process cache; the watermark check every 250 ms for other
  processes' events is included). Baseline in the same run: a plain dict lookup of the same keys
  in the same loop — the floor for any in-process cache. The ratio is warm / baseline.
* ``may_process_many`` over every subject (one statement per 1,000 keys): µs per subject.
* ledger appends/s: single events (``give_consent``: own transaction + audit event each) and a
  batch (``record_events`` with one audit event, multi-row inserts of 1,000).

    python bench/consent.py --calls 1000000 --db both

The last line is one JSON object: {"bench", "figures", "targets", "met"}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from tutela.consent import (  # noqa: E402
    ConsentEvent,
    create_notice,
    give_consent,
    may_process,
    may_process_many,
    record_events,
    restrict,
)
from tutela.consent.ledger import subject_key_for  # noqa: E402
from tutela.crypto.keyring import Keyring  # noqa: E402
from tutela.engine import Tutela  # noqa: E402
from tutela.policy import parse_policy  # noqa: E402
from tutela.store import Store  # noqa: E402

from dbs import fresh_database, server_available  # noqa: E402

TARGETS = {"may_process_warm_us": 5.0}
POLICY = """
version: 1
controller: {name: Bench, contact: privacy@bench.example}
purposes:
  newsletter: {description: Newsletter, basis: consent, direct_marketing: true}
  service: {description: Service, basis: contract}
systems:
  app: {url: "sqlite:///app.db", tables: {}}
"""


def run_one(url: str, *, calls: int, subjects: int, appends: int) -> dict:
    store = Store(url)
    store.migrate()
    tutela = Tutela(parse_policy(POLICY), store=store, keyring=Keyring.generate(), actor="bench")
    try:
        create_notice(tutela, "newsletter", "# Newsletter\nOne mail a week.", actor="bench")
        keys = [subject_key_for(tutela, "email", f"user{i}@example.org") for i in range(subjects)]

        start = time.perf_counter()
        record_events(tutela, [ConsentEvent(k, "newsletter") for k in keys[::2]], actor="bench", audit_each=False)
        batch_s = time.perf_counter() - start
        singles = [subject_key_for(tutela, "email", f"single{i}@example.org") for i in range(appends)]
        start = time.perf_counter()
        for k in singles:
            give_consent(tutela, k, "newsletter", actor="bench")
        single_s = time.perf_counter() - start
        for k in keys[1:100:7]:
            restrict(tutela, k, kind="restriction", reason="bench", actor="bench")

        start = time.perf_counter()
        for k in keys:
            may_process(tutela, k, "newsletter")
        cold_us = (time.perf_counter() - start) / len(keys) * 1e6

        sequence = [keys[i % len(keys)] for i in range(calls)]
        start = time.perf_counter()
        for k in sequence:
            may_process(tutela, k, "newsletter")
        warm_us = (time.perf_counter() - start) / calls * 1e6

        table = {(k, "newsletter", None): may_process(tutela, k, "newsletter") for k in keys}
        start = time.perf_counter()
        for k in sequence:
            table.get((k, "newsletter", None))
        dict_us = (time.perf_counter() - start) / calls * 1e6

        start = time.perf_counter()
        bulk = may_process_many(tutela, keys, "newsletter")
        bulk_us = (time.perf_counter() - start) / len(keys) * 1e6
        assert sum(d.allowed for d in bulk.values()) == sum(table[(k, "newsletter", None)].allowed for k in keys)
        return {"may_process_warm_us": round(warm_us, 3), "dict_lookup_us": round(dict_us, 3),
                "ratio_warm_to_dict": round(warm_us / dict_us, 2), "may_process_cold_us": round(cold_us, 1),
                "may_process_many_us_per_subject": round(bulk_us, 2),
                "ledger_appends_per_s_single": round(appends / single_s),
                "ledger_appends_per_s_batch": round(len(keys[::2]) / batch_s)}
    finally:
        tutela.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000, help="warm may_process calls to time")
    parser.add_argument("--subjects", type=int, default=10_000, help="distinct subjects (half consented)")
    parser.add_argument("--appends", type=int, default=500, help="single ledger appends to time")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()

    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    figures: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        for kind in kinds:
            reason = server_available(kind)
            if reason:
                print(f"{kind}: skipped ({reason})")
                continue
            url = stack.enter_context(fresh_database(kind, Path(tmp)))
            figures[kind] = result = run_one(url, calls=args.calls, subjects=args.subjects, appends=args.appends)
            print(f"{kind}: may_process warm {result['may_process_warm_us']} µs/call "
                  f"(dict lookup {result['dict_lookup_us']} µs, ratio {result['ratio_warm_to_dict']}×; "
                  f"target ≤ {TARGETS['may_process_warm_us']} µs), cold {result['may_process_cold_us']} µs, "
                  f"bulk {result['may_process_many_us_per_subject']} µs/subject; ledger appends "
                  f"{result['ledger_appends_per_s_single']}/s single, {result['ledger_appends_per_s_batch']}/s batch")
    met = bool(figures) and all(f["may_process_warm_us"] <= TARGETS["may_process_warm_us"] for f in figures.values())
    print(json.dumps({"bench": "consent", "figures": figures, "targets": TARGETS, "met": met}))


if __name__ == "__main__":
    main()
