"""The demo booking app: declared tables, foreign keys and indexes on every database, data that
scales with --size, is the same for the same seed, and is shaped for the other areas' demo steps."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tutela.crypto.hashing import normalise_email, normalise_phone
from tutela.demo.app import TABLES, build_app, end_users, estimated_rows, generate, iter_batches, upload_path
from tutela.errors import Conflict
from tutela.store.database import make_engine

NOW = datetime(2026, 3, 15, 12, 0, 0)

EXPECTED_FKS = {
    ("operators", "tenant_id"): ("tenants", "id"),
    ("end_users", "tenant_id"): ("tenants", "id"),
    ("bookings", "end_user_id"): ("end_users", "id"),
    ("bookings", "tenant_id"): ("tenants", "id"),
    ("booking_answers", "booking_id"): ("bookings", "id"),
    ("invoices", "booking_id"): ("bookings", "id"),
    ("workflow_sessions", "end_user_id"): ("end_users", "id"),
    ("uploads", "end_user_id"): ("end_users", "id"),
    ("system_logs", "end_user_id"): ("end_users", "id"),
    ("newsletter_contacts", "tenant_id"): ("tenants", "id"),
}
#: identity and foreign-key columns that must lead an index (finding a subject must not scan)
INDEXED = [("operators", "email"), ("end_users", "email"), ("end_users", "phone"),
           ("newsletter_contacts", "email"), ("system_logs", "user_email"), ("system_logs", "created_at"),
           ("workflow_sessions", "created_at"), ("uploads", "created_at")] + list(EXPECTED_FKS)


@pytest.fixture(scope="module")
def small():
    return generate(size=200, seed=7, now=NOW)


def _leading_indexed(inspector: sa.Inspector, table: str) -> set[str]:
    names = {ix["column_names"][0] for ix in inspector.get_indexes(table) if ix["column_names"]}
    names |= {uc["column_names"][0] for uc in inspector.get_unique_constraints(table) if uc["column_names"]}
    names |= set(inspector.get_pk_constraint(table)["constrained_columns"][:1])
    return names


def test_build_creates_declared_tables_fks_and_indexes(db_url, tmp_path):
    engine = make_engine(db_url)
    try:
        # small batches interleave parents and children: foreign keys must hold at every insert
        result = build_app(engine, size=60, seed=3, now=NOW, files_dir=tmp_path, batch_size=17)
        inspector = sa.inspect(engine)
        assert set(inspector.get_table_names()) == {t.name for t in TABLES}
        found = {}
        for table in inspector.get_table_names():
            for fk in inspector.get_foreign_keys(table):
                found[(table, fk["constrained_columns"][0])] = (fk["referred_table"], fk["referred_columns"][0])
        for link, target in EXPECTED_FKS.items():
            assert found.get(link) == target, link
        for table, column in INDEXED:
            assert column in _leading_indexed(inspector, table), f"{table}.{column} has no index"
        with engine.connect() as conn:
            for table in TABLES:
                count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                assert count == result.rows[table.name] > 0, table.name
    finally:
        engine.dispose()


def test_rows_added_after_the_build_get_fresh_ids_and_a_second_build_is_refused(db_url):
    engine = make_engine(db_url)
    try:
        build_app(engine, size=20, seed=3, now=NOW)
        with engine.begin() as conn:
            new_id = conn.execute(end_users.insert().values(tenant_id=1, email="new@example.org",
                                                            created_at=NOW)).inserted_primary_key[0]
        assert new_id > 20
        with pytest.raises(Conflict, match="empty database only"):
            build_app(engine, size=20, seed=3, now=NOW)
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(end_users)).scalar_one() == 21
    finally:
        engine.dispose()


def test_row_counts_scale_with_size():
    small, large = generate(size=100, seed=1, now=NOW), generate(size=400, seed=1, now=NOW)
    for data, size in ((small, 100), (large, 400)):
        rows = data.rows
        assert len(rows["end_users"]) == size
        assert len(rows["workflow_sessions"]) == size // 2
        assert len(rows["system_logs"]) == size * 5
        assert len(rows["newsletter_contacts"]) == size * 6 // 10
        assert size < len(rows["bookings"]) < size * 3
    for name in ("bookings", "booking_answers", "uploads", "invoices"):
        assert len(large.rows[name]) > 3 * len(small.rows[name]), name


def test_same_seed_gives_same_data_and_another_seed_other_data(small):
    assert generate(size=200, seed=7, now=NOW).rows == small.rows
    assert generate(size=200, seed=8, now=NOW).rows["end_users"] != small.rows["end_users"]


def test_batches_stream_parents_first_and_add_up_to_the_same_rows(small):
    seen: set[str] = set()
    rows: dict[str, list[dict]] = {}
    order = [t.name for t in TABLES]
    for name, batch in iter_batches(size=200, seed=7, now=NOW, batch_size=13):
        assert 0 < len(batch) <= 13 + 20  # one end user adds at most a few rows past the limit
        if name in ("bookings", "booking_answers", "invoices"):
            assert "end_users" in seen
        for row in batch:
            if name == "booking_answers":
                assert any(b["id"] == row["booking_id"] for b in rows["bookings"]), "answer before booking"
        seen.add(name)
        rows.setdefault(name, []).extend(batch)
    assert {name: rows[name] for name in order} == small.rows
    assert estimated_rows(200) * 0.8 < sum(map(len, rows.values())) < estimated_rows(200) * 1.2


def test_size_below_one_is_refused(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    with pytest.raises(ValueError, match="at least 1"):
        build_app(engine, size=0)
    assert sa.inspect(engine).get_table_names() == []


def test_identities_normalise(small):
    """Every e-mail and phone number is one that Tutela's hashing accepts (E.164 for the country)."""
    users = small.rows["end_users"]
    for user in users:
        assert "@" in normalise_email(user["email"])
        if user["phone"]:
            # no region needed: every number carries its country code
            assert normalise_phone(user["phone"]).startswith("+" + str(_country_code(user["country"])))
    assert any(u["phone"] and " " in u["phone"] for u in users), "some typed with spaces"
    assert sum(1 for u in users if u["phone"] is None) > 0, "phone is optional"
    assert any(u["email"] != u["email"].lower() for u in users), "some addresses typed with capitals"
    for contact in small.rows["newsletter_contacts"]:
        normalise_email(contact["email"])


