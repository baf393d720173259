"""The ledger is append-only: the database refuses UPDATE/DELETE (PostgreSQL also TRUNCATE), and no
code path of the consent area issues either."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from consent_helpers import key, make_tutela

from tutela.consent import consent_history, create_notice, give_consent, restrict, withdraw_consent
from tutela.consent.tables import ledger, notices, restrictions

CHANGES = [
    "UPDATE tutela_consent_ledger SET event = 'given'",
    "DELETE FROM tutela_consent_ledger",
    "UPDATE tutela_consent_notices SET text = 'something else'",
    "DELETE FROM tutela_consent_notices",
    "UPDATE tutela_consent_restrictions SET event = 'lifted'",
    "DELETE FROM tutela_consent_restrictions",
]


def _fill(tutela) -> str:
    create_notice(tutela, "newsletter", "Mail.", actor="op")
    subject = key(tutela, "ada")
    give_consent(tutela, subject, "newsletter", actor="op")
    withdraw_consent(tutela, subject, "newsletter", actor="op")
    restrict(tutela, subject, kind="restriction", reason="request 1", actor="op")
    return subject


def _refused_and_intact(tutela, subject: str, statements: list[str]) -> None:
    before = consent_history(tutela, subject)
    for statement in statements:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with tutela.store.engine.begin() as conn:
                conn.exec_driver_sql(statement)
    assert consent_history(tutela, subject) == before
    with tutela.store.engine.connect() as conn:
        counts = [conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                  for t in (ledger, notices, restrictions)]
    assert counts == [2, 1, 1]


def test_database_refuses_update_and_delete(tutela):
    _refused_and_intact(tutela, _fill(tutela), CHANGES)


def test_postgresql_refuses_truncate_too(pg_url):
    t = make_tutela(pg_url)
    try:
        _refused_and_intact(t, _fill(t), CHANGES + [f"TRUNCATE {name}" for name in
                                                    ("tutela_consent_ledger", "tutela_consent_notices",
                                                     "tutela_consent_restrictions")])
    finally:
        t.close()


def test_no_consent_module_updates_or_deletes():
    source = Path(__file__).parents[2] / "src" / "tutela" / "consent"
    offenders = [path.name for path in source.glob("*.py")
                 if re.search(r"(ledger|notices|restrictions)\.(update|delete)\(|\bsa\.(update|delete)\("
                                  r"|UPDATE tutela_consent|DELETE FROM tutela_consent", path.read_text())]
    assert offenders == []
