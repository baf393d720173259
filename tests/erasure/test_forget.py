"""forget_subject on SQLite, PostgreSQL and MariaDB: per-field results, FK depth 3, other rows
untouched, idempotence, suppression, receipt, audit, and bad input that changes nothing."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "subjects"))

from world import (  # noqa: E402
    answers,
    bookings,
    checksum,
    create_schema,
    end_users,
    ledger,
    make_tutela,
    newsletter_contacts,
    policy_text,
    populate,
    rows,
    system_logs,
)

from tutela.crypto.hashing import is_keyed_hash, keyed_hash, pseudonym  # noqa: E402
from tutela.crypto.signing import verify_document  # noqa: E402
from tutela.erasure.forget import forget_subject  # noqa: E402
from tutela.erasure.receipts import verify_receipt  # noqa: E402
from tutela.erasure.suppression import is_suppressed  # noqa: E402
from tutela.errors import InvalidInput, NotFound, SchemaMismatch  # noqa: E402
from tutela.subjects import SUBJECT_ID  # noqa: E402

ALL_TABLES = (end_users, bookings, answers, system_logs, newsletter_contacts, ledger)


@pytest.fixture
def app(db_url, store_url, tmp_path):
    engine = create_schema(db_url)
    populate(engine)
    tutela = make_tutela(db_url, store_url, tmp_path)
    yield tutela, engine
    tutela.close()
    engine.dispose()


def snapshot(engine) -> dict[str, str]:
    return {t.name: checksum(engine, t) for t in ALL_TABLES}


def others(engine, user: int) -> dict[str, str]:
    """Checksums of every row that does not belong to end user ``user``."""
    return {
        "end_users": checksum(engine, end_users, end_users.c.id != user),
        "bookings": checksum(engine, bookings, bookings.c.end_user_id != user),
        "answers": checksum(engine, answers, answers.c.booking_id.not_in([user * 10, user * 10 + 1])),
        "system_logs": checksum(engine, system_logs, system_logs.c.id != user),
        "newsletter_contacts": checksum(engine, newsletter_contacts),
        "ledger": checksum(engine, ledger),
    }


def test_forget_applies_each_fields_action_through_fk_depth_three(app):
    tutela, engine = app
    before_others = others(engine, 3)
    result = forget_subject(tutela, "end_user", "email", "user3@example.org", reason="erasure", actor="test")

    user = rows(engine, end_users, end_users.c.id == 3)[0]
    assert user["email"] == keyed_hash(tutela.keyring, "email", "user3@example.org")  # hash, normalised
    assert user["phone"] == keyed_hash(tutela.keyring, "phone", "+493012345603")
    assert user["full_name"] is None  # null
    assert user["birth_date"] == date(1983, 1, 1)  # generalize:year
    assert user["postcode"] == "10"  # generalize:postcode (2 characters)
    assert user["age"] == 20  # generalize:age_band: 29 → 20
    assert user["status"] == "active"  # keep
    user_bookings = rows(engine, bookings, bookings.c.end_user_id == 3)
    assert [b["notes"] for b in user_bookings] == [None, None]  # default action null
    assert [b["ip"] for b in user_bookings] == ["192.168.3.0", "192.168.3.0"]  # generalize:ip /24
    assert rows(engine, answers, answers.c.booking_id.in_([30, 31])) == []  # depth 2, delete_row
    assert rows(engine, system_logs, system_logs.c.id == 3) == []  # identity link, delete_row
    assert others(engine, 3) == before_others
    assert result.counts == {"app.answers": 4, "app.bookings": 2, "app.system_logs": 1, "app.end_users": 1}


def test_second_forget_changes_nothing(app):
    tutela, engine = app
    forget_subject(tutela, "end_user", "email", "user2@example.org", reason="erasure", actor="test")
    after_first = snapshot(engine)
    again = forget_subject(tutela, "end_user", "email", "USER2@example.org", reason="erasure", actor="test")
    assert again.total == 0
    assert snapshot(engine) == after_first


def test_forget_by_phone_and_subject_id(app):
    tutela, engine = app
    forget_subject(tutela, "end_user", "phone", "+49 30 12345604", reason="erasure", actor="test")
    assert is_keyed_hash(rows(engine, end_users, end_users.c.id == 4)[0]["email"])
    forget_subject(tutela, "end_user", SUBJECT_ID, "5", reason="erasure", actor="test")
    assert rows(engine, end_users, end_users.c.id == 5)[0]["full_name"] is None
    assert rows(engine, end_users, end_users.c.id == 6)[0]["full_name"] == "User Number 6"


def test_forget_suppresses_receipts_and_audits(app):
    tutela, _ = app
    assert not is_suppressed(tutela, "email", "user1@example.org")
    result = forget_subject(tutela, "end_user", "email", "User1@Example.org", reason="unsubscribe", actor="test")
    assert is_suppressed(tutela, "email", " USER1@example.org")
    assert is_suppressed(tutela, "phone", "+49 30 12345601")
    assert not is_suppressed(tutela, "email", "user2@example.org")

    receipt = result.receipt
    assert verify_document(receipt, tutela.keyring)
    assert verify_receipt(tutela, result.receipt_path)
    text = result.receipt_path.read_text()
    assert "user1@example.org" not in text.lower() and "User Number 1" not in text
    by_table = {t["table"]: t for t in receipt["tables"]}
    assert by_table["end_users"]["fields"]["email"] == "hash"
    assert by_table["answers"]["action"] == "delete_row" and by_table["answers"]["rows"] == 4
    assert receipt["hash_key_id"] == tutela.keyring.current_hash_key_id

    subject = pseudonym(tutela.keyring, "email", "user1@example.org")
    events = tutela.audit.query(action="erasure.forget", subject=subject)
    assert len(events) == 1 and events[0].details["reason"] == "unsubscribe"


def test_tampered_receipt_fails_verification(app):
    tutela, _ = app
    result = forget_subject(tutela, "end_user", "email", "user1@example.org", reason="erasure", actor="test")
    doc = result.receipt_path.read_text().replace('"rows": 4', '"rows": 3')
    result.receipt_path.write_text(doc)
    assert not verify_receipt(tutela, result.receipt_path)


def test_tenant_scope_limits_forget(app):
    tutela, engine = app
    before = snapshot(engine)
    with pytest.raises(NotFound, match="no data found"):
        forget_subject(tutela, "end_user", "email", "user3@example.org", reason="erasure", tenant="acme",
                       actor="test")
    assert snapshot(engine) == before
    forget_subject(tutela, "end_user", "email", "user3@example.org", reason="erasure", tenant="globex",
                   actor="test")
    assert rows(engine, end_users, end_users.c.id == 3)[0]["full_name"] is None


@pytest.mark.parametrize("kind, value, error", [
    ("email", "nobody@example.org", NotFound),
    ("email", "not an email", InvalidInput),
    ("phone", "12", InvalidInput),
    ("fax", "+4930123", InvalidInput),
    (SUBJECT_ID, "999", NotFound),
])
def test_bad_input_changes_nothing(app, kind, value, error):
    tutela, engine = app
    before = snapshot(engine)
    with pytest.raises(error):
        forget_subject(tutela, "end_user", kind, value, reason="erasure", actor="test")
    assert snapshot(engine) == before
    assert not is_suppressed(tutela, "email", "user1@example.org")


def test_unknown_reason_is_refused(app):
    tutela, engine = app
    before = snapshot(engine)
    with pytest.raises(InvalidInput, match="reason"):
        forget_subject(tutela, "end_user", "email", "user1@example.org", reason="whim", actor="test")
    assert snapshot(engine) == before


def test_action_that_does_not_fit_its_column_changes_nothing(db_url, store_url, tmp_path):
    engine = create_schema(db_url)
    populate(engine)
    text = policy_text(db_url, store_url).replace(
        'status: {category: user.account, on_erasure: keep}\n      bookings',
        'status: {category: user.account, on_erasure: "null"}\n      bookings')
    tutela = make_tutela(db_url, store_url, tmp_path, text=text)
    try:
        before = snapshot(engine)
        with pytest.raises(SchemaMismatch, match="NOT NULL"):
            forget_subject(tutela, "end_user", "email", "user1@example.org", reason="erasure", actor="test")
        assert snapshot(engine) == before
        assert not is_suppressed(tutela, "email", "user1@example.org")
    finally:
        tutela.close()
        engine.dispose()



def test_a_column_dropped_after_an_erasure_is_caught_once_the_schema_is_reflected_again(app):
    tutela, engine = app
    forget_subject(tutela, "end_user", "email", "user1@example.org", reason="erasure", actor="test")
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE bookings DROP COLUMN ip")
    tutela.schema("app", refresh=True)
    before = checksum(engine, end_users)
    with pytest.raises(SchemaMismatch, match="'ip'"):
        forget_subject(tutela, "end_user", "email", "user2@example.org", reason="erasure", actor="test")
    assert checksum(engine, end_users) == before
    assert not is_suppressed(tutela, "email", "user2@example.org")

def test_receipts_sit_beside_the_store_file_also_when_its_path_is_relative(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from tutela.erasure.receipts import receipts_dir

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    relative = SimpleNamespace(store=SimpleNamespace(url="sqlite:///store.db"), base_dir=str(tmp_path))
    monkeypatch.chdir(tmp_path / "a")
    assert receipts_dir(relative) == tmp_path / "a" / "receipts"
    monkeypatch.chdir(tmp_path / "b")
    assert receipts_dir(relative) == tmp_path / "b" / "receipts"
    absolute = SimpleNamespace(store=SimpleNamespace(url=f"sqlite:///{tmp_path / 'a' / 'store.db'}"),
                               base_dir=str(tmp_path))
    assert receipts_dir(absolute) == tmp_path / "a" / "receipts"
    server = SimpleNamespace(store=SimpleNamespace(url="postgresql://db/store"), base_dir=str(tmp_path / "b"))
    assert receipts_dir(server) == tmp_path / "b" / "receipts"
