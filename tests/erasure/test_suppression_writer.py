"""The bulk run's suppression writer, on every kind of engine store, and the fast hash path."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parents[1] / "subjects"))

from world import create_schema, make_tutela, newsletter_contacts, populate, rows  # noqa: E402

from tutela.actions.context import ActionContext  # noqa: E402
from tutela.crypto.hashing import keyed_hash  # noqa: E402
from tutela.crypto.keyring import Keyring  # noqa: E402
from tutela.erasure.pseudonymize import pseudonymize  # noqa: E402
from tutela.erasure.suppression import SuppressionWriter, add_entries, entry, is_suppressed  # noqa: E402
from tutela.erasure.tables import entries_select  # noqa: E402


@pytest.fixture
def tutela(db_url, tmp_path):
    """A Tutela whose engine store is ``db_url`` (SQLite, PostgreSQL or MariaDB)."""
    sqlite_app = f"sqlite:///{tmp_path / 'app.db'}"
    create_schema(sqlite_app).dispose()
    tutela = make_tutela(sqlite_app, db_url, tmp_path)
    yield tutela
    tutela.close()


def _listed(tutela) -> dict[str, tuple]:
    with tutela.store.engine.connect() as conn:
        return {r.hash: (r.kind, r.key_id, r.reason, r.source)
                for r in conn.execute(entries_select())}


def _pseudonyms(tutela, *emails: str) -> list[str]:
    return [keyed_hash(tutela.keyring, "email", e) for e in emails]


@pytest.mark.parametrize("chunk", [2, 4096])
def test_entries_are_listed_only_when_committed(tutela, chunk, monkeypatch):
    monkeypatch.setattr(SuppressionWriter, "CHUNK", chunk)  # 2: the thread inserts while rows still come
    writer = SuppressionWriter(tutela, reason="bounce", source="app.contacts")
    try:
        take = writer.sink("email")
        hashes = _pseudonyms(tutela, "a@example.org", "b@example.org", "c@example.org")
        for h in hashes + hashes[:1]:  # one pseudonym twice
            take(h)
        assert _listed(tutela) == {}
        assert writer.commit() == 3
        key_id = tutela.keyring.current_hash_key_id
        assert _listed(tutela) == {h: ("email", key_id, "bounce", "app.contacts") for h in hashes}
        assert is_suppressed(tutela, "email", "B@Example.org ")
    finally:
        writer.close()


def test_rollback_drops_the_batch_and_keeps_earlier_ones(tutela, monkeypatch):
    monkeypatch.setattr(SuppressionWriter, "CHUNK", 2)
    first, *later = _pseudonyms(tutela, "a@example.org", "b@example.org", "c@example.org")
    writer = SuppressionWriter(tutela, reason="unsubscribe", source="app.contacts")
    try:
        writer.sink("email")(first)
        writer.commit()
        take = writer.sink("email")
        for h in later:
            take(h)
        writer.rollback()
        assert set(_listed(tutela)) == {first}
    finally:
        writer.close()


def test_a_failed_insert_fails_the_commit_and_lists_nothing_of_the_batch(tutela, monkeypatch):
    monkeypatch.setattr(SuppressionWriter, "CHUNK", 1)
    good, bad = _pseudonyms(tutela, "a@example.org", "b@example.org")
    writer = SuppressionWriter(tutela, reason="unsubscribe", source="app.contacts")
    try:
        writer.sink("email")(good)
        writer.sink(None)(bad)  # kind is NOT NULL in the store: the insert fails
        with pytest.raises(sa.exc.DBAPIError):
            writer.commit()
        assert _listed(tutela) == {}
        writer.sink("email")(good)  # the writer goes on with the next batch
        assert writer.commit() == 1
        assert set(_listed(tutela)) == {good}
    finally:
        writer.close()


def test_already_listed_pseudonyms_keep_their_first_entry(tutela):
    hashed = _pseudonyms(tutela, "a@example.org")[0]
    add_entries(tutela, [entry(hashed, "email", "erasure", source="app.end_users")])
    writer = SuppressionWriter(tutela, reason="bounce", source="app.contacts")
    try:
        writer.sink("email")(hashed)
        assert writer.commit() == 1
    finally:
        writer.close()
    assert _listed(tutela)[hashed][2:] == ("erasure", "app.end_users")


def test_bulk_run_with_the_store_in_the_target_database(db_url, tmp_path):
    """Store and target are one database: the entries go in through the batch's own transaction."""
    engine = create_schema(db_url)
    populate(engine, users=12)
    tutela = make_tutela(db_url, db_url, tmp_path, batch=4)
    try:
        result = pseudonymize(tutela, "newsletter_contacts", "status=unsubscribed,bounced", actor="test")
        targets = newsletter_contacts.c.status.in_(["unsubscribed", "bounced"])
        hashed = {row["email"] for row in rows(engine, newsletter_contacts, targets)}
        assert result.total == 8 and result.suppressed == 8
        assert set(_listed(tutela)) == hashed
    finally:
        tutela.close()
        engine.dispose()


@pytest.mark.parametrize("kind", ["email", "phone", None])
def test_fast_hasher_equals_hash_value_and_records_every_hash(kind):
    keyring = Keyring.generate()
    key_id = keyring.current_hash_key_id
    context = ActionContext("sqlite", keyring.hash_key(key_id), key_id, kind=kind)
    recorded: list[str] = []
    hasher = context.hasher(recorded.append)
    already = keyed_hash(keyring, "email", "x@example.org")
    values = ["  Alice@Example.ORG ", "bob@example.org", "Zoë@Exämple.org", "t1:not-a-hash", already,
              "+49 30 1234567", "not an address", 12345, "", None]
    for value in values:
        assert hasher(value) == context.hash_value(value), value
    assert recorded == [context.hash_value(v) for v in values if v is not None]
    assert context.hasher()(values[0]) == context.hash_value(values[0])


