"""`tutela retention plan|run` and `tutela worker` (R4, R5): thin wrappers over tutela.retention/jobs."""

from __future__ import annotations

import json
import signal
import sys
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

import tutela.retention  # noqa: F401 - registers the retention rules with `tutela check`
from tutela.cli.common import console, err_console, fail, handle_errors, log_to_stderr, open_tutela

retention_app = typer.Typer(help="Retention rules: plan (dry run with counts) and run in batches.",
                            no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `retention plan`, `retention run` and `worker` to the root app."""
    app.add_typer(retention_app, name="retention")
    app.command("worker")(worker)


@retention_app.command("plan")
@handle_errors
def plan(
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this table (or system.table).")] = None,
) -> None:
    """Show, per rule, how many rows are due now and the age of the oldest. Changes nothing."""
    from tutela.retention import plan_retention

    with open_tutela() as tutela:
        plans = plan_retention(tutela, only=rule)
    if as_json:
        console.print_json(json.dumps({"rules": [p.to_dict() for p in plans]}))
        return
    _print_plan(plans)


@retention_app.command("run")
@handle_errors
def run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be done; change nothing.")] = False,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this table (or system.table).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Apply the retention rules in short batches; exit 1 if a rule failed (the others still run)."""
    from tutela.retention import plan_retention, run_retention

    with open_tutela() as tutela:
        plans = plan_retention(tutela, only=rule)
        _print_plan(plans)
        if dry_run:
            console.print("dry run: nothing was changed")
            return
        if not any(p.rows for p in plans):
            console.print("nothing is due")
        elif not yes:
            if not sys.stdin.isatty():
                raise fail("retention run changes data; pass --yes to run without a prompt", 2)
            typer.confirm(f"Delete or erase {sum(p.rows for p in plans)} row(s) now?", abort=True)
        tutela.migrate()
        with _Bars({p.rule: p.rows for p in plans}, show=any(p.rows for p in plans)) as bars:
            results = run_retention(tutela, only=rule, observer=bars)
    failed = [r for r in results if not r.ok]
    for result in results:
        line = f"{result.rule}: {result.status}, {result.rows} row(s) in {result.batches} batch(es)"
        if result.error:
            err_console.print(f"[red]{line}: {result.error}[/red]", highlight=False)
        else:
            console.print(line, highlight=False)
    if failed:
        raise typer.Exit(1)


@handle_errors
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run every due job once, then exit.")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.1,
                                            help="Seconds between looks for due jobs.")] = 30.0,
) -> None:
    """Run due retention jobs until SIGTERM (which lets the current batch finish, then exits 0)."""
    from tutela.jobs import Worker

    log_to_stderr()
    with open_tutela(actor="worker") as tutela:
        runner = Worker(tutela, poll_seconds=interval)
        signal.signal(signal.SIGTERM, lambda *_: runner.stop())
        signal.signal(signal.SIGINT, lambda *_: runner.stop())
        runner.run(once=once)


def _print_plan(plans) -> None:
    table = RichTable(title="Retention plan")
    table.add_column("rule", no_wrap=True)
    table.add_column("action")
    table.add_column("after")
    table.add_column("cutoff (UTC)", no_wrap=True)
    table.add_column("due", justify="right")
    table.add_column("oldest, days", justify="right")
    for p in plans:
        age = "" if p.oldest_age_days is None else f"{p.oldest_age_days:g}"
        cutoff = p.cutoff.strftime("%Y-%m-%d %H:%M") if hasattr(p.cutoff, "hour") else p.cutoff.isoformat()
        action = {"delete_rows": "delete", "erase_fields": "erase"}.get(p.action, p.action)
        table.add_row(p.rule, action, p.after, cutoff, str(p.rows), age)
    console.print(table)


class _Bars:
    """One Rich progress bar per rule, fed by the run's observer calls."""

    def __init__(self, totals: dict[str, int], show: bool = True):
        self.totals = totals
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console, transient=False, disable=not show)
        self.tasks: dict[str, int] = {}

    def __enter__(self) -> _Bars:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def rule_started(self, rule) -> None:
        self.tasks[rule.name] = self.progress.add_task(rule.name, total=self.totals.get(rule.name) or None)

    def batch_done(self, rule, rows: int) -> None:
        self.progress.advance(self.tasks[rule.name], rows)

    def rule_finished(self, rule, result) -> None:
        task = self.tasks[rule.name]
        self.progress.update(task, total=max(result.rows, 1) if result.ok else None,
                             completed=result.rows)
