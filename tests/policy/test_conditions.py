"""Conditions: structured, validated, compiled with bound parameters — never SQL text."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError

from tutela.policy.conditions import AllOf, Comparison, Condition, compile_condition, parse_where

ADAPTER = TypeAdapter(Condition)


@pytest.fixture
def table(db_url):
    from tutela.store.database import make_engine

    engine = make_engine(db_url)
    metadata = sa.MetaData()
    contacts = sa.Table("contacts", metadata, sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("status", sa.String(60)), sa.Column("score", sa.Integer))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(contacts.insert(), [
            {"id": 1, "status": "subscribed", "score": 5}, {"id": 2, "status": "unsubscribed", "score": 1},
            {"id": 3, "status": "bounced", "score": None}, {"id": 4, "status": "x'; DROP TABLE contacts; --",
                                                            "score": 9},
        ])
    yield engine, contacts
    engine.dispose()


def ids(engine, contacts, condition) -> list[int]:
    with engine.connect() as conn:
        where = compile_condition(condition, contacts)
        return sorted(conn.execute(sa.select(contacts.c.id).where(where)).scalars())


def test_structured_conditions_select_exactly_their_rows(table):
    engine, contacts = table
    assert ids(engine, contacts, ADAPTER.validate_python(
        {"any": [{"column": "status", "value": "unsubscribed"}, {"column": "status", "value": "bounced"}]})) == [2, 3]
    assert ids(engine, contacts, ADAPTER.validate_python(
        {"all": [{"column": "score", "op": "ge", "value": 2}, {"column": "status", "op": "ne", "value": "bounced"}]}
    )) == [1, 4]
    assert ids(engine, contacts, ADAPTER.validate_python({"column": "score", "op": "is_null"})) == [3]


def test_values_are_bound_never_spliced(table):
    engine, contacts = table
    evil = "x'; DROP TABLE contacts; --"
    assert ids(engine, contacts, Comparison(column="status", value=evil)) == [4]
    assert ids(engine, contacts, parse_where("status=x' OR '1'='1")) == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(contacts)).scalar() == 4


def test_unknown_column_raises_key_error_naming_it(table):
    _, contacts = table
    with pytest.raises(KeyError, match="stat"):
        compile_condition(Comparison(column="stat", value="x"), contacts)


@pytest.mark.parametrize("raw", [
    {"column": "status", "op": "in", "value": "bounced"},
    {"column": "status", "op": "is_null", "value": 1},
    {"column": "status", "op": "eq"},
    {"column": "status", "op": "between", "value": 1},
    {"colum": "status", "value": 1},
])
def test_malformed_conditions_are_refused(raw):
    with pytest.raises(ValidationError):
        ADAPTER.validate_python(raw)


def test_cli_shorthand():
    parsed = parse_where("status=unsubscribed,bounced;score>=3;email!=null")
    assert isinstance(parsed, AllOf)
    assert [(c.column, c.op, c.value) for c in parsed.all] == [
        ("status", "in", ["unsubscribed", "bounced"]), ("score", "ge", "3"), ("email", "not_null", None)]
    for bad in ("", "status", "1abc=3", "=x", "status ~ x"):
        with pytest.raises(ValueError):
            parse_where(bad)
