"""The demo's last step: skipped with --no-serve; otherwise prints the URL and a one-time admin key,
serves, and revokes the key when serving stops."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from tutela.auth import authenticate, list_keys
from tutela.cli.demo_cmds import step_serve
from tutela.demo.steps import DemoContext
from tutela.errors import NotAuthenticated


def _ctx(world, tmp_path, serve: bool) -> tuple[DemoContext, io.StringIO]:
    out = io.StringIO()
    return DemoContext(dir=tmp_path, tutela=world.tutela, console=Console(file=out, width=300), size=10,
                       seed=1, serve=serve), out


def test_no_serve_skips(world, tmp_path):
    ctx, out = _ctx(world, tmp_path, serve=False)
    step_serve(ctx)
    assert "skipped" in out.getvalue() and list_keys(world.tutela) == []


def test_serve_prints_url_and_a_key_that_is_revoked_afterwards(world, tmp_path, monkeypatch):
    seen = {}

    def fake_serve(tutela, *, announce, **_kwargs):
        announce("http://127.0.0.1:8123")
        seen["key"] = ctx_out.getvalue().split("demo stops): ", 1)[1].split()[0]
        seen["principal"] = authenticate(tutela, seen["key"])  # works while serving

    monkeypatch.setattr("tutela.api.serve.serve_until_interrupted", fake_serve)
    ctx, ctx_out = _ctx(world, tmp_path, serve=True)
    step_serve(ctx)
    assert "http://127.0.0.1:8123/dashboard" in ctx_out.getvalue()
    assert seen["principal"].role == "admin"
    with pytest.raises(NotAuthenticated):
        authenticate(world.tutela, seen["key"])  # revoked once serving stopped
