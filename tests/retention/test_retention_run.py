"""Plans and runs on SQLite, PostgreSQL and MariaDB: counts, conditions, dry runs, re-runs, erase_fields."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, timedelta

import pytest
import sqlalchemy as sa
from retention_helpers import NOW, checksum, fill, open_engine, rows_aged, table_rows, write_policy

from tutela.retention import plan_retention, run_retention

AWARE_NOW = NOW.replace(tzinfo=UTC)
OLD = [timedelta(days=400 + i) for i in range(40)]
FRESH = [timedelta(days=i) for i in range(25)]


def _sessions(db_url):
    """40 expired completed rows (ids 1-40), 15 expired running (101-115), 25 fresh completed (201-225)."""
    rows = (rows_aged(OLD) + rows_aged(OLD[:15], status="running", start_id=101)
            + rows_aged(FRESH, start_id=201))
    fill(db_url, rows)


def _policy(tmp_path, db_url, batch_size=7, **retention):
    rule = {"after": "1y", "from": "created_at"} | retention
    tables = {"sessions": {"purpose": "service", "retention": rule,
                           "fields": {"email": {"category": "user.contact.email"},
                                      "note": {"category": "user.content.private"}}}}
    return open_engine(write_policy(tmp_path, db_url, tables, batch_size=batch_size))


def test_plan_counts_equal_what_the_run_removes_and_a_condition_spares_other_rows(db_url, tmp_path):
    _sessions(db_url)
    tutela = _policy(tmp_path, db_url, where={"column": "status", "op": "eq", "value": "completed"})
    spared = [r for r in table_rows(db_url) if r[1] != "completed" or r[0] > 200]
    [planned] = plan_retention(tutela, now=AWARE_NOW)
    assert planned.rows == 40
    assert planned.oldest_age_days == 439.0
    [result] = run_retention(tutela, now=AWARE_NOW)
    assert result.status == "done" and result.rows == planned.rows
    assert result.batches >= 2
    after = table_rows(db_url)
    assert checksum(after) == checksum(spared)
    assert {r[1] for r in after if r[0] < 200} == {"running"}
    tutela.close()


def test_dry_run_changes_nothing_and_rerun_removes_nothing(db_url, tmp_path):
    _sessions(db_url)
    tutela = _policy(tmp_path, db_url)
    before = table_rows(db_url)
    [dry] = run_retention(tutela, now=AWARE_NOW, dry_run=True)
    assert dry.status == "planned" and dry.rows == 55
    assert table_rows(db_url) == before
    assert tutela.audit.query(action="retention.run") == []
    [first] = run_retention(tutela, now=AWARE_NOW)
    [again] = run_retention(tutela, now=AWARE_NOW)
    assert (first.rows, again.rows, again.status) == (55, 0, "done")
    assert [planned.rows for planned in plan_retention(tutela, now=AWARE_NOW)] == [0]
    assert len(table_rows(db_url)) == 25
    tutela.close()


def test_each_rule_run_is_audited_with_its_counts(db_url, tmp_path):
    _sessions(db_url)
    tutela = _policy(tmp_path, db_url, batch_size=20)
    run_retention(tutela, now=AWARE_NOW, actor="cli:test")
    [event] = tutela.audit.query(action="retention.run")
    assert event.actor == "cli:test"
    assert event.details["rule"] == "app.sessions"
    assert event.details["rows"] == 55 and event.details["status"] == "done"
    assert "@" not in repr(event.details)
    tutela.close()


def test_erase_fields_nulls_the_fields_of_expired_rows_once(db_url, tmp_path):
    _sessions(db_url)
    tutela = _policy(tmp_path, db_url, action="erase_fields")
    before = {r[0]: r for r in table_rows(db_url)}
    [planned] = plan_retention(tutela, now=AWARE_NOW)
    [result] = run_retention(tutela, now=AWARE_NOW)
    assert planned.rows == result.rows == 55
    after = {r[0]: r for r in table_rows(db_url)}
    assert set(after) == set(before)
    for key, row in after.items():
        if key > 200:
            assert row == before[key]
        else:
            assert row[:3] == before[key][:3] and row[3:] == (None, None)
    [again] = run_retention(tutela, now=AWARE_NOW)
    assert again.rows == 0
    tutela.close()


def test_a_failing_rule_is_reported_and_the_other_rules_still_run(db_url, tmp_path):
    _sessions(db_url)
    engine = sa.create_engine(db_url)
    metadata = sa.MetaData()
    accounts = sa.Table("accounts", metadata, sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("closed_at", sa.DateTime))
    sa.Table("invoices", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(accounts.insert(), [{"id": 1, "closed_at": NOW - timedelta(days=900)}])
        conn.execute(metadata.tables["invoices"].insert(), [{"id": 1, "account_id": 1}])
    engine.dispose()
    tables = {
        "accounts": {"purpose": "service", "retention": {"after": "2y", "from": "closed_at"}},
        "sessions": {"purpose": "service", "retention": {"after": "1y", "from": "created_at"}},
    }
    tutela = open_engine(write_policy(tmp_path, db_url, tables))
    results = {r.rule: r for r in run_retention(tutela, now=AWARE_NOW)}
    assert results["app.accounts"].status == "failed" and results["app.accounts"].error
    assert results["app.sessions"].status == "done" and results["app.sessions"].rows == 55
    assert len(table_rows(db_url, "accounts")) == 1
    statuses = {e.details["rule"]: e.details["status"] for e in tutela.audit.query(action="retention.run")}
    assert statuses == {"app.accounts": "failed", "app.sessions": "done"}
    tutela.close()


def test_few_due_rows_are_reached_by_keyset_batches(db_url, tmp_path, monkeypatch):
    from tutela.retention import batches

    used = []
    for name in ("_keyset_batches", "_range_batches"):
        original = getattr(batches, name)
        monkeypatch.setattr(batches, name, lambda *a, _o=original, _n=name, **k: (used.append(_n), _o(*a, **k))[1])
    expired = rows_aged([timedelta(days=500)] * 9, start_id=1)
    for i, row in enumerate(expired):
        row["id"] = 1 + i * 31  # spread through the table
    fresh = [r for r in rows_aged([timedelta(days=3)] * 300, start_id=1) if r["id"] % 31 != 1]
    fill(db_url, expired + fresh)
    tutela = _policy(tmp_path, db_url, batch_size=2)
    [result] = run_retention(tutela, now=AWARE_NOW)
    assert used == ["_keyset_batches"]
    assert (result.rows, result.status) == (9, "done") and result.batches >= 3
    assert len(table_rows(db_url)) == len(fresh)
    tutela.close()


def test_many_due_rows_are_cut_into_storage_order_ranges(db_url, tmp_path, monkeypatch):
    from tutela.retention import batches

    used = []
    original = batches._range_batches
    monkeypatch.setattr(batches, "_range_batches", lambda *a, **k: (used.append(1), original(*a, **k))[1])
    _sessions(db_url)
    tutela = _policy(tmp_path, db_url, batch_size=3)
    [result] = run_retention(tutela, now=AWARE_NOW)
    assert used == [1] and result.rows == 55 and result.batches >= 2
    tutela.close()


def test_composite_primary_key_tables_are_batched_too(db_url, tmp_path):
    engine = sa.create_engine(db_url)
    metadata = sa.MetaData()
    visits = sa.Table("visits", metadata, sa.Column("tenant", sa.String(10), primary_key=True),
                      sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
                      sa.Column("seen_at", sa.DateTime, nullable=False))
    metadata.create_all(engine)
    rows = [{"tenant": tenant, "seq": seq, "seen_at": NOW - timedelta(days=40 if seq % 3 else 2)}
            for tenant in ("acme", "beta", "zeta") for seq in range(1, 31)]
    with engine.begin() as conn:
        conn.execute(visits.insert(), rows)
    tables = {"visits": {"purpose": "service", "retention": {"after": "30d", "from": "seen_at"}}}
    tutela = open_engine(write_policy(tmp_path, db_url, tables, batch_size=4))
    [planned] = plan_retention(tutela, now=AWARE_NOW)
    [result] = run_retention(tutela, now=AWARE_NOW)
    assert planned.rows == result.rows == 60 and result.batches >= 2
    with engine.connect() as conn:
        left = sorted(conn.execute(sa.select(visits.c.tenant, visits.c.seq)).all())
    engine.dispose()
    assert left == sorted((r["tenant"], r["seq"]) for r in rows if r["seq"] % 3 == 0)
    tutela.close()


def test_erase_fields_hashes_and_generalises_through_the_field_actions(db_url, tmp_path):
    engine = sa.create_engine(db_url)
    metadata = sa.MetaData()
    logs = sa.Table("access_logs", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("created_at", sa.DateTime, nullable=False),
                    sa.Column("email", sa.String(120)), sa.Column("ip", sa.String(45)))
    metadata.create_all(engine)
    rows = [{"id": i, "created_at": NOW - timedelta(days=400 if i <= 6 else 5),
             "email": f"Person{i}@Example.test", "ip": f"192.0.2.{i}"} for i in range(1, 11)]
    with engine.begin() as conn:
        conn.execute(logs.insert(), rows)
    tables = {"access_logs": {"purpose": "service",
                              "retention": {"after": "1y", "from": "created_at", "action": "erase_fields"},
                              "fields": {"email": {"category": "user.contact.email", "on_erasure": "hash"},
                                         "ip": {"category": "user.device.ip_address",
                                                "on_erasure": "generalize:ip"}}}}
    tutela = open_engine(write_policy(tmp_path, db_url, tables, batch_size=2))
    [planned] = plan_retention(tutela, now=AWARE_NOW)
    [result] = run_retention(tutela, now=AWARE_NOW)
    assert planned.rows == result.rows == 6
    with engine.connect() as conn:
        after = {r.id: r for r in conn.execute(sa.select(logs))}
    engine.dispose()
    for row in rows:
        now_row = after[row["id"]]
        if row["id"] <= 6:
            assert now_row.email.startswith("t1:") and "example" not in now_row.email.lower()
            assert now_row.ip == "192.0.2.0"
        else:
            assert (now_row.email, now_row.ip) == (row["email"], row["ip"])
    assert [r.rows for r in run_retention(tutela, now=AWARE_NOW)] == [0]
    assert [p.rows for p in plan_retention(tutela, now=AWARE_NOW)] == [0]
    tutela.close()


def test_an_append_only_table_is_walked_along_the_index_of_its_from_column(db_url, tmp_path, monkeypatch):
    from tutela.retention import batches

    orders = []
    original, original_time = batches._keyset_batches, batches._time_batches
    def spy(conn, keys, *args, **kwargs):
        orders.append([getattr(key, "name", None) or key.clause.name for key in keys])
        return original(conn, keys, *args, **kwargs)

    def time_spy(conn, column, *args, **kwargs):
        orders.append(["time windows", column.name])
        return original_time(conn, column, *args, **kwargs)

    monkeypatch.setattr(batches, "_keyset_batches", spy)
    monkeypatch.setattr(batches, "_time_batches", time_spy)
    # Like a log: ids and timestamps grow together; the oldest 1,500 of 3,000 rows are due.
    rows = [{"id": i, "status": "x", "created_at": NOW - timedelta(days=3000 - i), "email": None,
             "note": "n" * 40} for i in range(1, 3001)]
    fill(db_url, rows)
    tutela = _policy(tmp_path, db_url, batch_size=100, after="1500d")
    [planned] = plan_retention(tutela, now=AWARE_NOW)
    [result] = run_retention(tutela, now=AWARE_NOW)
    assert planned.rows == result.rows == 1499 and result.batches >= 2
    if db_url.startswith("sqlite"):
        assert orders == [["created_at", "id"]]
    elif db_url.startswith("postgresql"):  # one range scan per batch, no n-th key lookup
        assert orders == [["time windows", "created_at"]]
    assert [r[0] for r in table_rows(db_url)] == list(range(1500, 3001))
    tutela.close()


def test_time_windows_cross_gaps_and_ties_and_keep_the_condition(pg_url, tmp_path, monkeypatch):
    """PostgreSQL, append-only: windows of time along the index. A long empty stretch is jumped,
    rows sharing one timestamp fall in exactly one window, and the rule's condition holds."""
    from tutela.retention import batches

    windows: list[int] = []
    original = batches._time_batches
    monkeypatch.setattr(batches, "_time_batches",
                        lambda *a, **k: (windows.append(1), original(*a, **k))[1])
    rows, next_id = [], 1
    for days, count in ((3000, 400), (1200, 300), (10, 100)):  # a 1,800-day gap; the last block is fresh
        for i in range(count):
            age = timedelta(days=days) - timedelta(minutes=10 * (i // 3))  # three rows per timestamp
            rows.append({"id": next_id, "status": ("completed", "running")[next_id % 5 == 0],
                         "created_at": NOW - age, "email": None, "note": f"{next_id:<150}"})  # 25+ pages
            next_id += 1
    fill(pg_url, rows)
    spared = [r for r in table_rows(pg_url) if r[1] == "running" or r[0] > 700]
    tutela = _policy(tmp_path, pg_url, batch_size=25, where={"column": "status", "op": "eq", "value": "completed"})
    [planned] = plan_retention(tutela, now=AWARE_NOW)
    [result] = run_retention(tutela, now=AWARE_NOW)
    assert windows == [1]
    assert planned.rows == result.rows == 560 and result.status == "done" and result.batches >= 4
    # crossing the 1,800-day gap in windows of hours growing at most 1.5x would take 20+ batches
    assert result.batches <= 15
    assert checksum(table_rows(pg_url)) == checksum(spared)
    [again] = run_retention(tutela, now=AWARE_NOW)
    assert again.rows == 0
    tutela.close()


def _scattered(url: str, count: int = 3000) -> list[tuple]:
    """``count`` sessions whose due rows lie at random among the ids (half 400-799 days old); a
    seventh still running; on SQLite a third of the timestamps written without microseconds, as text
    an application's ``datetime('now')`` gives. Returns the rows a completed-only 1-year rule spares."""
    def age(i: int) -> timedelta:
        expired = (7919 * i) % 1000 < 500  # a fixed scatter, the same in every run
        return timedelta(days=400 + i % 400) if expired else timedelta(days=i % 300, minutes=i)

    rows = [{"id": i, "status": "running" if i % 7 == 0 else "completed", "created_at": NOW - age(i),
             "email": None, "note": f"note {i}"} for i in range(1, count + 1)]
    fill(url, rows)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE sessions SET created_at = substr(created_at, 1, 19) WHERE id % 3 = 0")
            conn.exec_driver_sql("ANALYZE")  # statistics that make a slice's bounds look like an index range
        engine.dispose()
    return [r for r in table_rows(url) if r[1] != "completed" or (NOW - r[2]).days < 365]


@pytest.mark.parametrize("where", [None, {"column": "status", "op": "eq", "value": "completed"}],
                         ids=["every-row", "condition"])
def test_sqlite_deletes_at_random_places_are_cut_into_slices_of_time_within_rowid_ranges(tmp_path, monkeypatch,
                                                                                         where):
    """Each rowid range is written once per slice of time, each window scans its rowid range (not the
    index), and exactly the due rows go, whatever form their timestamps were written in."""
    from tutela.retention import batches

    monkeypatch.setattr(batches, "SLICE_ROWS", 1)  # slice even a small table
    seen: list[list] = []
    original = batches._range_batches
    monkeypatch.setattr(batches, "_range_batches",
                        lambda *a, **k: (seen.append(a[6]), original(*a, **k))[1])
    runs = []
    original_bulk = batches.bulk_writes

    @contextmanager
    def bulk_spy(*args, **kwargs):
        with original_bulk(*args, **kwargs) as bulk:
            runs.append(bulk)
            yield bulk

    monkeypatch.setattr(batches, "bulk_writes", bulk_spy)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    spared = _scattered(url)
    if where is None:
        spared = [r for r in table_rows(url) if (NOW - r[2]).days < 365]
    tutela = _policy(tmp_path, url, batch_size=200, **({"where": where} if where else {}))
    engine = tutela.system_engine("app")
    deletes: list[tuple[str, tuple]] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda conn, cursor, statement, params, *rest: deletes.append((statement, params))
                    if statement.startswith("DELETE") else None)
    [planned] = plan_retention(tutela, now=AWARE_NOW)
    [result] = run_retention(tutela, now=AWARE_NOW)
    [slices] = seen
    assert len(slices) == batches.MAX_SLICES and all(part is not None for part in slices)
    assert [bulk.max_log_pages for bulk in runs] == [batches.SLICED_LOG_PAGES]  # a shorter log between checkpoints
    assert planned.rows == result.rows == 3000 - len(spared) and result.status == "done"
    assert result.batches >= len(slices) and result.batches % len(slices) == 0  # whole ranges, every slice
    assert checksum(table_rows(url)) == checksum(spared)
    with sa.create_engine(url).connect() as conn:
        for statement, params in deletes[:: max(1, len(deletes) // 5)]:
            plan = " ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params))
            assert "INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan, plan
    tutela.close()


def test_field_erasure_and_other_databases_keep_whole_ranges(db_url, tmp_path, monkeypatch):
    """Slices pay only where a batch deletes index entries at random places: on SQLite, rows deleted."""
    from tutela.retention import batches

    monkeypatch.setattr(batches, "SLICE_ROWS", 1)
    seen: list[list] = []
    original = batches._range_batches
    monkeypatch.setattr(batches, "_range_batches",
                        lambda *a, **k: (seen.append(a[6]), original(*a, **k))[1])
    _scattered(db_url, 600)
    tutela = _policy(tmp_path, db_url, batch_size=100, action="erase_fields")
    [planned] = plan_retention(tutela, now=AWARE_NOW)
    [result] = run_retention(tutela, now=AWARE_NOW)
    assert result.status == "done" and result.rows > 0 and result.rows == planned.rows
    tutela.close()
    tutela = _policy(tmp_path, db_url, batch_size=100)
    [result] = run_retention(tutela, now=AWARE_NOW)
    assert result.status == "done"
    whole = [[part is None for part in slices] for slices in seen]
    assert whole[0] == [True]  # erase_fields never slices
    if not db_url.startswith("sqlite"):
        assert whole[1:] == [[True]]  # PostgreSQL, MariaDB: whole ranges
    tutela.close()