def test_sqlite_store_entries_are_synced_and_the_setting_restored(tmp_path, monkeypatch):
    create_schema(f"sqlite:///{tmp_path / 'app.db'}").dispose()
    tutela = make_tutela(f"sqlite:///{tmp_path / 'app.db'}", f"sqlite:///{tmp_path / 'store.db'}", tmp_path)
    seen = []
    monkeypatch.setattr("tutela.erasure.suppression._insert_hashes", lambda conn, hashes, kind, batch:
                        seen.append(conn.exec_driver_sql("PRAGMA synchronous").scalar()))
    writer = SuppressionWriter(tutela, reason="bounce", source="app.contacts")
    try:
        writer.sink("email")(_pseudonyms(tutela, "a@example.org")[0])
        writer.commit()
    finally:
        writer.close()
    with tutela.store.engine.connect() as conn:
        after = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    tutela.close()
    assert seen == [2]  # FULL while the entries are written: on disk before the target commits
    assert after == 1  # the store's pooled connection is back to NORMAL


def test_postgresql_batch_rows_are_locked_while_their_pseudonyms_are_read(pg_url, tmp_path, monkeypatch):
    """No concurrent change can slip between the reader's hashes and the UPDATE's: the rows are locked."""
    import tutela.erasure.pseudonymize as bulk

    engine = create_schema(pg_url)
    populate(engine, users=12)
    tutela = make_tutela(pg_url, f"sqlite:///{tmp_path / 'store.db'}", tmp_path, batch=4)
    outcomes: list[str] = []
    original, original_update = bulk._hash_by_reader, bulk.apply_work
    tried = threading.Event()

    def update_after_the_try(*args, **kwargs):
        tried.wait(10)  # the UPDATE (worker thread) starts only once the change was tried
        return original_update(*args, **kwargs)

    def reader_then_try_a_change(reader, work, fields, in_batch, context, writer):
        batch_ids = [r[0] for r in reader.execute(sa.select(work.primary_key()).where(in_batch))]
        reader.rollback()
        with engine.connect() as other:
            other.exec_driver_sql("SET lock_timeout = '200ms'")
            try:
                other.execute(work.table.update().where(work.primary_key() == batch_ids[0])
                              .values(email="changed@example.org"))
                outcomes.append("changed")
            except sa.exc.OperationalError:
                outcomes.append("locked")
        tried.set()
        return original(reader, work, fields, in_batch, context, writer)

    monkeypatch.setattr(bulk, "_hash_by_reader", reader_then_try_a_change)
    monkeypatch.setattr(bulk, "apply_work", update_after_the_try)
    try:
        result = pseudonymize(tutela, "newsletter_contacts", "status=unsubscribed,bounced", actor="test")
        listed = set(_listed(tutela))
    finally:
        tutela.close()
    targets = newsletter_contacts.c.status.in_(["unsubscribed", "bounced"])
    emails = {row["email"] for row in rows(engine, newsletter_contacts, targets)}
    engine.dispose()
    assert outcomes == ["locked", "locked"] and result.total == 8
    assert emails <= listed  # every pseudonym written is on the list


def test_postgresql_values_only_python_can_hash_are_finished_only_in_batches_that_have_them(pg_url, tmp_path,
                                                                                          monkeypatch):
    """pgcrypto hashes printable ASCII; a batch whose reader met other values gets Python's pass,
    the others skip it. Every row ends as Python's keyed hash, and every hash is listed."""
    import tutela.erasure.pseudonymize as bulk
    from tutela.actions.context import ActionContext as Context

    engine = create_schema(pg_url)
    populate(engine, users=12)  # 8 unsubscribed or bounced: ids 1, 2, 4, 5, 7, 8, 10, 11
    originals = {7: " Zoë@Exämple.org", 8: "ÅSA@example.org ", 2: "  Mixed.Case@Example.ORG"}
    with engine.begin() as conn:
        for row_id, email in originals.items():
            conn.execute(newsletter_contacts.update().where(newsletter_contacts.c.id == row_id).values(email=email))
    tutela = make_tutela(pg_url, f"sqlite:///{tmp_path / 'store.db'}", tmp_path, batch=4)
    finished: list[list[int]] = []
    original = bulk.finish_in_python

    def spy(conn, work, in_batch, context, *args):
        finished.append(sorted(conn.execute(sa.select(work.primary_key()).where(in_batch)).scalars()))
        return original(conn, work, in_batch, context, *args)
    monkeypatch.setattr(bulk, "finish_in_python", spy)
    try:
        result = pseudonymize(tutela, "newsletter_contacts", "status=unsubscribed,bounced", actor="test")
        listed = set(_listed(tutela))
        key_id = tutela.keyring.current_hash_key_id
        context = Context("postgresql", tutela.keyring.hash_key(key_id), key_id, kind="email")
    finally:
        tutela.close()
    targets = newsletter_contacts.c.status.in_(["unsubscribed", "bounced"])
    after = {row["id"]: row["email"] for row in rows(engine, newsletter_contacts, targets)}
    engine.dispose()
    assert result.total == 8 and finished == [[7, 8, 10, 11]]  # batches [1 2 4 5] and [7 8 10 11]
    for row_id, email in after.items():
        wanted = context.hash_value(originals.get(row_id, f"user{row_id}@example.org"))
        assert email == wanted, row_id
    assert set(after.values()) == listed
