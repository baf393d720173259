"""Erasure verbs (R6-R9, R14, R16): forget, pseudonymize, suppressed, lookup, erase-tenant, receipt.

Thin wrappers over :mod:`tutela.erasure`; destructive verbs show counts and ask first unless --yes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tutela.cli.common import console, err_console, fail, handle_errors, open_tutela

receipt_app = typer.Typer(help="Signed erasure receipts.", no_args_is_help=True)

Reason = Annotated[str, typer.Option("--reason", help="Why: unsubscribe, bounce or erasure.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def register(app: typer.Typer) -> None:
    """Add this area's verbs to the root app."""
    app.command("forget")(forget)
    app.command("pseudonymize")(pseudonymize)
    app.command("suppressed")(suppressed)
    app.command("lookup")(lookup)
    app.command("erase-tenant")(erase_tenant)
    app.add_typer(receipt_app, name="receipt")


def _opened():
    """The engine, with its store migrated (idempotent) so the suppression list exists."""
    tutela = open_tutela()
    try:
        tutela.migrate()
    except BaseException:
        tutela.close()
        raise
    return tutela


def _identity(email: str | None, phone: str | None, subject_id: str | None) -> tuple[str, str]:
    given = [(k, v) for k, v in (("email", email), ("phone", phone), ("subject_id", subject_id)) if v]
    if len(given) != 1:
        raise fail("give exactly one of --email, --phone or --subject-id", 2)
    return given[0]


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise fail("this changes data; pass --yes to run without a prompt", 2)
    typer.confirm(question, abort=True)


