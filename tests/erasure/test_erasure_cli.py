"""The erasure verbs through the CLI runner: exit codes, confirmation, messages, nothing changed on errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "subjects"))

from world import checksum, create_schema, end_users, newsletter_contacts, policy_text, populate  # noqa: E402

from tutela.cli.main import app  # noqa: E402
from tutela.crypto.keyring import Keyring  # noqa: E402

runner = CliRunner()


@pytest.fixture
def policy(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = create_schema(url)
    populate(engine)
    Keyring.create(tmp_path / "tutela.key")
    path = tmp_path / "tutela.yaml"
    path.write_text(policy_text(url, f"sqlite:///{tmp_path / 'store.db'}").replace("unused.key", "tutela.key"))
    yield str(path), engine
    engine.dispose()


def run(policy: str, *args: str, input: str | None = None):
    return runner.invoke(app, ["--policy", policy, *args], input=input)


def test_every_verb_has_help():
    for verb in (["forget"], ["pseudonymize"], ["suppressed"], ["lookup"], ["erase-tenant"], ["receipt", "verify"]):
        result = runner.invoke(app, [*verb, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_forget_then_suppressed_then_receipt_verify(policy, tmp_path):
    path, engine = policy
    result = run(path, "forget", "--email", "user2@example.org", "--subject", "end_user", "--yes")
    assert result.exit_code == 0, result.output
    assert "app.answers: 4 row(s)" in result.output
    assert run(path, "suppressed", "--email", "User2@example.org").exit_code == 0
    assert run(path, "suppressed", "--email", "user3@example.org").exit_code == 1
    receipt = next((tmp_path / "receipts").glob("*-forget-*.json"))
    assert run(path, "receipt", "verify", str(receipt)).exit_code == 0
    doc = json.loads(receipt.read_text())
    doc["reason"] = "unsubscribe"
    receipt.write_text(json.dumps(doc))
    tampered = run(path, "receipt", "verify", str(receipt))
    assert tampered.exit_code == 1 and "does not verify" in tampered.output


def test_forget_unknown_and_malformed(policy):
    path, engine = policy
    before = checksum(engine, end_users)
    missing = run(path, "forget", "--email", "nobody@example.org", "--subject", "end_user", "--yes")
    assert missing.exit_code == 1 and "no data found" in missing.output
    bad = run(path, "forget", "--email", "not-an-address", "--subject", "end_user", "--yes")
    assert bad.exit_code == 2
    both = run(path, "forget", "--email", "a@b.org", "--phone", "+4930123", "--subject", "end_user", "--yes")
    assert both.exit_code == 2
    assert checksum(engine, end_users) == before


def test_pseudonymize_dry_run_confirmation_and_run(policy):
    path, engine = policy
    before = checksum(engine, newsletter_contacts)
    dry = run(path, "pseudonymize", "--table", "newsletter_contacts", "--where", "status=unsubscribed,bounced",
              "--dry-run")
    assert dry.exit_code == 0 and "4 still to pseudonymise" in dry.output
    declined = run(path, "pseudonymize", "--table", "newsletter_contacts", "--where",
                   "status=unsubscribed,bounced", input="n\n")
    assert declined.exit_code != 0
    assert checksum(engine, newsletter_contacts) == before
    unknown = run(path, "pseudonymize", "--table", "newsletter_contacts", "--where", "colour=red", "--yes")
    assert unknown.exit_code == 2 and "colour" in unknown.output
    done = run(path, "pseudonymize", "--table", "newsletter_contacts", "--where", "status=unsubscribed,bounced",
               "--yes")
    assert done.exit_code == 0 and "4 row(s) pseudonymised" in done.output
    lookup = run(path, "lookup", "--email", "user1@example.org", "--json")
    assert lookup.exit_code == 0 and '"newsletter_contacts"' in lookup.output
    assert run(path, "lookup", "--email", "user3@example.org").exit_code == 1


def test_suppressed_file_filter(policy, tmp_path):
    path, _ = policy
    run(path, "pseudonymize", "--table", "newsletter_contacts", "--where", "status=unsubscribed", "--yes")
    source = tmp_path / "list.csv"
    source.write_text("email\nuser1@example.org\nuser3@example.org\n")
    out = tmp_path / "ok.csv"
    result = run(path, "suppressed", "--file", str(source), "--out", str(out))
    assert result.exit_code == 0
    assert out.read_text().split() == ["email", "user3@example.org"]


def test_erase_tenant_counts_and_confirms(policy):
    path, engine = policy
    declined = run(path, "erase-tenant", "acme", input="n\n")
    assert declined.exit_code != 0 and "app.end_users: 3 row(s)" in declined.output
    assert checksum(engine, end_users, end_users.c.tenant_id == "acme") != checksum(engine, end_users, False)
    done = run(path, "erase-tenant", "acme", "--yes")
    assert done.exit_code == 0
    assert run(path, "erase-tenant", "acme", "--yes").exit_code == 1  # nothing left: no data found
