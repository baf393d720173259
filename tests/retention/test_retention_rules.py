"""Retention rules: calendar-correct cutoffs, and bad rules refused with file:line before anything runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from retention_helpers import NOW, fill, open_engine, rows_aged, table_rows, write_policy

from tutela.errors import NotFound, PolicyError
from tutela.policy import load_policy
from tutela.retention import bind_rules, plan_retention, run_retention


def _rule(**retention) -> dict:
    return {"sessions": {"purpose": "service", "retention": retention,
                         "fields": {"email": {"category": "user.contact.email"}}}}


def _bound(tmp_path, after: str, column_type=sa.DateTime):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    sa.Table("sessions", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("created_at", column_type))
    metadata.create_all(engine)
    engine.dispose()
    tutela = open_engine(write_policy(tmp_path, url, _rule(after=after, **{"from": "created_at"})))
    return bind_rules(tutela)[0]


def test_one_month_before_31_march_is_the_last_day_of_february(tmp_path):
    bound = _bound(tmp_path, "1month")
    assert bound.cutoff(datetime(2025, 3, 31, 10, 30, tzinfo=UTC)) == datetime(2025, 2, 28, 10, 30)
    assert bound.cutoff(datetime(2024, 3, 31, 10, 30, tzinfo=UTC)) == datetime(2024, 2, 29, 10, 30)


def test_one_year_before_29_february_is_28_february(tmp_path):
    bound = _bound(tmp_path, "1y")
    assert bound.cutoff(datetime(2024, 2, 29, 8, 0, tzinfo=UTC)) == datetime(2023, 2, 28, 8, 0)


def test_hours_are_exact_and_date_columns_get_a_date_cutoff(tmp_path):
    assert _bound(tmp_path, "3h").cutoff(datetime(2025, 1, 1, 1, 0, tzinfo=UTC)) == datetime(2024, 12, 31, 22, 0)
    (tmp_path / "dated").mkdir()
    dated = _bound(tmp_path / "dated", "1y", sa.Date)
    assert dated.cutoff(datetime(2024, 2, 29, 8, 0, tzinfo=UTC)) == date(2023, 2, 28)


def test_month_end_cutoff_deletes_exactly_the_rows_before_it(db_url, tmp_path):
    now = datetime(2025, 3, 31, 0, 0, tzinfo=UTC)  # one month earlier: 2025-02-28 00:00
    cutoff = datetime(2025, 2, 28)
    rows = [{"id": i, "status": "completed", "created_at": moment, "email": None, "note": None}
            for i, moment in enumerate([cutoff - timedelta(seconds=1), cutoff - timedelta(days=3),
                                        cutoff + timedelta(seconds=1), datetime(2025, 3, 1)], start=1)]
    fill(db_url, rows)
    tutela = open_engine(write_policy(tmp_path, db_url, _rule(after="1month", **{"from": "created_at"})))
    [planned] = plan_retention(tutela, now=now)
    assert planned.cutoff == cutoff and planned.rows == 2
    [result] = run_retention(tutela, now=now)
    assert result.rows == 2
    assert [r[0] for r in table_rows(db_url)] == [3, 4]
    tutela.close()


def test_leap_day_cutoff_on_the_database(db_url, tmp_path):
    now = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)  # one year earlier: 2023-02-28 12:00
    rows = [{"id": 1, "status": "x", "created_at": datetime(2023, 2, 28, 11, 59), "email": None, "note": None},
            {"id": 2, "status": "x", "created_at": datetime(2023, 2, 28, 12, 1), "email": None, "note": None}]
    fill(db_url, rows)
    tutela = open_engine(write_policy(tmp_path, db_url, _rule(after="1y", **{"from": "created_at"})))
    [result] = run_retention(tutela, now=now)
    assert result.rows == 1 and [r[0] for r in table_rows(db_url)] == [2]
    tutela.close()


def test_negative_duration_is_a_policy_error_with_its_line(tmp_path):
    path = write_policy(tmp_path, "sqlite:///app.db", _rule(after="-3h", **{"from": "created_at"}))
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    [problem] = caught.value.problems
    text = path.read_text().splitlines()
    assert problem.file == str(path) and "negative" in problem.message
    assert text[problem.line - 1].strip().startswith("after:")


@pytest.mark.parametrize(
    ("retention", "key", "words"),
    [
        ({"after": "1d", "from": "missing_at"}, "from:", "'missing_at' does not exist"),
        ({"after": "1d", "from": "status"}, "from:", "not a date or timestamp"),
        ({"after": "1d", "from": "created_at", "where": {"column": "state", "value": "done"}}, "where:",
         "'state', which does not exist"),
    ],
    ids=["unknown-from-column", "from-not-a-timestamp", "condition-on-missing-column"],
)
def test_bad_rule_is_a_policy_error_at_its_line_and_nothing_runs(db_url, tmp_path, retention, key, words):
    rows = rows_aged([timedelta(days=10), timedelta(days=1)])
    fill(db_url, rows)
    before = table_rows(db_url)
    path = write_policy(tmp_path, db_url, _rule(**retention))
    tutela = open_engine(path)
    for attempt in (lambda: run_retention(tutela, now=NOW.replace(tzinfo=UTC)),
                    lambda: plan_retention(tutela)):
        with pytest.raises(PolicyError) as caught:
            attempt()
        [problem] = caught.value.problems
        assert words in problem.message
        assert problem.file == str(path)
        assert path.read_text().splitlines()[problem.line - 1].strip().startswith(key)
    assert table_rows(db_url) == before
    tutela.close()


def test_one_bad_rule_stops_every_rule(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    fill(url, rows_aged([timedelta(days=10)]))
    fill(url, rows_aged([timedelta(days=10)]), name="uploads")
    tables = _rule(after="1d", **{"from": "created_at"})
    tables["uploads"] = {"purpose": "service", "retention": {"after": "1d", "from": "nope"}}
    tutela = open_engine(write_policy(tmp_path, url, tables))
    with pytest.raises(PolicyError):
        run_retention(tutela)
    assert len(table_rows(url)) == 1 and len(table_rows(url, "uploads")) == 1
    tutela.close()


def test_erase_fields_with_a_delete_row_field_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    fill(url, rows_aged([timedelta(days=10)]))
    tables = {"sessions": {"purpose": "service", "on_erasure": "delete_row",
                           "retention": {"after": "1d", "from": "created_at", "action": "erase_fields"},
                           "fields": {"email": {"category": "user.contact.email"}}}}
    tutela = open_engine(write_policy(tmp_path, url, tables))
    with pytest.raises(PolicyError, match="use action: delete_rows"):
        bind_rules(tutela)
    tutela.close()


def test_unknown_rule_name_is_not_found(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    fill(url, [])
    tutela = open_engine(write_policy(tmp_path, url, _rule(after="1d", **{"from": "created_at"})))
    with pytest.raises(NotFound, match="app.sessions"):
        bind_rules(tutela, "bookings")
    assert [b.name for b in bind_rules(tutela, "app.sessions")] == ["app.sessions"]
    tutela.close()


def test_tutela_check_reports_a_rule_that_does_not_fit(tmp_path):
    from tutela.policy.check import check_policy

    url = f"sqlite:///{tmp_path / 'app.db'}"
    fill(url, [])
    path = write_policy(tmp_path, url, _rule(after="1d", **{"from": "status"}))
    tutela = open_engine(path)
    report = check_policy(tutela)
    [problem] = [p for p in report.errors if "retention" in p.message]
    assert "not a date or timestamp" in problem.message
    assert path.read_text().splitlines()[problem.line - 1].strip().startswith("from:")
    tutela.close()


def test_sqlite_timestamps_written_without_microseconds_are_all_reached(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    fill(url, [])
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # as an application writing datetime('now')-style text would
        conn.exec_driver_sql("INSERT INTO sessions (id, status, created_at) WITH RECURSIVE n(i) AS "
                             "(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) SELECT i, 'x', "
                             "CASE WHEN i <= 600 THEN '2020-01-01 00:00:00' ELSE '2025-06-01 00:00:00' END FROM n")
    engine.dispose()
    tutela = open_engine(write_policy(tmp_path, url, _rule(after="1y", **{"from": "created_at"}), batch_size=7))
    [planned] = plan_retention(tutela, now=NOW.replace(tzinfo=UTC))
    [result] = run_retention(tutela, now=NOW.replace(tzinfo=UTC))
    assert planned.rows == result.rows == 600 and result.batches > 1
    assert len(table_rows(url)) == 2400
    tutela.close()