def _country_code(region: str) -> int:
    import phonenumbers

    return phonenumbers.country_code_for_region(region)


def test_data_has_what_the_other_areas_demonstrate(small):
    rows = small.rows
    sessions = [s["created_at"] for s in rows["workflow_sessions"]]
    assert any(t < NOW - timedelta(hours=3) for t in sessions) and any(t > NOW - timedelta(hours=3) for t in sessions)
    uploads = [u["created_at"] for u in rows["uploads"]]
    assert any(t < NOW - timedelta(days=7) for t in uploads) and any(t > NOW - timedelta(days=7) for t in uploads)
    logs = [entry["created_at"] for entry in rows["system_logs"]]
    assert any(t < NOW - timedelta(days=366) for t in logs) and any(t > NOW - timedelta(days=30) for t in logs)
    assert max(logs) <= NOW and min(logs) >= NOW - timedelta(days=430)
    assert {c["status"] for c in rows["newsletter_contacts"]} == {"subscribed", "unsubscribed", "bounced"}
    assert {s["status"] for s in rows["workflow_sessions"]} == {"in_progress", "completed"}
    emails = [(u["tenant_id"], u["email"].lower()) for u in rows["end_users"]]
    assert len(set(emails)) == len(emails), "an e-mail is unique within a tenant"
    by_email = {}
    for tenant, email in emails:
        by_email.setdefault(email, set()).add(tenant)
    assert any(len(tenants) > 1 for tenants in by_email.values()), "some people book with two tenants"
    user_emails = {u["email"] for u in rows["end_users"]}
    assert any(c["email"] in user_emails for c in rows["newsletter_contacts"])
    assert len({u["locale"] for u in rows["end_users"]}) >= 5


def test_hashed_columns_are_wide_enough_for_keyed_hashes():
    by_name = {t.name: t for t in TABLES}
    for table, column in [("end_users", "email"), ("end_users", "phone"), ("end_users", "first_name"),
                          ("end_users", "last_name"), ("operators", "email"), ("newsletter_contacts", "email"),
                          ("newsletter_contacts", "first_name"), ("newsletter_contacts", "last_name")]:
        assert by_name[table].c[column].type.length >= 80, f"{table}.{column}"


def test_upload_files_are_written_under_sharded_opaque_paths(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        result = build_app(engine, size=40, seed=2, now=NOW, files_dir=tmp_path)
        with engine.connect() as conn:
            uploads = conn.execute(sa.text("SELECT id, storage_path, size_bytes, original_filename "
                                           "FROM uploads")).all()
    finally:
        engine.dispose()
    assert result.files == len(uploads) > 0
    for opaque, storage_path, size, original in uploads:
        path = upload_path(tmp_path, storage_path)
        assert path.stat().st_size == size
        assert storage_path == f"{opaque[:2]}/{opaque[2:4]}/{opaque}"
        assert original not in storage_path
