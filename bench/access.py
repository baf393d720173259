"""Benchmark: access requests and erasure on a 20-table schema, and the reference case (SPEC §4).

Part 1 (``--db sqlite|postgresql|both``): a generated 20-table schema holding ``--rows`` rows —
``subjects`` (the subject table, e-mail identity), 9 child tables (FK to subjects), 5 grandchild
tables (FK to a child) and 5 tables tied by an e-mail column — all foreign-key and identity columns
indexed. ``--requests`` access requests for random subjects: p50/p99 of find + export (resolve
the subject, one SELECT per table, the engine-store records, the ZIP built in memory); targets
p50 ≤ 20 ms, p99 ≤ 100 ms. Baseline in the same run: the same rows fetched by one hand-written
SQL query per table. Then batch erasure of ``--erase`` subjects through the request service (one
request per subject: create, operator-verify, run — suppression, signed receipt, audit): subjects/s.

Part 2 (PostgreSQL): the reference case — ``customer`` (e-mail identity), ``address`` (1 each),
``orders`` (5 each), ``login_event`` (10 each), ``--customers`` customers, linked by indexed
foreign keys. Per-request access (find + export) and erasure (``forget_subject``: null the
name/contact/device fields) in ms (targets ≤ 4 ms, ≤ 7 ms), against hand-written SELECTs and
UPDATEs; and the erasure of one customer with 10,000 orders and 10,000 login events (≤ 0.3 s).

    python bench/access.py --rows 200000 --customers 20000 --db both
    python bench/access.py                  # 10,000,000 rows, 100,000 customers
    python bench/access.py --only reference --customers 100000 --samples 300

``--only schema20`` runs part 1 alone (on ``--db``), ``--only reference`` part 2 alone.

The last line is one JSON object: {"bench", "figures", "targets", "met"}.
"""

# SQL here is built only from the bench's own table names and integers, never from input.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from tutela.crypto.keyring import Keyring  # noqa: E402
from tutela.engine import Tutela  # noqa: E402
from tutela.policy import parse_policy  # noqa: E402
from tutela.requests.batch import batch_erasure  # noqa: E402
from tutela.requests.export import build_zip, collect_rows, engine_records  # noqa: E402
from tutela.requests.service import RequestService  # noqa: E402
from tutela.store import Store  # noqa: E402
from tutela.subjects import SubjectGraph  # noqa: E402

from dbs import fresh_database, server_available  # noqa: E402

TARGETS = {"access_p50_ms": 20.0, "access_p99_ms": 100.0, "reference_access_ms": 4.0,
           "reference_erasure_ms": 7.0, "heavy_erasure_s": 0.3}
CHILDREN = [f"c{i:02d}" for i in range(1, 10)]
GRANDCHILDREN = [(f"g{i:02d}", CHILDREN[i - 10]) for i in range(10, 15)]
IDENTITY_TABLES = [f"e{i:02d}" for i in range(15, 20)]


# --- the generated 20-table schema -------------------------------------------------------------
def schema20() -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table("subjects", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("tenant_id", sa.Integer, nullable=False), sa.Column("email", sa.String(120)),
             sa.Column("full_name", sa.String(120)))
    for name in CHILDREN:
        sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                 sa.Column("subject_id", sa.Integer, sa.ForeignKey("subjects.id"), nullable=False),
                 sa.Column("data", sa.String(120)), sa.Column("amount", sa.Integer))
    for name, parent in GRANDCHILDREN:
        sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                 sa.Column("parent_id", sa.Integer, sa.ForeignKey(f"{parent}.id"), nullable=False),
                 sa.Column("data", sa.String(120)))
    for name in IDENTITY_TABLES:
        sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                 sa.Column("email", sa.String(120)), sa.Column("data", sa.String(120)))
    return metadata


def _sql(conn: sa.Connection, statement: str) -> None:
    # through text() so that '%' (modulo) is escaped for drivers with %-style parameters
    conn.execute(sa.text(statement))


