"""`tutela apikey create|list|revoke` and `tutela serve --help` through the CLI runner."""

from __future__ import annotations

import textwrap

import pytest
from typer.testing import CliRunner

from tutela.cli.main import app

POLICY = """\
version: 1
controller: {name: Cli Ltd, contact: privacy@cli.example}
engine: {store: "sqlite:///store.db", keyring: "env:TUTELA_TEST_KEYRING"}
purposes:
  service: {description: Run the service, basis: contract}
systems:
  app: {url: "sqlite:///app.db"}
"""


@pytest.fixture
def policy(tmp_path, monkeypatch):
    import base64
    import os

    monkeypatch.setenv("TUTELA_TEST_KEYRING", base64.b64encode(os.urandom(32)).decode())
    path = tmp_path / "tutela.yaml"
    path.write_text(textwrap.dedent(POLICY))
    return str(path)


def test_create_list_revoke(policy):
    runner = CliRunner()
    created = runner.invoke(app, ["--policy", policy, "apikey", "create", "--role", "dpo", "--tenant", "t1",
                                  "--label", "helpdesk"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("tk_")
    key_id = key.split("_")[1]
    listed = runner.invoke(app, ["--policy", policy, "apikey", "list"])
    assert listed.exit_code == 0 and key_id in listed.output and key not in listed.output
    assert runner.invoke(app, ["--policy", policy, "apikey", "revoke", key_id]).exit_code == 0
    assert key_id not in runner.invoke(app, ["--policy", policy, "apikey", "list"]).output
    assert key_id in runner.invoke(app, ["--policy", policy, "apikey", "list", "--revoked"]).output


def test_bad_role_exits_2_and_creates_nothing(policy):
    runner = CliRunner()
    result = runner.invoke(app, ["--policy", policy, "apikey", "create", "--role", "root"])
    assert result.exit_code == 2 and "not a role" in result.output
    assert "│" not in runner.invoke(app, ["--policy", policy, "apikey", "list"]).output.split("\n", 3)[-1]


def test_revoking_an_unknown_key_exits_1(policy):
    result = CliRunner().invoke(app, ["--policy", policy, "apikey", "revoke", "000000000000"])
    assert result.exit_code == 1 and "no API key" in result.output


def test_serve_help_lists_tls_and_worker_options():
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--certfile", "--keyfile", "--with-worker"):
        assert option in result.output


def test_serve_refuses_a_certificate_without_its_key(policy):
    result = CliRunner().invoke(app, ["--policy", policy, "serve", "--certfile", "cert.pem"])
    assert result.exit_code == 2 and "--keyfile" in result.output


def test_serve_runs_as_a_process_and_stops_cleanly_on_ctrl_c(policy, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    import httpx

    from service_app import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", "from tutela.cli.main import main; main()", "--policy", policy,
                                "serve", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=os.environ.copy())
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/opendsr/discovery", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "tutela serve did not start"
                time.sleep(0.1)
        assert response.status_code == 200 and response.json()["api_version"] == "1.0"
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=20)[0].decode()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output and "Traceback" not in output
