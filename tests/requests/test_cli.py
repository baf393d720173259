"""`tutela request …` through the CLI runner, on a policy file with a real keyring and SMTP server."""

import json
import re
import zipfile

import pytest
from requests_world import ALICE, BOB, CAROL, POLICY, seed
from typer.testing import CliRunner

from smtp_server import latest_code
from tutela.cli.main import app

runner = CliRunner()


@pytest.fixture
def policy_file(tmp_path, smtp_server, monkeypatch):
    from tutela.crypto.keyring import Keyring

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    seed(url)
    Keyring.create(tmp_path / "tutela.key")
    text = POLICY.format(store=f"sqlite:///{tmp_path / 'store.db'}", url=url, smtp_port=smtp_server.port)
    text = text.replace("keyring: unused.key", "keyring: tutela.key")
    path = tmp_path / "tutela.yaml"
    path.write_text(text)
    monkeypatch.setenv("TUTELA_EXPORT_DIR", str(tmp_path / "exports"))
    from tutela.engine import Tutela
    with Tutela.open(path) as tutela:
        tutela.migrate()
    return path


def tutela(policy, *args):
    return runner.invoke(app, ["--policy", str(policy), "request", *args], catch_exceptions=False)


def _id(output: str) -> str:
    return re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", output).group(0)


def test_access_request_from_intake_to_export(policy_file, smtp_server, tmp_path):
    result = tutela(policy_file, "new", "--type", "access", "--email", ALICE, "--tenant", "t1", "--send-code")
    assert result.exit_code == 0, result.output
    request_id = _id(result.output)
    code = latest_code(smtp_server)
    wrong = tutela(policy_file, "verify", request_id, "--code", "00000000" if code != "00000000" else "11111111")
    assert wrong.exit_code == 2 and "attempts left" in wrong.output
    assert tutela(policy_file, "verify", request_id, "--code", code).exit_code == 0
    out = tmp_path / "alice.zip"
    ran = tutela(policy_file, "run", request_id, "--out", str(out))
    assert ran.exit_code == 0, ran.output
    assert "manifest.json" in zipfile.ZipFile(out).namelist()
    shown = tutela(policy_file, "show", request_id, "--json")
    assert json.loads(shown.output)["status"] == "completed"
    other_tenant = tutela(policy_file, "show", request_id, "--tenant", "t2")
    assert other_tenant.exit_code == 1 and "no request" in other_tenant.output
    again = tmp_path / "again.zip"
    assert tutela(policy_file, "export", request_id, "--out", str(again)).exit_code == 0
    assert zipfile.is_zipfile(again)


def test_run_unverified_extend_twice_and_list(policy_file):
    request_id = _id(tutela(policy_file, "new", "--type", "erasure", "--email", ALICE).output)
    result = tutela(policy_file, "run", request_id)
    assert result.exit_code == 1 and "not verified" in result.output
    assert tutela(policy_file, "extend", request_id, "--reason", "complex").exit_code == 0
    twice = tutela(policy_file, "extend", request_id, "--reason", "again")
    assert twice.exit_code == 1 and "already extended" in twice.output
    listed = tutela(policy_file, "list", "--json")
    assert [r["id"] for r in json.loads(listed.output)] == [request_id]
    due = tutela(policy_file, "list", "--due-within", "7d")
    assert due.exit_code == 0 and "0 request(s)" in due.output
    bad = tutela(policy_file, "list", "--due-within", "soon")
    assert bad.exit_code == 2


def test_bad_input_gives_clear_errors(policy_file):
    assert tutela(policy_file, "new", "--type", "access", "--email", "not-an-address").exit_code == 2
    assert tutela(policy_file, "new", "--type", "telepathy", "--email", ALICE).exit_code == 2
    missing = tutela(policy_file, "show", "6f0c1c4e-3c1b-4b8e-9d55-1f0b8e1e2a11")
    assert missing.exit_code == 1 and "no request" in missing.output
    assert json.loads(tutela(policy_file, "list", "--json").output) == []


def test_rectification_and_restriction_from_the_cli(policy_file):
    rid = _id(tutela(policy_file, "new", "--type", "rectification", "--email", ALICE, "--tenant", "t1",
                     "--set", "customers.full_name=Alice Z").output)
    assert tutela(policy_file, "mark-verified", rid, "--reason", "passport seen").exit_code == 0
    assert tutela(policy_file, "run", rid).exit_code == 0
    rid = _id(tutela(policy_file, "new", "--type", "objection", "--email", ALICE, "--purpose", "marketing").output)
    tutela(policy_file, "mark-verified", rid, "--reason", "signed letter")
    assert tutela(policy_file, "run", rid, "--json").exit_code == 0


def test_batch_erasure_reports_bad_lines_and_carries_on(policy_file, tmp_path):
    ids = tmp_path / "ids.csv"
    ids.write_text(f"email\n{ALICE}\nnot-an-address\n\n{BOB}\n# a comment\nnobody@example.org\n{CAROL},extra\n")
    result = tutela(policy_file, "batch", "erasure", "--file", str(ids), "--tenant", "t1", "--json")
    assert result.exit_code == 1
    summary = json.loads(result.output[result.output.index("{"):])
    assert summary["total"] == 5 and summary["completed"] == 3 and summary["subjects_without_data"] == 1
    assert [p["line"] for p in summary["problems"]] == [3, 8]
    assert ALICE not in result.output and "not-an-address" not in result.output
    again = tutela(policy_file, "batch", "erasure", "--file", str(ids), "--tenant", "t1", "--json")
    assert json.loads(again.output[again.output.index("{"):])["rows_changed"] == 0


def test_every_request_verb_has_help():
    for verb in ("new", "send-code", "verify", "mark-verified", "run", "reject", "show", "list", "extend",
                 "export"):
        result = runner.invoke(app, ["request", verb, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output
    assert runner.invoke(app, ["request", "batch", "erasure", "--help"]).exit_code == 0
