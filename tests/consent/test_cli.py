"""The consent CLI verbs, run through Typer's runner on a policy file and SQLite store in a temp folder."""

from __future__ import annotations

import json

import pytest
from consent_helpers import POLICY
from typer.testing import CliRunner

from tutela.cli.main import app
from tutela.crypto.keyring import Keyring


@pytest.fixture
def run(tmp_path):
    policy = tmp_path / "tutela.yaml"
    policy.write_text(POLICY.replace("engine:\n", "engine:\n  store: sqlite:///store.db\n  keyring: tutela.key\n"))
    Keyring.create(tmp_path / "tutela.key")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["--policy", str(policy), *args])

    return invoke


def test_notice_give_check_withdraw_history(run, tmp_path):
    text = tmp_path / "newsletter.md"
    text.write_text("# Newsletter\nOne mail a week.\n")
    assert run("notice", "new", "newsletter", "--file", str(text)).exit_code == 0
    assert run("notice", "new", "newsletter", "--text", "One mail a week!", "--not-material").exit_code == 0
    listed = json.loads(run("notice", "list", "--json").stdout)
    assert [(n["version"], n["material"]) for n in listed] == [(1, True), (2, False)]
    assert run("notice", "show", "newsletter", "--version", "1", "--raw").stdout == text.read_text()

    refused = run("consent", "check", "newsletter", "service", "--email", "ada@example.org")
    assert refused.exit_code == 1 and "no consent" in refused.stdout
    given = run("consent", "give", "newsletter", "--email", "ada@example.org", "--point", "fair")
    assert given.exit_code == 0 and "ada@" not in given.stdout
    checked = run("consent", "check", "newsletter", "service", "--email", "ada@example.org", "--json")
    assert checked.exit_code == 0
    assert json.loads(checked.stdout)["newsletter"]["code"] == "consent"
    assert run("consent", "withdraw", "newsletter", "--email", "ada@example.org").exit_code == 0
    assert run("object", "--email", "ada@example.org", "--purpose", "fraud", "--reason", "req 1").exit_code == 0
    history = json.loads(run("consent", "history", "--email", "ada@example.org", "--json").stdout)
    assert [e["event"] for e in history["consent"]] == ["given", "withdrawn"]
    assert history["restrictions"][0]["kind"] == "objection"
    assert run("object", "--email", "ada@example.org", "--purpose", "fraud", "--reason", "ok",
               "--lift").exit_code == 0


def test_bad_usage_exits_2_and_writes_nothing(run):
    run("notice", "new", "newsletter", "--text", "Mail.")
    child = run("consent", "give", "newsletter", "--email", "kid@example.org", "--age", "12", "--country", "DE")
    assert child.exit_code == 2 and "Art. 8" in child.stderr
    unknown = run("consent", "give", "telepathy", "--email", "kid@example.org")
    assert unknown.exit_code == 2 and "not declared" in unknown.stderr
    assert run("consent", "give", "newsletter").exit_code == 2
    history = json.loads(run("consent", "history", "--email", "kid@example.org", "--json").stdout)
    assert history["consent"] == []


def test_import_dry_run_and_strict(run, tmp_path):
    run("notice", "new", "newsletter", "--text", "Mail.")
    csv = tmp_path / "consents.csv"
    csv.write_text("email,purpose,at\nada@example.org,newsletter,2025-01-01T00:00:00Z\n"
                   "bad,newsletter,2025-01-01T00:00:00Z\n")
    dry = run("consent", "import", str(csv), "--dry-run")
    assert dry.exit_code == 1 and "line 3:" in dry.stderr and "nothing written" in dry.stdout
    strict = json.loads(run("consent", "import", str(csv), "--strict", "--json").stdout)
    assert strict["written"] == 0
    real = json.loads(run("consent", "import", str(csv), "--json").stdout)
    assert real["written"] == 1 and real["rejects"][0]["line"] == 3


def test_form_snippet(run):
    run("notice", "new", "newsletter", "--text", "Mail <b>now</b>.")
    result = run("consent", "form", "newsletter", "--point", "signup", "--action", "/consent/signup")
    assert result.exit_code == 0 and 'name="consent.newsletter"' in result.stdout
    assert "&lt;b&gt;" in result.stdout


def test_withdrawal_form_snippet(run):
    run("notice", "new", "newsletter", "--text", "Mail.")
    result = run("consent", "form", "newsletter", "--withdrawal", "--point", "prefs", "--action", "/w")
    assert result.exit_code == 0 and 'name="withdraw.newsletter"' in result.stdout
