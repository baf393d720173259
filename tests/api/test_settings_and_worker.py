"""Service settings (declared once, environment overrides) and the in-process worker of `serve`."""

from __future__ import annotations

import threading

from tutela.api.settings import ServiceSettings, describe


def test_every_setting_is_described_and_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "service.md").read_text()
    for name, _default, help_text in describe():
        assert help_text, f"setting {name} has no help"
        assert f"`{name}`" in doc, f"setting {name} is not in docs/service.md"


def test_environment_overrides_scalar_settings(monkeypatch):
    monkeypatch.setenv("TUTELA_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("TUTELA_SECURE_COOKIES", "true")
    monkeypatch.setenv("TUTELA_SESSION_SECRET", "s3cret")
    settings = ServiceSettings.from_env(session_minutes=5)
    assert (settings.max_body_bytes, settings.secure_cookies, settings.session_secret,
            settings.session_minutes) == (2048, True, "s3cret", 5)


def test_with_worker_runs_and_stops_the_worker_in_a_thread(world):
    from tutela.cli.serve_cmds import _start_worker

    stop = _start_worker(world.tutela)
    stop()
    assert not any(t.name == "tutela-worker" and t.is_alive() for t in threading.enumerate())
