"""Field actions: parsing, validation against reflected column types, and SQL values per database."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from tutela.actions import parse_action
from tutela.actions.context import ActionContext, generalize_ip, stored_normalised
from tutela.crypto.hashing import is_keyed_hash, keyed_hash
from tutela.crypto.keyring import Keyring
from tutela.erasure.apply import FieldWork, TableWork, apply_work
from tutela.store.database import make_engine

meta = sa.MetaData()
sample = sa.Table(
    "sample", meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("email", sa.String(120)),
    sa.Column("phone", sa.String(80)),
    sa.Column("short", sa.String(20)),
    sa.Column("required", sa.String(40), nullable=False),
    sa.Column("ip", sa.String(64)),
    sa.Column("born", sa.Date),
    sa.Column("seen", sa.DateTime),
    sa.Column("postcode", sa.String(10)),
    sa.Column("age", sa.Integer),
    sa.Column("country", sa.String(10)),
)


@pytest.fixture
def reflected(db_url):
    engine = make_engine(db_url)
    meta.create_all(engine)
    live = sa.MetaData()
    live.reflect(engine)
    yield engine, live.tables["sample"]
    engine.dispose()


@pytest.mark.parametrize("spec, column, message", [
    ("null", "required", "NOT NULL"),
    ("null", "id", "primary key"),
    ("hash", "short", "74 characters"),
    ("hash", "age", "text column"),
    ("generalize:year", "email", "date"),
    ("generalize:month", "age", "date"),
    ("generalize:age_band", "email", "whole-number"),
    ("generalize:ip", "born", "text column"),
    ("generalize:postcode", "age", "text column"),
])
def test_action_that_does_not_fit_the_reflected_column_is_refused(reflected, spec, column, message):
    _, table = reflected
    with pytest.raises(ValueError, match=message):
        parse_action(spec).validate_column(table.c[column])


@pytest.mark.parametrize("spec, column", [
    ("null", "email"), ("hash", "email"), ("hash", "phone"), ("keep", "id"), ("delete_row", "id"),
    ("generalize:year", "born"), ("generalize:month", "seen"), ("generalize:age_band", "age"),
    ("generalize:ip", "ip"), ("generalize:postcode:3", "postcode"), ("generalize:country", "country"),
])
def test_fitting_actions_validate(reflected, spec, column):
    _, table = reflected
    parse_action(spec).validate_column(table.c[column])


@pytest.mark.parametrize("spec", ["shred", "generalize", "generalize:colour", "hash:md5", "generalize:year:2"])
def test_unknown_or_malformed_actions(spec):
    with pytest.raises(ValueError):
        parse_action(spec)


def test_generalize_ip_and_normalisation_helpers():
    assert generalize_ip("192.168.17.201") == "192.168.17.0"
    assert generalize_ip("2001:db8:abcd:12::1") == "2001:db8:abcd::"
    assert generalize_ip("not an ip") is None
    assert stored_normalised("email", "  Ann@Example.ORG ") == "ann@example.org"
    assert stored_normalised("email", "broken") == "broken"  # malformed but still hashed
    assert stored_normalised("phone", "+49 30 1234567") == "+49301234567"


def test_every_action_in_sql_on_each_database(reflected):
    engine, table = reflected
    keyring = Keyring.generate()
    with engine.begin() as conn:
        conn.execute(table.insert(), [
            dict(id=1, email=" Ann@Example.org", phone="+49 30 1234567", required="x", ip="10.1.2.3",
                 born=date(1990, 7, 4), seen=datetime(2024, 5, 6, 7, 8, 9), postcode="75008", age=47,
                 country="fr-IDF"),
            dict(id=2, email="Ünïcode@Example.org", phone=None, required="y", ip="2001:db8:abcd:12::1",
                 born=None, seen=None, postcode=None, age=None, country=None),
        ])
    work = TableWork("app", "sample", table, fields=[
        FieldWork("email", parse_action("hash"), "email"),
        FieldWork("phone", parse_action("hash"), "phone"),
        FieldWork("ip", parse_action("generalize:ip")),
        FieldWork("born", parse_action("generalize:year")),
        FieldWork("seen", parse_action("generalize:month")),
        FieldWork("postcode", parse_action("generalize:postcode:3")),
        FieldWork("age", parse_action("generalize:age_band")),
        FieldWork("country", parse_action("generalize:country")),
        FieldWork("required", parse_action("keep")),
    ])
    with engine.begin() as conn:
        context = ActionContext.for_connection(conn, keyring)
        assert apply_work(conn, work, sa.true(), context) == 2
    with engine.connect() as conn:
        one, two = [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(table.c.id))]
    assert one["email"] == keyed_hash(keyring, "email", "ann@example.org")
    assert one["phone"] == keyed_hash(keyring, "phone", "+49301234567")
    assert (one["ip"], one["born"], one["seen"]) == ("10.1.2.0", date(1990, 1, 1), datetime(2024, 5, 1))
    assert (one["postcode"], one["age"], one["country"], one["required"]) == ("750", 40, "FR", "x")
    assert two["email"] == keyed_hash(keyring, "email", "ünïcode@example.org")  # non-ASCII: Python path
    assert two["ip"] == "2001:db8:abcd::"
    with engine.begin() as conn:  # second run: nothing pending, nothing changes, no hash of a hash
        context = ActionContext.for_connection(conn, keyring)
        assert apply_work(conn, work, sa.true(), context) == 0
    with engine.connect() as conn:
        again = dict(conn.execute(sa.select(table).where(table.c.id == 1)).one()._mapping)
    assert again == one and is_keyed_hash(again["email"])


def test_postgresql_without_pgcrypto_hashes_in_python(pg_url):
    """The fallback when pgcrypto cannot be used: same hashes, written with UPDATE … FROM (VALUES …)."""
    from dataclasses import replace

    engine = make_engine(pg_url)
    meta.create_all(engine)
    keyring = Keyring.generate()
    with engine.begin() as conn:
        conn.execute(sample.insert(), [dict(id=i, email=f"P{i}@Example.org", required="r") for i in range(1, 6)])
    work = TableWork("app", "sample", sample, fields=[FieldWork("email", parse_action("hash"), "email")])
    try:
        with engine.begin() as conn:
            context = replace(ActionContext.for_connection(conn, keyring), sql_hmac=False)
            assert parse_action("hash").sql_value(sample.c.email, context.for_kind("email")) is None
            assert apply_work(conn, work, sample.c.id <= 3, context) == 3
        with engine.connect() as conn:
            emails = conn.execute(sa.select(sample.c.email).order_by(sample.c.id)).scalars().all()
        assert emails[:3] == [keyed_hash(keyring, "email", f"p{i}@example.org") for i in range(1, 4)]
        assert emails[3:] == ["P4@Example.org", "P5@Example.org"]
    finally:
        engine.dispose()


def test_postgresql_pgcrypto_is_asked_once_per_engine(pg_url):
    from sqlalchemy import event

    engine = make_engine(pg_url)
    asked: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: asked.append(statement) if "pgcrypto" in statement else None)
    keyring = Keyring.generate()
    try:
        for _ in range(3):
            with engine.connect() as conn:
                assert ActionContext.for_connection(conn, keyring).sql_hmac
        assert len(asked) in (1, 2)  # the probe, and CREATE EXTENSION when the database lacked it
    finally:
        engine.dispose()
