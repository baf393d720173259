"""The root `tutela` command. Each area registers its verbs from its own module."""

from __future__ import annotations

from typing import Annotated

import typer

from tutela import __version__
from tutela.cli import (
    audit_cmds,
    consent_cmds,
    demo_cmds,
    erasure_cmds,
    keys_cmds,
    policy_cmds,
    requests_cmds,
    retention_cmds,
    serve_cmds,
)
from tutela.cli.common import state

app = typer.Typer(
    name="tutela",
    help="Tutela: turn a privacy page's promises into code that runs (GDPR data-protection engine).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tutela {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    policy: Annotated[str | None, typer.Option("--policy", "-p", envvar="TUTELA_POLICY",
                                               help="Policy file (default ./tutela.yaml).")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Tutela: a GDPR data-protection engine for SaaS applications."""
    state.policy = policy


for module in (policy_cmds, keys_cmds, audit_cmds, retention_cmds, erasure_cmds, requests_cmds,
               consent_cmds, serve_cmds, demo_cmds):
    module.register(app)


def main() -> None:
    app()
