"""`tutela audit verify|show|head` through the CLI runner."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tutela.audit import AuditEvent
from tutela.cli.main import app
from tutela.engine import Tutela

from support import SAMPLE_POLICY, intruder

runner = CliRunner()
SUBJECT = "t1:abcdef:" + "3" * 64


@pytest.fixture
def policy(tmp_path, monkeypatch) -> str:
    """A policy folder with a keyring and a store holding five events."""
    monkeypatch.delenv("TUTELA_STORE_URL", raising=False)
    target = tmp_path / "tutela.yaml"
    shutil.copy(SAMPLE_POLICY, target)
    result = runner.invoke(app, ["--policy", str(target), "keys", "create"])
    assert result.exit_code == 0, result.output
    _fill(str(target))
    return str(target)


def _fill(policy: str) -> None:
    with Tutela.open(policy) as tutela:
        tutela.migrate()
        old = datetime.now(UTC) - timedelta(days=10)
        tutela.audit.append_many([
            AuditEvent("request.created", "api", SUBJECT, "acme", {"request_id": "r-1"}, at=old),
            AuditEvent("request.verified", "api", SUBJECT, "acme", {"request_id": "r-1"}, at=old),
            AuditEvent("erasure.forget", "dpo", SUBJECT, "acme", {"rows": 12}),
            AuditEvent("retention.run", "worker", None, None, {"rule": "logs", "rows": 40}),
            AuditEvent("consent.given", "api", SUBJECT, "beta", {"purpose": "newsletter"}),
        ])


def _sql(policy: str, statement: str) -> None:
    with Tutela.open(policy) as tutela, intruder(tutela.store.engine) as conn:  # as a superuser could
        conn.execute(sa.text(statement))


def test_verify_of_an_intact_log_exits_0(policy):
    result = runner.invoke(app, ["--policy", policy, "audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact: 5 event(s)" in result.stdout


@pytest.mark.parametrize("statement, seq", [
    ("UPDATE tutela_audit SET details = '{}' WHERE seq = 3", 3),
    ("UPDATE tutela_audit SET actor = 'someone' WHERE seq = 1", 1),
    ("DELETE FROM tutela_audit WHERE seq = 2", 2),
    ("UPDATE tutela_audit SET seq = 10 WHERE seq = 4", 4),
    ("DELETE FROM tutela_audit WHERE seq >= 4", 4),
    ("UPDATE tutela_audit_head SET signature = NULL", 5),
])
def test_verify_exits_1_and_names_the_first_bad_event(policy, statement, seq):
    _sql(policy, statement)
    result = runner.invoke(app, ["--policy", policy, "audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"first bad event: {seq}" in result.stderr
    json_result = runner.invoke(app, ["--policy", policy, "audit", "verify", "--json"])
    assert json_result.exit_code == 1
    assert json.loads(json_result.stdout)["first_bad_seq"] == seq


def test_verify_detects_two_swapped_events(policy):
    with Tutela.open(policy) as tutela, tutela.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE tutela_audit SET seq = 100 WHERE seq = 2"))
        conn.execute(sa.text("UPDATE tutela_audit SET seq = 2 WHERE seq = 3"))
        conn.execute(sa.text("UPDATE tutela_audit SET seq = 3 WHERE seq = 100"))
    result = runner.invoke(app, ["--policy", policy, "audit", "verify"])
    assert result.exit_code == 1
    assert "first bad event: 2" in result.stderr


def test_show_filters_and_prints_json_lines(policy):
    result = runner.invoke(app, ["--policy", policy, "audit", "show", "--action", "request.*", "--json"])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["seq"] for e in events] == [1, 2]
    assert events[0]["subject"] == SUBJECT and events[0]["details"] == {"request_id": "r-1"}
    for args, seqs in ([["--actor", "api"], [1, 2, 5]], [["--subject", SUBJECT, "--tenant", "acme"], [1, 2, 3]],
                       [["--since", "1d"], [3, 4, 5]], [["--until", "1d"], [1, 2]], [["--limit", "2"], [4, 5]]):
        out = runner.invoke(app, ["--policy", policy, "audit", "show", "--json", *args])
        assert out.exit_code == 0, out.output
        assert [json.loads(line)["seq"] for line in out.stdout.splitlines()] == seqs, args


def test_show_prints_a_table(policy):
    result = runner.invoke(app, ["--policy", policy, "audit", "show", "--actor", "dpo"])
    assert result.exit_code == 0, result.output
    assert "erasure.forget" in result.stdout and "request.created" not in result.stdout


def test_show_with_a_bad_time_exits_2(policy):
    result = runner.invoke(app, ["--policy", policy, "audit", "show", "--since", "last tuesday"])
    assert result.exit_code == 2
    assert "neither an ISO date" in result.stderr


def test_head_prints_the_signed_head(policy):
    result = runner.invoke(app, ["--policy", policy, "audit", "head"])
    assert result.exit_code == 0, result.output
    head = json.loads(result.stdout)
    assert head["seq"] == 5 and len(head["hash"]) == 64 and head["signature"]


def test_verify_on_every_database(db_url, tmp_path, monkeypatch):
    target = tmp_path / "tutela.yaml"
    shutil.copy(SAMPLE_POLICY, target)
    assert runner.invoke(app, ["--policy", str(target), "keys", "create"]).exit_code == 0
    monkeypatch.setenv("TUTELA_STORE_URL", db_url)
    _fill(str(target))
    assert runner.invoke(app, ["--policy", str(target), "audit", "verify"]).exit_code == 0
    _sql(str(target), "DELETE FROM tutela_audit WHERE seq = 3")
    result = runner.invoke(app, ["--policy", str(target), "audit", "verify"])
    assert result.exit_code == 1
    assert "first bad event: 3" in result.stderr


def test_verify_without_a_keyring_exits_2(tmp_path, monkeypatch):
    monkeypatch.delenv("TUTELA_STORE_URL", raising=False)
    target = tmp_path / "tutela.yaml"
    shutil.copy(SAMPLE_POLICY, target)
    result = runner.invoke(app, ["--policy", str(target), "audit", "verify"])
    assert result.exit_code == 2
    assert "no keyring" in result.stderr


def test_verify_and_show_on_an_empty_log(tmp_path, monkeypatch):
    monkeypatch.delenv("TUTELA_STORE_URL", raising=False)
    target = tmp_path / "tutela.yaml"
    shutil.copy(SAMPLE_POLICY, target)
    assert runner.invoke(app, ["--policy", str(target), "keys", "create"]).exit_code == 0
    with Tutela.open(str(target)) as tutela:
        tutela.migrate()
    result = runner.invoke(app, ["--policy", str(target), "audit", "verify"])
    assert result.exit_code == 0 and "empty" in result.stdout
    shown = runner.invoke(app, ["--policy", str(target), "audit", "show"])
    assert shown.exit_code == 0 and "no matching events" in shown.stdout


@pytest.mark.slow
def test_verify_with_several_processes_names_the_same_event(policy):
    assert runner.invoke(app, ["--policy", policy, "audit", "verify", "--workers", "2"]).exit_code == 0
    _sql(policy, "DELETE FROM tutela_audit WHERE seq = 4")
    result = runner.invoke(app, ["--policy", policy, "audit", "verify", "--workers", "2"])
    assert result.exit_code == 1
    assert "first bad event: 4" in result.stderr
