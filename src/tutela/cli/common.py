"""What every CLI verb shares: opening the engine from the global options, and error handling.

Exit codes (one place): 0 ok, 1 findings or failure, 2 bad usage or configuration.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from tutela.errors import PolicyError, TutelaError

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


class State:
    """Global options, set by the root callback."""

    policy: str | None = None


state = State()


def open_tutela(actor: str = "cli"):
    """The engine for the global ``--policy``; errors surface through :func:`handle_errors`."""
    from tutela.engine import Tutela

    return Tutela.open(state.policy, actor=actor)


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def handle_errors(fn: F) -> F:
    """Turn Tutela's named errors into a message and an exit code; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PolicyError as exc:
            err_console.print(f"[red]The policy has {len(exc.problems)} problem(s):[/red]")
            for problem in exc.problems:
                err_console.print(f"  {problem}", highlight=False, markup=False)
            raise typer.Exit(exc.exit_code) from None
        except TutelaError as exc:
            raise fail(exc.message, exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("interrupted; work done so far is kept and a re-run resumes it")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each record (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def log_to_stderr() -> None:
    """Show Tutela's own log lines (worker runs, requests without query strings) on stderr, once."""
    logger = logging.getLogger("tutela")
    if not any(isinstance(h, _CurrentStderr) for h in logger.handlers):
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def is_tty() -> bool:
    return sys.stdout.isatty()
