"""`tutela keys create|show|rotate` through the CLI runner."""

from __future__ import annotations

import json
import shutil
import stat

import pytest
from typer.testing import CliRunner

from tutela.cli.main import app
from tutela.engine import Tutela

from support import SAMPLE_POLICY

runner = CliRunner()


@pytest.fixture
def policy(tmp_path, monkeypatch) -> str:
    monkeypatch.delenv("TUTELA_STORE_URL", raising=False)
    target = tmp_path / "tutela.yaml"
    shutil.copy(SAMPLE_POLICY, target)
    return str(target)


def _secrets(tmp_path) -> list[str]:
    return [k["secret"] for k in json.loads((tmp_path / "tutela.key").read_text())["keys"]]


def test_create_writes_a_0600_keyring_and_refuses_to_overwrite_it(policy, tmp_path):
    result = runner.invoke(app, ["--policy", policy, "keys", "create"])
    assert result.exit_code == 0, result.output
    key_file = tmp_path / "tutela.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    before = key_file.read_bytes()
    again = runner.invoke(app, ["--policy", policy, "keys", "create"])
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert key_file.read_bytes() == before


def test_show_prints_ids_and_fingerprints_never_the_secret(policy, tmp_path):
    runner.invoke(app, ["--policy", policy, "keys", "create"])
    result = runner.invoke(app, ["--policy", policy, "keys", "show", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    [entry] = shown["keys"]
    assert entry["current"] and len(entry["fingerprints"]["hashing"]) == 16
    table = runner.invoke(app, ["--policy", policy, "keys", "show"])
    assert table.exit_code == 0 and entry["id"] in table.stdout
    for secret in _secrets(tmp_path):
        assert secret not in result.stdout and secret not in table.stdout


def test_rotate_adds_a_current_key_keeps_the_old_one_and_is_audited(policy, tmp_path):
    runner.invoke(app, ["--policy", policy, "keys", "create"])
    old_id = json.loads(runner.invoke(app, ["--policy", policy, "keys", "show", "--json"]).stdout)["current"]
    result = runner.invoke(app, ["--policy", policy, "keys", "rotate"])
    assert result.exit_code == 0, result.output
    shown = json.loads(runner.invoke(app, ["--policy", policy, "keys", "show", "--json"]).stdout)
    assert shown["current"] != old_id
    assert {k["id"] for k in shown["keys"]} == {old_id, shown["current"]}
    with Tutela.open(policy) as tutela:
        [event] = tutela.audit.query(action="keys.rotate")
        assert event.details == {"previous_key_id": old_id, "key_id": shown["current"]}
        assert tutela.audit.verify().ok


def test_show_without_a_keyring_exits_2_with_a_sentence(policy):
    result = runner.invoke(app, ["--policy", policy, "keys", "show"])
    assert result.exit_code == 2
    assert "no keyring at" in result.stderr and "Traceback" not in result.output
