"""CSV import: dry-run rejects by line number, one transaction, --strict, idempotent re-runs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from consent_helpers import key

from tutela.consent import create_notice, may_process
from tutela.consent.importer import import_csv
from tutela.consent.tables import ledger
from tutela.errors import InvalidInput

CSV = """email,purpose,event,notice_version,at,age,country,parent_name,parent_relationship
ada@example.org,newsletter,given,1,2025-03-01T10:00:00Z,,,,
not-an-email,newsletter,given,1,2025-03-01T10:00:00Z,,,,
bob@example.org,telepathy,given,1,2025-03-01T10:00:00Z,,,,
cy@example.org,newsletter,given,9,2025-03-01T10:00:00Z,,,,
kid@example.org,newsletter,given,1,2025-03-01T10:00:00Z,12,DE,,
kid2@example.org,newsletter,given,1,2025-03-01T10:00:00Z,12,DE,Erika Muster,parent
dee@example.org,newsletter,given,1,2025-03-01T10:00:00Z,,,,
dee@example.org,newsletter,withdrawn,,2025-04-01T10:00:00Z,,,,
eve@example.org,newsletter,given,1,yesterday,,,,
"""
REJECTED_LINES = [3, 4, 5, 6, 10]


def _count(tutela) -> int:
    with tutela.store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(ledger)).scalar()


def test_dry_run_reports_rejects_and_writes_nothing(tutela):
    create_notice(tutela, "newsletter", "Mail.", actor="op")
    report = import_csv(tutela, CSV, actor="op", dry_run=True)
    assert [line for line, _ in report.rejects] == REJECTED_LINES
    problems = dict(report.rejects)
    assert "e-mail" in problems[3].lower() or "email" in problems[3].lower()
    assert "not declared" in problems[4]
    assert "no notice version 9" in problems[5]
    assert "Art. 8" in problems[6]
    assert "ISO 8601" in problems[10]
    assert "not-an-email" not in str(report.as_dict())  # raw identifiers stay out of reports
    assert (report.rows, report.valid, report.written) == (9, 4, 0)
    assert _count(tutela) == 0


def test_real_import_writes_valid_rows_once(tutela):
    create_notice(tutela, "newsletter", "Mail.", actor="op")
    report = import_csv(tutela, CSV, actor="op")
    assert report.written == 4 and len(report.rejects) == 5
    assert may_process(tutela, key(tutela, "ada"), "newsletter").allowed
    assert may_process(tutela, key(tutela, "kid2"), "newsletter").allowed
    assert may_process(tutela, key(tutela, "dee"), "newsletter").code == "withdrawn"
    again = import_csv(tutela, CSV, actor="op")
    assert (again.written, again.already_recorded) == (0, 4)
    assert _count(tutela) == 4


def test_strict_writes_nothing_when_any_row_is_rejected(sqlite_tutela):
    create_notice(sqlite_tutela, "newsletter", "Mail.", actor="op")
    report = import_csv(sqlite_tutela, CSV, actor="op", strict=True)
    assert report.written == 0 and len(report.rejects) == 5
    assert _count(sqlite_tutela) == 0


@pytest.mark.parametrize("text, problem", [
    ("", "empty"),
    ("email,purpose,colour\n", "unknown column"),
    ("email,event\n", "purpose column"),
])
def test_bad_headers(sqlite_tutela, text, problem):
    with pytest.raises(InvalidInput, match=problem):
        import_csv(sqlite_tutela, text, actor="op")
    assert _count(sqlite_tutela) == 0
