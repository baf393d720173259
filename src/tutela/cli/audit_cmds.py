"""`tutela audit verify|show|head`: the tamper-evident audit log (R26)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from tutela.cli.common import console, err_console, handle_errors, is_tty, open_tutela
from tutela.errors import InvalidInput

audit_app = typer.Typer(help="The tamper-evident audit log: verify the chain, show events.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `audit verify`, `audit show` and `audit head` to the root app."""
    app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
@handle_errors
def verify(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Processes to share the work (default: one per core, at most 4, from 200,000 "
                    "events on).")] = None,
) -> None:
    """Recompute the hash chain and check the signed head; exit 1 naming the first bad event."""
    with open_tutela() as tutela:
        if is_tty() and not as_json:
            total = tutela.audit.count()
            with Progress(TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=err_console, transient=True) as bar:
                task = bar.add_task("verify", total=total)
                result = tutela.audit.verify(progress=lambda n: bar.update(task, completed=n),
                                             workers=workers)
        else:
            result = tutela.audit.verify(workers=workers)
    if as_json:
        console.print_json(json.dumps({"ok": result.ok, "checked": result.checked, "head_seq": result.head_seq,
                                       "first_bad_seq": result.first_bad_seq, "problem": result.problem}))
    elif result.ok and result.head_seq == 0:
        console.print("the audit log is empty: nothing to verify yet")
    elif result.ok:
        console.print(f"audit log intact: {result.checked} event(s) verified up to the signed head "
                      f"(event {result.head_seq})", highlight=False)
    else:
        where = f"first bad event: {result.first_bad_seq}" if result.first_bad_seq else "the head"
        err_console.print(f"[red]audit log TAMPERED[/red] ({where}): {result.problem}", highlight=False)
        err_console.print(f"{result.checked} event(s) before it verified", highlight=False)
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("show")
@handle_errors
def show(
    action: Annotated[str | None, typer.Option(help="Only this action (e.g. erasure.forget, or erasure.*).")] = None,
    actor: Annotated[str | None, typer.Option(help="Only events by this actor.")] = None,
    subject: Annotated[str | None, typer.Option(help="Only events about this subject pseudonym (t1:…).")] = None,
    tenant: Annotated[str | None, typer.Option(help="Only events of this tenant.")] = None,
    since: Annotated[str | None, typer.Option(
        help="From this time: ISO date/time (UTC) or an age like 24h, 7d.")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time: ISO date/time (UTC) or an age.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many (the newest).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines, one event per line.")] = False,
) -> None:
    """List audit events, oldest first, filtered by action, actor, subject, tenant and time."""
    with open_tutela() as tutela:
        events = tutela.audit.query(action=action, actor=actor, subject=subject, tenant=tenant,
                                    since=_moment(since, "--since"), until=_moment(until, "--until"),
                                    limit=limit)
    if as_json:
        for event in events:
            typer.echo(json.dumps(event.as_dict(), ensure_ascii=False))
        return
    if not events:
        console.print("no matching events")
        return
    table = RichTable(show_lines=False)
    for column in ("seq", "at (UTC)", "actor", "action", "subject"):
        table.add_column(column, no_wrap=True)
    for column in ("tenant", "details"):
        table.add_column(column, overflow="fold")
    for event in events:
        table.add_row(str(event.seq), event.at.strftime("%Y-%m-%d %H:%M:%S") if event.at else "?",
                      event.actor, event.action, _short(event.subject), event.tenant or "",
                      _details(event.details))
    console.print(table)


@audit_app.command("head")
@handle_errors
def head() -> None:
    """Print the signed head as JSON: keep copies elsewhere to anchor the log against a full wipe."""
    with open_tutela() as tutela:
        typer.echo(json.dumps(tutela.audit.head()))


def _details(details) -> str:
    return " ".join(f"{key}={json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value}"
                    for key, value in details.items())


def _short(subject: str | None) -> str:
    if not subject:
        return ""
    return subject[:17] + "…" if len(subject) > 18 else subject


def _moment(text: str | None, option: str) -> datetime | None:
    """An ISO date/time (naive = UTC) or an age such as ``24h`` counted back from now."""
    if text is None:
        return None
    from tutela.durations import Duration

    try:
        return Duration.parse(text).before(datetime.now(UTC))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{option} '{text}' is neither an ISO date/time (2026-01-31, 2026-01-31T08:00) "
                           "nor an age such as 24h or 7d") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