def _series(kind: str, n: int, select: str) -> str:
    """``select`` (using column ``x`` = 1..n) over a generated series on this database."""
    if kind == "sqlite":
        return f"WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {n}) {select} FROM s"
    return f"{select} FROM generate_series(1::bigint, {n}) AS s(x)"


def build20(url: str, rows: int) -> int:
    """Create and fill the 20 tables (``rows`` in all); index after loading. Returns the subjects."""
    subjects = max(1000, rows // 20)
    engine = sa.create_engine(url)
    kind = engine.dialect.name
    metadata = schema20()
    metadata.create_all(engine)
    pick = "1 + (x * {m}) % {s}"
    with engine.begin() as conn:
        _sql(conn, "INSERT INTO subjects (id, tenant_id, email, full_name) " + _series(
            kind, subjects, "SELECT x, 1 + x % 5, 'user' || x || '@bench.example', 'Name ' || x"))
        for i, name in enumerate(CHILDREN):
            _sql(conn, f"INSERT INTO {name} (id, subject_id, data, amount) " + _series(
                kind, subjects, f"SELECT x, {pick.format(m=7919 + i * 2, s=subjects)}, 'row ' || x, x % 1000"))
        for i, (name, _parent) in enumerate(GRANDCHILDREN):
            _sql(conn, f"INSERT INTO {name} (id, parent_id, data) " + _series(
                kind, subjects, f"SELECT x, {pick.format(m=104729 + i * 2, s=subjects)}, 'row ' || x"))
        for i, name in enumerate(IDENTITY_TABLES):
            _sql(conn, f"INSERT INTO {name} (id, email, data) " + _series(
                kind, subjects, f"SELECT x, 'user' || ({pick.format(m=15485863 + i * 2, s=subjects)}) "
                                "|| '@bench.example', 'row ' || x"))
        _sql(conn, "CREATE INDEX ix_subjects_email ON subjects (email)")
        for name in CHILDREN:
            _sql(conn, f"CREATE INDEX ix_{name}_subject ON {name} (subject_id)")
        for name, _parent in GRANDCHILDREN:
            _sql(conn, f"CREATE INDEX ix_{name}_parent ON {name} (parent_id)")
        for name in IDENTITY_TABLES:
            _sql(conn, f"CREATE INDEX ix_{name}_email ON {name} (email)")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return subjects


def policy20(app_url: str, store_url: str) -> str:
    tables = ["      subjects:\n        subject: person\n        purpose: service\n        fields:\n"
              "          email: {category: user.contact.email, identity: email, on_erasure: hash}\n"
              "          full_name: {category: user.name, on_erasure: 'null'}\n"]
    for name in CHILDREN:
        tables.append(f"      {name}:\n        subject: person\n        parent: subjects\n        purpose: service\n"
                      "        fields:\n          data: {category: user.content.private, on_erasure: 'null'}\n")
    for name, parent in GRANDCHILDREN:
        tables.append(f"      {name}:\n        subject: person\n        parent: {parent}\n        purpose: service\n"
                      "        fields:\n          data: {category: user.content.private, on_erasure: 'null'}\n")
    for name in IDENTITY_TABLES:
        tables.append(f"      {name}:\n        subject: person\n        identity: {{email: email}}\n"
                      "        purpose: service\n        on_erasure: delete_row\n        fields:\n"
                      "          data: {category: user.content.private}\n")
    return textwrap.dedent(f"""\
        version: 1
        controller: {{name: Bench Ltd, contact: privacy@bench.example}}
        engine: {{store: "{store_url}", keyring: unused.key}}
        purposes:
          service: {{description: Run the service, basis: contract}}
        subjects:
          person: {{system: app, table: subjects, identities: {{email: email}}}}
        systems:
          app:
            url: "{app_url}"
            tables:
        """) + "".join(tables)


def baseline20(conn: sa.Connection, email: str) -> int:
    """The subject's rows by hand: one SQL query per table."""
    rows = 0
    sub = "(SELECT id FROM subjects WHERE email = :e)"
    queries = ["SELECT * FROM subjects WHERE email = :e"]
    queries += [f"SELECT * FROM {n} WHERE subject_id IN {sub}" for n in CHILDREN]
    queries += [f"SELECT * FROM {n} WHERE parent_id IN (SELECT id FROM {p} WHERE subject_id IN {sub})"
                for n, p in GRANDCHILDREN]
    queries += [f"SELECT * FROM {n} WHERE email = :e" for n in IDENTITY_TABLES]
    for query in queries:
        rows += len(conn.execute(sa.text(query), {"e": email}).all())
    return rows


def find_and_export(tutela: Tutela, graph: SubjectGraph, kind: str, value: str) -> tuple[int, int]:
    """What an access request does to answer: resolve, one SELECT per table, store records, ZIP."""
    keys = graph.resolve(kind, value)
    tables = collect_rows(tutela, graph, keys)
    from tutela.crypto.hashing import pseudonym

    subject = pseudonym(tutela.keyring, kind, value)
    records = engine_records(tutela, subject, None, [(kind, value)])
    data = build_zip(tutela, tables, records, request={"id": "bench", "type": "access"}, portability=False,
                     generated_at=__import__("datetime").datetime(2026, 1, 1))
    return sum(len(t.rows) for t in tables), len(data)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def make_tutela(policy_text: str, work: Path) -> Tutela:
    policy = parse_policy(policy_text, "bench.yaml", base_dir=str(work))
    tutela = Tutela(policy, store=Store(f"sqlite:///{work / 'store.db'}"), keyring=Keyring.generate(),
                    actor="bench")
    tutela.migrate()
    return tutela


def run20(kind: str, rows: int, requests: int, erase: int, work: Path) -> dict:
    with fresh_database(kind, work) as url:
        started = time.perf_counter()
        subjects = build20(url, rows)
        print(f"[{kind}] built 20 tables, {subjects * 20:,} rows in {time.perf_counter() - started:.1f} s",
              flush=True)
        tutela = make_tutela(policy20(url, f"sqlite:///{work / 'store.db'}"), work)
        try:
            graph = SubjectGraph.build(tutela, "person")
            rng = random.Random(7)
            picks = [f"user{rng.randint(1, subjects)}@bench.example" for _ in range(requests)]
            for email in picks[:20]:  # warm-up: connections, statement caches
                find_and_export(tutela, graph, "email", email)
            # ours and the baseline alternate request by request, so both see the same machine load
            ours, found, base, base_found = [], 0, [], 0
            engine = tutela.system_engine("app")
            with engine.connect() as conn:
                for email in picks:
                    t0 = time.perf_counter()
                    found += find_and_export(tutela, graph, "email", email)[0]
                    t1 = time.perf_counter()
                    base_found += baseline20(conn, email)
                    base.append((time.perf_counter() - t1) * 1000)
                    ours.append((t1 - t0) * 1000)
            assert found == base_found, f"export found {found} rows, hand-written SQL {base_found}"
            figures = {"rows": subjects * 20, "requests": requests,
                       "access_p50_ms": round(percentile(ours, 50), 2),
                       "access_p99_ms": round(percentile(ours, 99), 2),
                       "baseline_p50_ms": round(percentile(base, 50), 2),
                       "baseline_p99_ms": round(percentile(base, 99), 2)}
            figures["ratio_p50"] = round(figures["access_p50_ms"] / max(figures["baseline_p50_ms"], 1e-6), 2)
            print(f"[{kind}] access find+export p50 {figures['access_p50_ms']} ms, p99 {figures['access_p99_ms']} ms;"
                  f" hand-written SELECTs p50 {figures['baseline_p50_ms']} ms → ratio {figures['ratio_p50']}",
                  flush=True)
            ids = work / "erase.csv"
            chosen = rng.sample(range(1, subjects + 1), min(erase, subjects))
            ids.write_text("email\n" + "".join(f"user{i}@bench.example\n" for i in chosen))
            service = RequestService(tutela, actor="bench")
            t0 = time.perf_counter()
            summary = batch_erasure(service, ids, reason="bench")
            elapsed = time.perf_counter() - t0
            assert not summary.problems, summary.problems[:3]
            figures["batch_erasure_subjects"] = len(chosen)
            figures["batch_erasure_subjects_per_s"] = round(len(chosen) / elapsed, 1)
            print(f"[{kind}] batch erasure: {len(chosen):,} subjects in {elapsed:.1f} s "
                  f"({figures['batch_erasure_subjects_per_s']} subjects/s, one request each)", flush=True)
            return figures
        finally:
            tutela.close()


# --- the reference case --------------------------------------------------------------------------
REFERENCE_POLICY = """\
version: 1
controller: {{name: Reference Ltd, contact: privacy@reference.example}}
engine: {{store: "{store}", keyring: unused.key}}
purposes:
  service: {{description: Sell and ship, basis: contract}}
  security: {{description: Account security, basis: legitimate_interests, legitimate_interest: stop fraud}}
subjects:
  customer: {{system: app, table: customer, identities: {{email: email}}}}
systems:
  app:
    url: "{url}"
    tables:
      customer:
        subject: customer
        purpose: service
        fields:
          email: {{category: user.contact.email, identity: email, on_erasure: hash}}
          full_name: {{category: user.name, on_erasure: "null"}}
          phone: {{category: user.contact.phone_number, on_erasure: "null"}}
      address:
        subject: customer
        parent: customer
        purpose: service
        fields:
          street: {{category: user.contact.address.street, on_erasure: "null"}}
          city: {{category: user.contact.address.city, on_erasure: "null"}}
      orders:
        subject: customer
        parent: customer
        purpose: service
        fields:
          shipping_name: {{category: user.name, on_erasure: "null"}}
          shipping_phone: {{category: user.contact.phone_number, on_erasure: "null"}}
      login_event:
        subject: customer
        parent: customer
        purpose: security
        fields:
          ip: {{category: user.device.ip_address, on_erasure: "null"}}
          device: {{category: user.device, on_erasure: "null"}}
"""


def build_reference(url: str, customers: int) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        _sql(conn, "CREATE TABLE customer (id INTEGER PRIMARY KEY, email VARCHAR(120), "
                             "full_name VARCHAR(120), phone VARCHAR(40), created_at TIMESTAMP DEFAULT now())")
        _sql(conn, "CREATE TABLE address (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL "
                             "REFERENCES customer(id), street VARCHAR(120), city VARCHAR(80))")
        _sql(conn, "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL "
                             "REFERENCES customer(id), total NUMERIC(10,2), shipping_name VARCHAR(120), "
                             "shipping_phone VARCHAR(40))")
        _sql(conn, "CREATE TABLE login_event (id BIGINT PRIMARY KEY, customer_id INTEGER NOT NULL "
                             "REFERENCES customer(id), ip VARCHAR(64), device VARCHAR(120), "
                             "at TIMESTAMP DEFAULT now())")
        heavy = [customers + 1, customers + 2]  # one for Tutela, one for the hand-written baseline
        n = customers + 2
        _sql(conn, f"INSERT INTO customer (id, email, full_name, phone) SELECT x, 'c' || x || "
                             f"'@ref.example', 'Customer ' || x, '+4930' || x FROM generate_series(1, {n}) x")
        _sql(conn, f"INSERT INTO address (id, customer_id, street, city) SELECT x, x, x || ' Main St', "
                             f"'Berlin' FROM generate_series(1, {n}) x")
        _sql(conn, f"INSERT INTO orders (id, customer_id, total, shipping_name, shipping_phone) "
                             f"SELECT x, 1 + (x - 1) / 5, x % 500, 'Customer', '+49' FROM "
                             f"generate_series(1, {customers * 5}) x")
        _sql(conn, f"INSERT INTO login_event (id, customer_id, ip, device) SELECT x, 1 + (x - 1) / 10, "
                             f"'10.0.' || (x % 250) || '.1', 'Firefox on Linux' FROM "
                             f"generate_series(1, {customers * 10}) x")
        for i, who in enumerate(heavy):
            _sql(conn, f"INSERT INTO orders (id, customer_id, total, shipping_name, shipping_phone) "
                                 f"SELECT {customers * 5 + i * 10000} + x, {who}, 1, 'Heavy', '+49' "
                                 "FROM generate_series(1, 10000) x")
            _sql(conn, f"INSERT INTO login_event (id, customer_id, ip, device) SELECT "
                                 f"{customers * 10 + i * 10000} + x, {who}, '10.1.1.1', 'Heavy device' "
                                 "FROM generate_series(1, 10000) x")
        _sql(conn, "CREATE INDEX ix_customer_email ON customer (email)")
        for table in ("address", "orders", "login_event"):
            _sql(conn, f"CREATE INDEX ix_{table}_customer ON {table} (customer_id)")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def baseline_reference_access(conn: sa.Connection, email: str) -> int:
    rows = len(conn.execute(sa.text("SELECT * FROM customer WHERE email = :e"), {"e": email}).all())
    for table in ("address", "orders", "login_event"):
        rows += len(conn.execute(sa.text(f"SELECT * FROM {table} WHERE customer_id IN "
                                         "(SELECT id FROM customer WHERE email = :e)"), {"e": email}).all())
    return rows


def baseline_reference_erasure(engine: sa.Engine, customer_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE login_event SET ip = NULL, device = NULL WHERE customer_id = :c"),
                     {"c": customer_id})
        conn.execute(sa.text("UPDATE orders SET shipping_name = NULL, shipping_phone = NULL "
                             "WHERE customer_id = :c"), {"c": customer_id})
        conn.execute(sa.text("UPDATE address SET street = NULL, city = NULL WHERE customer_id = :c"),
                     {"c": customer_id})
        conn.execute(sa.text("UPDATE customer SET full_name = NULL, phone = NULL, email = md5(email) "
                             "WHERE id = :c"), {"c": customer_id})


def run_reference(customers: int, samples: int, work: Path) -> dict:
    from tutela.erasure.forget import forget_subject

    with fresh_database("postgresql", work) as url:
        t0 = time.perf_counter()
        build_reference(url, customers)
        print(f"[reference] {customers:,} customers, {customers * 16:,} rows + 2 heavy customers in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        tutela = make_tutela(REFERENCE_POLICY.format(store=f"sqlite:///{work / 'ref-store.db'}", url=url), work)
        try:
            graph = SubjectGraph.build(tutela, "customer")
            rng = random.Random(11)
            ids = rng.sample(range(1, customers + 1), min(customers, samples * 3))
            access_ids, erase_ids, base_ids = ids[:samples], ids[samples:2 * samples], ids[2 * samples:]
            for i in access_ids[:20]:
                find_and_export(tutela, graph, "email", f"c{i}@ref.example")
            engine = tutela.system_engine("app")
            access, base_access = [], []
            with engine.connect() as conn:
                for i in access_ids:
                    t = time.perf_counter()
                    find_and_export(tutela, graph, "email", f"c{i}@ref.example")
                    t1 = time.perf_counter()
                    baseline_reference_access(conn, f"c{i}@ref.example")
                    base_access.append((time.perf_counter() - t1) * 1000)
                    access.append((t1 - t) * 1000)
            erasure, base_erasure = [], []
            for mine, theirs in zip(erase_ids, base_ids, strict=True):
                t = time.perf_counter()
                forget_subject(tutela, "customer", "email", f"c{mine}@ref.example", reason="erasure", actor="bench")
                t1 = time.perf_counter()
                baseline_reference_erasure(engine, theirs)
                base_erasure.append((time.perf_counter() - t1) * 1000)
                erasure.append((t1 - t) * 1000)
            t = time.perf_counter()
            heavy = forget_subject(tutela, "customer", "email", f"c{customers + 1}@ref.example", reason="erasure",
                                   actor="bench")
            heavy_s = time.perf_counter() - t
            t = time.perf_counter()
            baseline_reference_erasure(engine, customers + 2)
            heavy_base_s = time.perf_counter() - t
            figures = {
                "reference_customers": customers,
                "reference_access_ms": round(statistics.median(access), 2),
                "reference_access_p99_ms": round(percentile(access, 99), 2),
                "reference_access_baseline_ms": round(statistics.median(base_access), 2),
                "reference_erasure_ms": round(statistics.median(erasure), 2),
                "reference_erasure_p99_ms": round(percentile(erasure, 99), 2),
                "reference_erasure_baseline_ms": round(statistics.median(base_erasure), 2),
                "heavy_erasure_s": round(heavy_s, 3),
                "heavy_erasure_rows": heavy.total,
                "heavy_erasure_baseline_s": round(heavy_base_s, 3),
                "reference_access_per_s_one_core": round(1000 / statistics.median(access), 1),
            }
            figures["reference_access_ratio"] = round(figures["reference_access_ms"]
                                                      / max(figures["reference_access_baseline_ms"], 1e-6), 2)
            figures["reference_erasure_ratio"] = round(figures["reference_erasure_ms"]
                                                       / max(figures["reference_erasure_baseline_ms"], 1e-6), 2)
            print(f"[reference] access {figures['reference_access_ms']} ms (hand-written "
                  f"{figures['reference_access_baseline_ms']} ms, ratio {figures['reference_access_ratio']}); "
                  f"erasure {figures['reference_erasure_ms']} ms (hand-written "
                  f"{figures['reference_erasure_baseline_ms']} ms, ratio {figures['reference_erasure_ratio']}); "
                  f"heavy customer {figures['heavy_erasure_s']} s for {heavy.total:,} rows "
                  f"(hand-written {figures['heavy_erasure_baseline_s']} s)", flush=True)
            return figures
        finally:
            tutela.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows in the 20-table schema")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--requests", type=int, default=1000, help="access requests to time")
    parser.add_argument("--erase", type=int, default=10_000, help="subjects in the batch erasure")
    parser.add_argument("--customers", type=int, default=100_000, help="customers in the reference case")
    parser.add_argument("--samples", type=int, default=500, help="requests timed in the reference case")
    parser.add_argument("--only", choices=("schema20", "reference"), default=None,
                        help="run one part: the 20-table schema (on --db) or the PostgreSQL reference case")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    reference_case = args.only == "reference" or (args.only is None and "postgresql" in kinds)
    if args.only == "reference":
        kinds = []
    figures: dict = {}
    met = True
    with tempfile.TemporaryDirectory(prefix="tutela-bench-") as tmp:
        for kind in kinds:
            reason = server_available(kind)
            if reason:
                print(f"skipping {kind}: {reason}")
                continue
            work = Path(tmp) / kind
            work.mkdir()
            result = run20(kind, args.rows, args.requests, args.erase, work)
            figures[kind] = result
            met &= result["access_p50_ms"] <= TARGETS["access_p50_ms"]
            met &= result["access_p99_ms"] <= TARGETS["access_p99_ms"]
        if reference_case and not server_available("postgresql"):
            work = Path(tmp) / "reference"
            work.mkdir()
            reference = run_reference(args.customers, args.samples, work)
            figures["reference"] = reference
            met &= reference["reference_access_ms"] <= TARGETS["reference_access_ms"]
            met &= reference["reference_erasure_ms"] <= TARGETS["reference_erasure_ms"]
            met &= reference["heavy_erasure_s"] <= TARGETS["heavy_erasure_s"]
    print(json.dumps({"bench": "access", "figures": figures, "targets": TARGETS, "met": bool(met and figures)}))


if __name__ == "__main__":
    main()
