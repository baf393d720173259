"""`tutela init`: a policy skeleton that loads, a 0600 keyring, a migrated store; re-running keeps all."""

from __future__ import annotations

import os
import stat

import sqlalchemy as sa
from typer.testing import CliRunner

from tutela.cli.main import app
from tutela.policy import load_policy
from tutela.store import Store


def test_init_creates_policy_keyring_and_store_and_is_idempotent(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    policy = load_policy(tmp_path / "tutela.yaml")
    assert policy.controller.name == "Example SaaS Ltd"
    key = tmp_path / "tutela.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    store = Store(f"sqlite:///{tmp_path / 'tutela-store.db'}")
    with store.engine.connect() as conn:
        assert "tutela_meta" in sa.inspect(conn).get_table_names()
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() >= 1
    store.dispose()
    key_before = key.read_bytes()
    (tmp_path / "tutela.yaml").write_text((tmp_path / "tutela.yaml").read_text() + "# my edit\n")
    again = runner.invoke(app, ["init", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert "kept as it is" in again.output
    assert key.read_bytes() == key_before
    assert (tmp_path / "tutela.yaml").read_text().endswith("# my edit\n")
