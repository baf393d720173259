"""`tutela retention plan|run` and `tutela worker --once` through the CLI runner."""

from __future__ import annotations

import json
from datetime import timedelta

from retention_helpers import current_time, fill, rows_aged, table_rows, write_policy
from typer.testing import CliRunner

from tutela.cli.main import app

runner = CliRunner()


def _setup(tmp_path, extra_tables=None):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    fill(url, rows_aged([timedelta(days=400 + i) for i in range(12)] + [timedelta(days=2)] * 3, now=current_time()))
    tables = {"sessions": {"purpose": "service", "retention": {"after": "1y", "from": "created_at"}},
              **(extra_tables or {})}
    return url, str(write_policy(tmp_path, url, tables, batch_size=5))


def test_plan_json_counts_and_changes_nothing(tmp_path):
    url, policy = _setup(tmp_path)
    result = runner.invoke(app, ["--policy", policy, "retention", "plan", "--json"])
    assert result.exit_code == 0, result.output
    [rule] = json.loads(result.stdout)["rules"]
    assert (rule["rule"], rule["action"], rule["rows"]) == ("app.sessions", "delete_rows", 12)
    assert rule["oldest_age_days"] > 400
    assert len(table_rows(url)) == 15


def test_dry_run_changes_nothing(tmp_path):
    url, policy = _setup(tmp_path)
    result = runner.invoke(app, ["--policy", policy, "retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.stdout and "12" in result.stdout
    assert len(table_rows(url)) == 15


def test_run_without_yes_off_a_terminal_refuses(tmp_path):
    url, policy = _setup(tmp_path)
    result = runner.invoke(app, ["--policy", policy, "retention", "run"])
    assert result.exit_code == 2
    assert "--yes" in result.output
    assert len(table_rows(url)) == 15


def test_run_removes_the_planned_rows(tmp_path):
    url, policy = _setup(tmp_path)
    result = runner.invoke(app, ["--policy", policy, "retention", "run", "--yes"])
    assert result.exit_code == 0, result.output
    assert "app.sessions: done, 12 row(s)" in result.stdout
    assert len(table_rows(url)) == 3


def test_run_exits_1_when_a_rule_fails_and_runs_the_others(tmp_path):
    import sqlalchemy as sa

    url, policy = _setup(tmp_path, {"accounts": {"purpose": "service",
                                                 "retention": {"after": "1d", "from": "closed_at"}}})
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE accounts (id INTEGER PRIMARY KEY, closed_at DATETIME)")
        conn.exec_driver_sql("CREATE TABLE invoices (id INTEGER PRIMARY KEY, "
                             "account_id INTEGER NOT NULL REFERENCES accounts(id))")
        conn.exec_driver_sql("INSERT INTO accounts VALUES (1, '2020-01-01 00:00:00')")
        conn.exec_driver_sql("INSERT INTO invoices VALUES (1, 1)")
    engine.dispose()
    result = runner.invoke(app, ["--policy", policy, "retention", "run", "--yes"])
    assert result.exit_code == 1
    assert "app.accounts: failed" in result.output
    assert len(table_rows(url)) == 3


def test_bad_rule_exits_2_with_file_and_line(tmp_path):
    url, policy = _setup(tmp_path, {"uploads": {"purpose": "service",
                                                "retention": {"after": "7d", "from": "uploaded_at"}}})
    fill(url, [], name="uploads")
    result = runner.invoke(app, ["--policy", policy, "retention", "run", "--yes"])
    assert result.exit_code == 2
    assert f"{policy}:" in result.output and "uploaded_at" in result.output
    assert len(table_rows(url)) == 15


def test_worker_once_runs_due_rules(tmp_path):
    url, policy = _setup(tmp_path)
    result = runner.invoke(app, ["--policy", policy, "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert len(table_rows(url)) == 3


def test_every_verb_has_help():
    for args in (["retention", "plan"], ["retention", "run"], ["worker"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_run_rule_runs_only_that_table(tmp_path):
    url, policy = _setup(tmp_path, {"uploads": {"purpose": "service",
                                                "retention": {"after": "7d", "from": "created_at"}}})
    fill(url, rows_aged([timedelta(days=30)] * 4, now=current_time()), name="uploads")
    result = runner.invoke(app, ["--policy", policy, "retention", "run", "--rule", "uploads", "--yes"])
    assert result.exit_code == 0, result.output
    assert len(table_rows(url, "uploads")) == 0 and len(table_rows(url)) == 15
    unknown = runner.invoke(app, ["--policy", policy, "retention", "plan", "--rule", "bookings"])
    assert unknown.exit_code == 1 and "no retention rule for 'bookings'" in unknown.output
