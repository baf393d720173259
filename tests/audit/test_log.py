import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tutela.audit import AuditEvent, AuditLog
from tutela.audit.log import event_hash
from tutela.crypto.hashing import pseudonym
from tutela.crypto.keyring import Keyring
from tutela.errors import AuditTampered, ConfigurationError, InvalidInput
from tutela.store import Store

from dbs import fresh_database
from support import require_server

SUBJECT = "t1:abcdef:" + "1" * 64


def test_record_appends_numbered_events_that_verify(log):
    assert log.record("erasure.forget", actor="dpo", subject=SUBJECT, tenant="acme", rows=3) == 1
    assert log.record("request.created", actor="api", tenant="acme", request_id="r-1") == 2
    events = log.query()
    assert [e.seq for e in events] == [1, 2]
    first = events[0]
    assert (first.action, first.actor, first.subject, first.tenant) == ("erasure.forget", "dpo", SUBJECT, "acme")
    assert first.details == {"rows": 3}
    assert first.at.tzinfo is not None and abs(first.at - datetime.now(UTC)) < timedelta(minutes=5)
    result = log.verify()
    assert result.ok and result.checked == 2 and result.head_seq == 2


def test_an_empty_log_verifies(log):
    result = log.verify()
    assert result.ok and result.checked == 0


def test_append_many_stores_all_events_in_order_with_one_head(log):
    events = [AuditEvent("retention.run", "worker", details={"rule": "logs", "rows": i}) for i in range(2500)]
    seqs = log.append_many(events, batch_size=1000)
    assert seqs == range(1, 2501)
    assert log.count() == 2500
    assert log.head()["seq"] == 2500
    assert log.get(2500).details == {"rule": "logs", "rows": 2499}
    assert log.verify().ok


def test_query_filters_in_sql(log):
    base = datetime(2026, 3, 1, tzinfo=UTC)
    other = pseudonym(Keyring.generate(), "email", "someone@example.de")
    log.append_many([
        AuditEvent("erasure.forget", "dpo", SUBJECT, "acme", at=base),
        AuditEvent("erasure.lookup", "authority", SUBJECT, "acme", at=base + timedelta(days=1)),
        AuditEvent("consent.given", "api", other, "beta", at=base + timedelta(days=2)),
        AuditEvent("retention.run", "worker", None, None, at=base + timedelta(days=3)),
    ])
    assert [e.seq for e in log.query(action="erasure.forget")] == [1]
    assert [e.seq for e in log.query(action="erasure.*")] == [1, 2]
    assert [e.seq for e in log.query(actor="api")] == [3]
    assert [e.seq for e in log.query(subject=SUBJECT)] == [1, 2]
    assert [e.seq for e in log.query(subject=[SUBJECT, other])] == [1, 2, 3]
    assert [e.seq for e in log.query(tenant="beta")] == [3]
    assert [e.seq for e in log.query(since=base + timedelta(days=1))] == [2, 3, 4]
    assert [e.seq for e in log.query(until=base + timedelta(days=1))] == [1]
    assert [e.seq for e in log.query(since=base + timedelta(hours=1), until=base + timedelta(days=3))] == [2, 3]
    assert [e.seq for e in log.query(limit=2)] == [3, 4]
    assert log.query(action="erasure.forget", actor="api") == []
    with pytest.raises(InvalidInput):
        log.query(limit=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"action": "Erasure Forget"}, "dotted lowercase"),
    ({"action": "erasure"}, "dotted lowercase"),
    ({"actor": ""}, "actor"),
    ({"subject": "anna@example.de"}, "pseudonym"),
    ({"subject": "x" * 101}, "at most 100"),
    ({"note": "mail anna@example.de"}, "e-mail"),
    ({"nested": {"list": ["ok", "Anna.B@example.org"]}}, "e-mail"),
    ({"counts": {"anna@example.de": 3}}, "e-mail"),
    ({"blob": object()}, "JSON"),
])
def test_bad_events_are_refused_and_nothing_is_stored(log, kwargs, message):
    log.record("request.created", actor="api")
    arguments = {"action": "request.verified", "actor": "api", **kwargs}
    action = arguments.pop("action")
    with pytest.raises(InvalidInput, match=message):
        log.record(action, **arguments)
    assert log.count() == 1
    assert log.head()["seq"] == 1
    assert log.verify().ok


