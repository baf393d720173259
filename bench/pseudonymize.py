"""Benchmark: bulk pseudonymisation of newsletter contacts (SPEC §4).

N contacts, half of them unsubscribed or bounced. Three ways, same database, same run:

* Tutela: ``pseudonymize(table, "status=unsubscribed,bounced")`` — keyset batches, hashing in SQL,
  suppression entries written to the engine store (SQLite file), receipt and audit;
* the bound: ONE hand-written ``UPDATE`` doing the same hashing (SQLite: a lean registered HMAC
  function; PostgreSQL: pgcrypto ``hmac``), no suppression, no batches;
* a per-row loop: read a row, hash in Python, ``UPDATE … WHERE id = ?``, commit — timed on a sample
  of ``--sample`` rows and extrapolated to every target row (said so in the output).

Targets: Tutela ≤ 1.25 × the bound, and ≥ 20 × faster than the per-row loop.
Last line: one JSON object {"bench", "figures", "targets", "met"}.

    python bench/pseudonymize.py --rows 100000 --db both
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from tutela.crypto.hashing import keyed_hash_normalised
from tutela.crypto.keyring import Keyring
from tutela.engine import Tutela
from tutela.erasure.pseudonymize import pseudonymize
from tutela.policy.loader import parse_policy
from tutela.store import Store
from tutela.store.database import make_engine

PG_ADMIN = os.environ.get("TUTELA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TARGET_BOUND = 1.25
TARGET_PER_ROW = 20.0
STATUSES = ("subscribed", "unsubscribed", "subscribed", "bounced")

POLICY = """\
version: 1
controller: {{name: Bench, contact: privacy@bench.example}}
engine: {{store: "{store}", keyring: unused.key{batch}}}
purposes:
  newsletter: {{description: Newsletter, basis: consent}}
subjects:
  contact: {{system: app, table: contacts_tutela, identities: {{email: email}}}}
systems:
  app:
    url: "{url}"
    tables:
      contacts_tutela:
        subject: contact
        purpose: newsletter
        fields:
          email: {{category: user.contact.email, identity: email, on_erasure: hash}}
          first_name: {{category: user.name, on_erasure: "null"}}
          country: {{category: user.contact.address.country, on_erasure: "generalize:country"}}
          status: {{category: user.account, on_erasure: keep}}
"""


def contacts(name: str, metadata: sa.MetaData) -> sa.Table:
    return sa.Table(name, metadata,
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("email", sa.String(120), nullable=False, index=True),
                    sa.Column("first_name", sa.String(60)),
                    sa.Column("country", sa.String(20)),
                    sa.Column("status", sa.String(20), nullable=False))


def populate(engine: sa.Engine, rows: int) -> dict[str, sa.Table]:
    metadata = sa.MetaData()
    tables = {k: contacts(f"contacts_{k}", metadata) for k in ("tutela", "bound", "loop")}
    metadata.create_all(engine)
    chunk = 50_000
    with engine.begin() as conn:
        for start in range(1, rows + 1, chunk):
            conn.execute(tables["tutela"].insert(), [
                dict(id=i, email=f"Person{i}@Example.org", first_name=f"Name{i}", country="de-BY",
                     status=STATUSES[i % 4]) for i in range(start, min(start + chunk, rows + 1))])
        for k in ("bound", "loop"):
            conn.execute(tables[k].insert().from_select([c.name for c in tables[k].c], sa.select(tables["tutela"])))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
    return tables


def settle(engine: sa.Engine) -> None:
    """Flush what earlier steps wrote, so no measurement pays for another's writes."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)" if engine.dialect.name == "sqlite" else "CHECKPOINT")


def bound_update(engine: sa.Engine, table: sa.Table, key: bytes, key_id: str) -> float:
    """ONE hand-written UPDATE doing the same hashing and field changes."""
    where = "status IN ('unsubscribed', 'bounced')"
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            keyed = hmac.new(key, digestmod=hashlib.sha256)  # keyed once, copied per row (as Tutela does)

            def lean_hmac(value):
                mac = keyed.copy()
                mac.update(value.strip().lower().encode())
                return f"t1:{key_id}:{mac.hexdigest()}"
            conn.connection.driver_connection.create_function("bench_hmac", 1, lean_hmac, deterministic=True)
            sql = (f"UPDATE {table.name} SET email = bench_hmac(email), first_name = NULL, "  # noqa: S608
                   f"country = upper(substr(country, 1, 2)) WHERE {where}")
            started = time.perf_counter()
            conn.exec_driver_sql(sql)
        else:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pgcrypto")
            sql = sa.text(f"UPDATE {table.name} SET email = 't1:' || :kid || ':' || "  # noqa: S608
                          "encode(hmac(convert_to(lower(trim(email)), 'UTF8'), :key, 'sha256'), 'hex'), "
                          f"first_name = NULL, country = upper(substr(country, 1, 2)) WHERE {where}")
            started = time.perf_counter()
            conn.execute(sql, {"kid": key_id, "key": key})
    return time.perf_counter() - started