@handle_errors
def forget(
    email: Annotated[str | None, typer.Option("--email", help="The subject's e-mail address.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="The subject's phone number (+country …).")] = None,
    subject_id: Annotated[str | None, typer.Option("--subject-id", help="The subject's key.")] = None,
    reason: Reason = "erasure",
    subject: Annotated[str | None, typer.Option("--subject", help="Kind of subject (default: the only one).")]
    = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only within this tenant.")] = None,
    yes: Yes = False,
) -> None:
    """Erase or pseudonymise one subject everywhere, field by field as the policy says; exit 1 if not found."""
    from tutela.erasure.forget import forget_subject

    kind, value = _identity(email, phone, subject_id)
    with _opened() as tutela:
        subject = subject or _only_subject(tutela)
        _confirm(f"Apply the erasure actions to every row of this {subject}?", yes)
        result = forget_subject(tutela, subject, kind, value, reason=reason, tenant=tenant, actor="cli")
    for table, rows in result.counts.items():
        console.print(f"{table}: {rows} row(s)", highlight=False)
    console.print(f"subject {result.subject} forgotten ({reason}); receipt {result.receipt_path}", highlight=False)


def _only_subject(tutela) -> str:
    names = list(tutela.policy.subjects)
    if len(names) != 1:
        raise fail(f"the policy declares several subjects ({', '.join(names)}); choose one with --subject", 2)
    return names[0]


@handle_errors
def pseudonymize(
    table: Annotated[str, typer.Option("--table", help="Table (or system.table) to pseudonymise.")],
    where: Annotated[str, typer.Option("--where", help='Which rows, e.g. "status=unsubscribed,bounced".')],
    reason: Reason = "unsubscribe",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only; change nothing.")] = False,
    batch_size: Annotated[int | None, typer.Option(
        "--batch-size", help="Rows per batch (default: engine.batch_size if the policy sets it, else sized so a "
                             "batch takes about 1 s on SQLite, 2 s elsewhere).")] = None,
    yes: Yes = False,
) -> None:
    """Pseudonymise every matching row in resumable batches and suppress its identifiers."""
    from tutela.erasure.pseudonymize import plan_bulk
    from tutela.erasure.pseudonymize import pseudonymize as run

    with _opened() as tutela:
        plan = plan_bulk(tutela, table, where)
        console.print(f"{plan.system}.{plan.name}: {plan.matching} row(s) match, {plan.pending} still to "
                      "pseudonymise", highlight=False)
        if dry_run:
            console.print("dry run: nothing was changed")
            return
        if not plan.pending:
            console.print("nothing to do")
        else:
            _confirm(f"Pseudonymise {plan.pending} row(s) of {plan.name} now?", yes)
        with _bar(plan.pending, f"pseudonymising {plan.name}") as advance:
            result = run(tutela, table, where, actor="cli", reason=reason, batch_size=batch_size,
                         progress=advance, plan=plan)
    console.print(f"{result.total} row(s) pseudonymised, {result.suppressed} identifier(s) suppressed; "
                  f"receipt {result.receipt_path}", highlight=False)


class _bar:
    def __init__(self, total: int, label: str):
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=err_console, transient=False)
        self.task = self.progress.add_task(label, total=total or None)

    def __enter__(self):
        self.progress.start()
        return lambda n: self.progress.advance(self.task, n)

    def __exit__(self, *exc) -> None:
        self.progress.stop()


@handle_errors
def suppressed(
    email: Annotated[str | None, typer.Option("--email", help="Is this address suppressed?")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Is this number suppressed?")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="A CSV mailing list to filter.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the contactable rows.")] = None,
    column: Annotated[str | None, typer.Option("--column", help="The list's e-mail column (default: email).")]
    = None,
) -> None:
    """Exit 0 when the identifier is suppressed, 1 when not; or filter a CSV list into --out."""
    from tutela.erasure.suppression import filter_mailing_list, is_suppressed

    if file is not None:
        if out is None:
            raise fail("--file needs --out for the contactable rows", 2)
        with _opened() as tutela:
            result = filter_mailing_list(tutela, file, out, column=column)
        console.print(f"{result.total} row(s): {result.contactable} contactable written to {out}, "
                      f"{result.suppressed} suppressed, {result.invalid} malformed", highlight=False)
        return
    kind, value = _identity(email, phone, None)
    with _opened() as tutela:
        listed = is_suppressed(tutela, kind, value)
    console.print("suppressed: never contact" if listed else "not suppressed")
    raise typer.Exit(0 if listed else 1)


@handle_errors
def lookup(
    email: Annotated[str | None, typer.Option("--email", help="The exact e-mail address.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="The exact phone number.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Authority lookup (for the DPO): the pseudonymised records, suppression and history of an identifier."""
    from tutela.erasure.lookup import lookup_identity

    kind, value = _identity(email, phone, None)
    with _opened() as tutela:
        report = lookup_identity(tutela, kind, value, actor="cli")
    if as_json:
        console.print_json(json.dumps(report.to_dict(), default=str))
    else:
        console.print(f"pseudonym {report.pseudonym}", highlight=False)
        for record in report.records:
            console.print(f"  record {record['system']}.{record['table']} ({record['column']}, "
                          f"{record['matched']}): {record['row']}", highlight=False, markup=False)
        for entry in report.suppression:
            console.print(f"  suppressed since {entry['created_at']} ({entry['reason']}, from {entry['source']})",
                          highlight=False)
        for event in report.history:
            console.print(f"  {event['at']} {event['action']} by {event['actor']}: {event['details']}",
                          highlight=False, markup=False)
    if not report.found:
        raise fail("no data found for that identifier", 1)


@handle_errors
def erase_tenant(
    tenant: Annotated[str, typer.Argument(help="The tenant (customer) whose data is deleted.")],
    yes: Yes = False,
) -> None:
    """Delete every row of one tenant in every system (counts first, then confirmation), with a receipt."""
    from tutela.erasure.tenant import erase_tenant as run
    from tutela.erasure.tenant import tenant_counts

    with _opened() as tutela:
        counts = tenant_counts(tutela, tenant)
        for table, rows in counts.items():
            console.print(f"{table}: {rows} row(s)", highlight=False)
        if not counts:
            raise fail(f"no data found for tenant '{tenant}'", 1)
        _confirm(f"Delete all {sum(counts.values())} row(s) of tenant '{tenant}'? This cannot be undone.", yes)
        with _bar(sum(counts.values()), f"erasing tenant {tenant}") as advance:
            result = run(tutela, tenant, actor="cli", progress=advance)
    console.print(f"{result.total} row(s) deleted; receipt {result.receipt_path}", highlight=False)


@receipt_app.command("verify")
@handle_errors
def receipt_verify(file: Annotated[Path, typer.Argument(help="The receipt JSON file.")]) -> None:
    """Check a receipt's signature: exit 0 when valid, 1 when altered or signed by another key."""
    from tutela.erasure.receipts import verify_receipt

    with _opened() as tutela:
        ok = verify_receipt(tutela, file)
    if not ok:
        raise fail("the receipt's signature does not verify: it was altered or signed by another keyring", 1)
    console.print("receipt signature valid")
