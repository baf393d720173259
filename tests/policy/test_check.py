"""`tutela check` against live schemas on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from tutela.cli.main import app
from tutela.engine import Tutela
from tutela.policy import parse_policy
from tutela.policy.check import check_policy, guess_category

from policy.app_schema import build_sample_app
from support import SAMPLE_POLICY

GOOD = SAMPLE_POLICY.read_text()


def policy_for(url: str, text: str = GOOD):
    return parse_policy(text.replace("url: sqlite:///app.db", f"url: {url}"), "policy.yaml")


def run_check(url: str, text: str = GOOD):
    with Tutela(policy_for(url, text)) as tutela:
        return check_policy(tutela)


def test_matching_schema_passes(db_url):
    build_sample_app(db_url).dispose()
    report = run_check(db_url)
    assert report.ok, report.errors
    assert report.tables_checked == 3 and report.systems_checked == ["app"]


def test_missing_table_and_column_are_errors_with_lines(db_url):
    build_sample_app(db_url).dispose()
    text = GOOD.replace("full_name: {", "nickname: {").replace("      system_logs:", "      audit_trail:")
    report = run_check(db_url, text)
    messages = [str(p) for p in report.errors]
    assert any(m.startswith("policy.yaml:40:") and "column 'nickname' does not exist in table 'end_users'" in m
               for m in messages), messages
    assert any("table 'audit_trail' does not exist in system 'app'" in m for m in messages), messages


def test_sql_in_a_table_name_is_an_error_never_sql(db_url):
    engine = build_sample_app(db_url)
    text = GOOD.replace("      system_logs:", '      "system_logs; DROP TABLE end_users":')
    report = run_check(db_url, text)
    assert any("'system_logs; DROP TABLE end_users' does not exist" in str(p) for p in report.errors)
    with engine.connect() as conn:
        assert "end_users" in sa.inspect(conn).get_table_names()
    engine.dispose()


def test_action_that_does_not_fit_the_column_is_an_error(db_url):
    build_sample_app(db_url).dispose()
    # tenant_id is NOT NULL: erasing it to NULL would fail at run time, so check refuses it now.
    text = GOOD.replace("          full_name: {category: user.name, on_erasure: \"null\"}",
                        "          full_name: {category: user.name, on_erasure: \"null\"}\n"
                        "          tenant_id: {category: system.operations, on_erasure: \"null\"}")
    report = run_check(db_url, text)
    expected = "'null' cannot apply to NOT NULL column 'end_users.tenant_id'"
    assert any(expected in str(p) for p in report.errors), report.errors


def test_undeclared_personal_columns_and_missing_indexes_are_warnings(db_url, db_kind):
    build_sample_app(db_url, index_bookings_fk=False, extra_columns=True).dispose()
    report = run_check(db_url)
    assert report.ok
    warnings = [str(p) for p in report.warnings]
    assert any("column 'home_address' looks personal (user.contact.address.street?)" in w for w in warnings)
    assert any("table 'newsletter_signups' is not declared" in w and "email_address (user.contact.email?)" in w
               for w in warnings), warnings
    missing_index = any("foreign-key column 'bookings.end_user_id' has no index" in w for w in warnings)
    # InnoDB (MariaDB) creates an index for every foreign key itself; the others do not.
    assert missing_index is (db_kind != "mariadb"), warnings


def test_parent_without_foreign_key_needs_a_declared_column(db_url):
    engine = build_sample_app(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE loose_notes (id INTEGER PRIMARY KEY, owner INTEGER, body TEXT)")
    engine.dispose()
    extra = ("      loose_notes:\n        subject: end_user\n        parent: end_users\n        purpose: service\n"
             "        fields:\n          body: {category: user.content.private}\n")
    report = run_check(db_url, GOOD + extra)
    assert any("has no foreign key to 'end_users'" in str(p) for p in report.errors)
    declared = extra.replace("parent: end_users", "parent: {table: end_users, column: owner, references: id}")
    assert run_check(db_url, GOOD + declared).ok


def test_unreachable_system_is_reported_not_raised(tmp_path):
    report = run_check("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert not report.ok and "cannot connect to system 'app'" in str(report.errors[0])


def test_guess_category():
    assert guess_category("customer_email") == "user.contact.email"
    assert guess_category("remote_addr") == "user.device.ip_address"
    assert guess_category("total_amount") is None


def test_cli_check_exit_codes(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    build_sample_app(url).dispose()
    policy = tmp_path / "tutela.yaml"
    policy.write_text(GOOD.replace("url: sqlite:///app.db", f"url: {url}"))
    runner = CliRunner()
    ok = runner.invoke(app, ["--policy", str(policy), "check"])
    assert ok.exit_code == 0, ok.output
    assert "check ok" in ok.output
    policy.write_text(policy.read_text().replace("full_name: {", "nickname: {"))
    bad = runner.invoke(app, ["--policy", str(policy), "check", "--json"])
    assert bad.exit_code == 1
    assert '"ok": false' in bad.output
    broken = runner.invoke(app, ["--policy", str(tmp_path / "missing.yaml"), "check"])
    assert broken.exit_code == 2
    assert "no such policy file" in broken.output


def test_retention_rule_that_does_not_fit_its_table_is_a_check_error(db_url):
    build_sample_app(db_url).dispose()
    text = GOOD.replace("retention: {after: 1y, from: created_at}", "retention: {after: 1y, from: user_email}")
    report = run_check(db_url, text)
    messages = [str(p) for p in report.errors]
    assert any("policy.yaml:" in m and "user_email" in m for m in messages), messages
