"""`tutela demo`: build the sample booking app, write its policy and run every area's demo step."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tutela.cli.common import console, handle_errors


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

    result = run_demo(directory, size=size, seed=seed, serve=serve, fresh=fresh, console=console)
    if not result.ok:
        raise typer.Exit(1)