def per_row_loop(engine: sa.Engine, table: sa.Table, key: bytes, key_id: str, sample: int) -> float:
    """Seconds for ``sample`` rows processed one by one (select, hash in Python, update, commit)."""
    with engine.connect() as conn:
        ids = conn.execute(sa.select(table.c.id).where(table.c.status.in_(["unsubscribed", "bounced"]))
                           .order_by(table.c.id).limit(sample)).scalars().all()
    started = time.perf_counter()
    for row_id in ids:
        with engine.begin() as conn:
            email = conn.execute(sa.select(table.c.email).where(table.c.id == row_id)).scalar_one()
            conn.execute(table.update().where(table.c.id == row_id).values(
                email=keyed_hash_normalised(key, key_id, email.strip().lower()), first_name=None,
                country="DE"))
    return time.perf_counter() - started


def bench_one(kind: str, rows: int, sample: int, batch: int, workdir: Path) -> dict:
    if kind == "sqlite":
        url, admin, name = f"sqlite:///{workdir / 'app.db'}", None, None
    else:
        name = f"tutela_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        url = sa.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    if kind == "sqlite":
        with engine.connect() as conn:  # the application's file in WAL mode, as the figures were taken
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    try:
        started = time.perf_counter()
        tables = populate(engine, rows)
        print(f"[{kind}] populated {rows:,} rows x3 in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        keyring = Keyring.generate()
        store = f"sqlite:///{workdir / f'store-{kind}.db'}"
        text = POLICY.format(store=store, url=url, batch=f", batch_size: {batch}" if batch else "")
        tutela = Tutela(parse_policy(text, "bench.yaml", base_dir=str(workdir)), store=Store(store),
                        keyring=keyring, actor="bench")
        tutela.migrate()
        key_id = keyring.current_hash_key_id
        key = keyring.hash_key(key_id)

        batches: list[int] = []
        settle(engine)
        started = time.perf_counter()
        result = pseudonymize(tutela, "contacts_tutela", "status=unsubscribed,bounced", actor="bench",
                              progress=batches.append)
        t_tutela = time.perf_counter() - started
        targets = result.total
        print(f"[{kind}] tutela: {targets:,} rows in {t_tutela:.2f}s, batches of {batches}", file=sys.stderr)

        settle(engine)
        t_bound = bound_update(engine, tables["bound"], key, key_id)
        print(f"[{kind}] bound (one UPDATE): {t_bound:.2f}s", file=sys.stderr)

        with engine.connect() as conn:  # the same result: both tables hold the same hashes
            a = conn.execute(sa.select(tables["tutela"].c.email).order_by(tables["tutela"].c.id).limit(8)).all()
            b = conn.execute(sa.select(tables["bound"].c.email).order_by(tables["bound"].c.id).limit(8)).all()
        assert a == b, "Tutela and the bound disagree on the hashes"

        n = min(sample, targets)
        t_sample = per_row_loop(engine, tables["loop"], key, key_id, n)
        t_loop = t_sample / n * targets
        print(f"[{kind}] per-row loop: {n:,} rows in {t_sample:.2f}s, extrapolated to {targets:,}: "
              f"{t_loop:.1f}s", file=sys.stderr)
        tutela.close()
        return {"rows": rows, "targets": targets, "batches": len(batches), "largest_batch": max(batches),
                "tutela_s": round(t_tutela, 3), "bound_s": round(t_bound, 3),
                "per_row_s_extrapolated": round(t_loop, 2), "per_row_sample": n,
                "ratio_to_bound": round(t_tutela / t_bound, 3), "speedup_vs_per_row": round(t_loop / t_tutela, 1)}
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="contacts (half are pseudonymised)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--sample", type=int, default=2000, help="rows timed in the per-row loop")
    parser.add_argument("--batch", type=int, default=0,
                        help="Tutela's batch size (default: none in the policy, batches sized by time)")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            figures[kind] = bench_one(kind, args.rows, args.sample, args.batch, Path(tmp))
            f = figures[kind]
            print(f"{kind}: Tutela {f['tutela_s']}s = {f['ratio_to_bound']}x the bound ({f['bound_s']}s); "
                  f"{f['speedup_vs_per_row']}x faster than the per-row loop (extrapolated from "
                  f"{f['per_row_sample']} rows)")
    met = all(f["ratio_to_bound"] <= TARGET_BOUND and f["speedup_vs_per_row"] >= TARGET_PER_ROW
              for f in figures.values())
    print(json.dumps({"bench": "pseudonymize", "figures": figures,
                      "targets": {"ratio_to_bound_max": TARGET_BOUND, "speedup_vs_per_row_min": TARGET_PER_ROW},
                      "met": met}))


if __name__ == "__main__":
    main()