def test_a_bad_event_in_a_batch_stores_none_of_the_batch(log):
    events = [AuditEvent("retention.run", "worker"), AuditEvent("retention.run", "worker", subject="a@b.de")]
    with pytest.raises(InvalidInput):
        log.append_many(events)
    assert log.count() == 0


def test_recording_inside_the_callers_transaction_rolls_back_with_it(log):
    with log.store.engine.connect() as conn:
        log.record("erasure.forget", actor="dpo", subject=SUBJECT, connection=conn)
        conn.rollback()
    assert log.count() == 0 and log.head()["seq"] == 0
    with log.store.engine.begin() as conn:
        assert log.record("erasure.forget", actor="dpo", subject=SUBJECT, connection=conn) == 1
    assert log.verify().ok


def test_concurrent_writers_keep_one_valid_chain(log):
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(40):
                if i % 4 == 0:
                    log.append_many([AuditEvent("retention.run", name, details={"i": i, "k": k})
                                     for k in range(5)])
                else:
                    log.record("request.created", actor=name, i=i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    total = 3 * (10 * 5 + 30)
    assert log.count() == total
    result = log.verify()
    assert result.ok and result.checked == total


def test_after_key_rotation_old_events_still_verify(log):
    log.record("request.created", actor="api")
    log.keyring.rotate()
    log.record("request.created", actor="api")
    assert log.head()["key_id"] == log.keyring.current_key_id
    assert log.verify().ok


def test_a_different_keyring_cannot_vouch_for_the_head(log):
    log.record("request.created", actor="api")
    stranger = AuditLog(log.store, Keyring.generate())
    result = stranger.verify()
    assert not result.ok and result.first_bad_seq == 1 and "key" in result.problem


def test_stored_hash_is_the_documented_canonical_form(log):
    log.record("erasure.forget", actor="dpo", subject=SUBJECT, rows=3)
    with log.store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM tutela_audit")).one()
    assert row.hash == event_hash(1, row.at, "dpo", "erasure.forget", SUBJECT, None, '{"rows":3}', "0" * 64)
    canonical = "\x1f".join(["a2", "1", row.at, "dpo", "erasure.forget", "+" + SUBJECT, "-", '{"rows":3}', "0" * 64])
    assert row.hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert row.prev_hash == "0" * 64 and len(row.at) == 27 and row.at.endswith("Z")


def test_an_unmigrated_store_is_a_configuration_error(tmp_path):
    log = AuditLog(Store(f"sqlite:///{tmp_path / 'empty.db'}"), Keyring.generate())
    with pytest.raises(ConfigurationError, match="no audit tables"):
        log.record("request.created", actor="api")
    with pytest.raises(ConfigurationError, match="no audit tables"):
        log.verify()


def test_unusual_characters_hash_the_same_in_python_and_in_the_database(log):
    odd = ["Zoë 👩‍⚕️ Ärztin", "a|b:c~+-", "quote ' \" back\\slash", "line\nbreak\ttab", "中文", "~", ":"]
    log.append_many([AuditEvent("request.created", actor, None, tenant, {"note": actor})
                     for actor in odd for tenant in (None, actor[:100])])
    result = log.verify()
    assert result.ok and result.checked == 2 * len(odd)
    assert [e.actor for e in log.query(tenant="中文")] == ["中文"]


@pytest.mark.parametrize("text", ["a\x00b", "a\x1fb"])
def test_separator_and_nul_characters_are_refused(log, text):
    for fields in ({"actor": text}, {"actor": "api", "subject": text}, {"actor": "api", "tenant": text}):
        with pytest.raises(InvalidInput, match="NUL or U\\+001F"):
            log.record("request.created", **fields)
    log.record("request.created", actor="api", note=text)
    assert log.count() == 1 and log.verify().ok


def test_events_inserted_behind_the_logs_back_block_appends_with_a_clear_error(log, execute):
    log.record("request.created", actor="api")
    execute(log, "INSERT INTO tutela_audit (seq, at, actor, action, subject, tenant, details, prev_hash, hash) "
                 "VALUES (2, '2026-01-01T00:00:00.000000Z', 'x', 'request.created', NULL, NULL, '{}', 'p', 'h')")
    with pytest.raises(AuditTampered, match="added outside Tutela"):
        log.record("request.created", actor="api")
    assert log.count() == 2 and log.head()["seq"] == 1
    assert log.verify().first_bad_seq == 2


def test_the_tamper_drill_catches_the_edited_event_and_leaves_the_store_alone(tmp_path):
    from tutela.audit.drill import tamper_drill

    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    log = AuditLog(store, Keyring.generate())
    log.append_many([AuditEvent("request.created", "api") for _ in range(9)])
    drill = tamper_drill(store, log.keyring)
    assert drill.edited_seq == 5 and drill.detected
    assert log.verify().ok
    assert {e.actor for e in log.query()} == {"api"}


def test_verifying_while_others_append_reports_an_intact_log(log):
    log.append_many([AuditEvent("retention.run", "worker", details={"i": i}) for i in range(3000)])
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            log.append_many([AuditEvent("request.created", "api") for _ in range(20)])

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        results = [log.verify() for _ in range(3)]
    finally:
        stop.set()
        thread.join()
    assert all(r.ok for r in results), results
    assert log.verify().checked == log.count()


def test_a_large_sqlite_append_leaves_the_connections_page_cache_as_it_was(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    log = AuditLog(store, Keyring.generate())
    with store.engine.connect() as conn:
        before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        log.append_many([AuditEvent("retention.run", "worker", details={"i": i}) for i in range(6000)],
                        connection=conn, batch_size=5000)
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == before
        conn.commit()
    assert log.verify().checked == 6000


def test_postgresql_refuses_changing_or_deleting_events(pg_url):
    store = Store(pg_url)
    store.migrate()
    log = AuditLog(store, Keyring.generate())
    log.record("request.created", actor="api")
    for statement in ("UPDATE tutela_audit SET actor = 'x'", "DELETE FROM tutela_audit", "TRUNCATE tutela_audit"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert log.count() == 1 and log.verify().ok
    store.dispose()


def test_the_positional_insert_is_compiled_once_per_dialect(log):
    from tutela.audit.bulk import positional_insert
    from tutela.audit.log import COLUMNS
    from tutela.audit.tables import audit_events

    dialect = log.store.engine.dialect
    sql = positional_insert(dialect, audit_events, COLUMNS)
    assert positional_insert(dialect, audit_events, COLUMNS) is sql
    compiled = audit_events.insert().compile(dialect=dialect, column_keys=list(COLUMNS))
    if compiled.positional:
        assert sql == str(compiled)
    else:
        assert sql is None
    for n in range(3):  # appends through the cached statement still chain and verify
        log.record("request.created", actor="api", request_id=f"r-{n}")
    assert log.verify().ok and log.count() == 3


def test_mariadb_refuses_changing_or_deleting_events(tmp_path):
    require_server("mariadb")
    with fresh_database("mariadb", tmp_path) as url:
        store = Store(url)
        store.migrate()
        log = AuditLog(store, Keyring.generate())
        log.record("request.created", actor="api")
        for statement in ("UPDATE tutela_audit SET actor = 'x'", "DELETE FROM tutela_audit"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
                conn.exec_driver_sql(statement)
        assert log.count() == 1 and log.verify().ok
        store.dispose()
