"""`tutela demo`: build the sample booking app, write its policy and run every area's demo step."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tutela.cli.common import console, handle_errors
from tutela.demo.steps import DemoContext


def register(app: typer.Typer) -> None:
    """Add this area's verbs to the root app."""
    app.command("demo")(demo)


@handle_errors
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Folder of the demo (created; a folder with "
                                            "other files is refused).")] = Path("./tutela-demo"),
    size: Annotated[int, typer.Option("--size", min=10, max=1_000_000,
                                      help="Number of end users to generate.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fake data (same seed, same data).")] = 1,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="End by serving the dashboard "
                                        "(--no-serve for scripts).")] = True,
    fresh: Annotated[bool, typer.Option("--fresh", help="Delete an existing demo in --dir and build it "
                                        "again.")] = False,
) -> None:
    """Build a sample multi-tenant booking app with realistic fake data, write its policy, and show
    Tutela at work on it: schema check, Art. 30 record, audit verification and every area's step.

    Running it again on the same --dir reuses the demo (nothing is lost); --fresh rebuilds it.
    """
    from tutela.demo.run import run_demo
    from tutela.demo.steps import STEPS

    result = run_demo(directory, size=size, seed=seed, serve=serve, fresh=fresh, console=console,
                      steps=[*STEPS, step_serve])
    if not result.ok:
        raise typer.Exit(1)


def step_serve(ctx: DemoContext) -> None:
    """Service: the dashboard and privacy center on 127.0.0.1 until Ctrl-C (R25, R28)."""
    if not ctx.serve:
        ctx.say("skipped (--no-serve); run `tutela serve` to start the service")
        return
    from tutela.api.serve import serve_until_interrupted
    from tutela.auth import create_key, revoke_key

    key_id, key = create_key(ctx.tutela, "admin", label="demo one-time key", actor="demo")
    try:
        serve_until_interrupted(ctx.tutela, announce=lambda url: (
            ctx.say(f"dashboard: [bold]{url}/dashboard[/bold] · privacy center: {url}/privacy/_ · "
                    f"API: {url}/openapi.json"),
            ctx.say(f"one-time admin key (sign in with it; revoked when the demo stops): {key}"),
            ctx.say("Ctrl-C stops the server")))
    finally:
        revoke_key(ctx.tutela, key_id, actor="demo")
