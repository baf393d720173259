"""`tutela request …`: data-subject requests (thin wrappers over :class:`RequestService`).

Without ``--tenant`` the CLI acts as the engine operator and sees every tenant's requests; with it,
only that tenant's (another tenant's id is "not found").
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tutela.cli.common import console, handle_errors, open_tutela
from tutela.clock import utcnow

request_app = typer.Typer(help="Data-subject requests: file, verify, run, extend, list, export.",
                          no_args_is_help=True)
batch_app = typer.Typer(help="Many requests at once from a file.", no_args_is_help=True)
request_app.add_typer(batch_app, name="batch")

TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Act for this tenant (controller) only.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def register(app: typer.Typer) -> None:
    """Add `tutela request …` to the root app."""
    app.add_typer(request_app, name="request")


def _service(tutela, tenant: str | None):
    from tutela.requests.service import RequestService

    return RequestService(tutela, actor=f"cli:{getpass.getuser()}", tenant=tenant, all_tenants=tenant is None)


def _print_request(req, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(req.as_dict()))
        return
    now = utcnow()
    flag = " [red bold]OVERDUE[/]" if req.overdue(now) else (" [yellow]SLA missed[/]" if req.sla_missed(now) else "")
    console.print(f"[bold]{req.id}[/]  {req.type.value}  [cyan]{req.status.value}[/]{flag}")
    console.print(f"  tenant {req.tenant or '-'} · subject {req.subject_type} ({req.identity_kind}) "
                  f"{req.subject_pseudonym[:22]}…")
    console.print(f"  received {req.received_at:%Y-%m-%d %H:%M} · legal due {req.legal_due} "
                  f"{'(extended: ' + req.extension_reason + ')' if req.extended else ''}· "
                  f"SLA due {req.sla_due:%Y-%m-%d %H:%M}")
    for entry in req.history:
        note = f" — {entry.note}" if entry.note else ""
        console.print(f"  {entry.at:%Y-%m-%d %H:%M:%S} {entry.actor}: {entry.event}{note}", highlight=False)
    if req.result:
        if "export" in req.result:
            console.print(f"  export: {req.result['export']['rows']} rows in "
                          f"{len(req.result['export']['tables'])} tables (`tutela request export {req.id} --out …`)")
        if "erasure" in req.result:
            erasure = req.result["erasure"]
            where = erasure.get("receipt_path") or "no data was held"
            console.print(f"  erasure: {sum(erasure.get('counts', {}).values())} rows; receipt: {where}")


@request_app.command("new")
@handle_errors
def new(
    type: Annotated[str, typer.Option("--type", "-t", help="access, portability, rectification, erasure, "
                                      "restriction or objection.")],
    email: Annotated[str | None, typer.Option("--email", help="The subject's e-mail address.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="The subject's phone number (E.164).")] = None,
    tenant: TenantOpt = None,
    subject: Annotated[str | None, typer.Option("--subject",
                                                help="Subject type (when the policy has several).")] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="Restriction/objection: the purpose "
                                                "(default: all purposes).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Rectification: table.field=new value "
                                                   "(repeatable).")] = None,
    send_code: Annotated[bool, typer.Option("--send-code", help="E-mail the verification code now.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """File a data-subject request; prints its id."""
    from tutela.errors import InvalidInput

    identities = [(k, v) for k, v in (("email", email), ("phone", phone)) if v is not None]
    changes = {}
    for item in set_ or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput(f"--set '{name}' needs the form table.field=value")
        changes[name.strip()] = value
    with open_tutela() as tutela:
        service = _service(tutela, tenant)
        req = service.create(type, identities, subject_type=subject, purpose=purpose, changes=changes or None)
        if send_code:
            req = service.send_code(req.id)
        if as_json:
            _print_request(req, True)
        else:
            console.print(f"request {req.id} filed ({req.type.value}); legal due {req.legal_due}, "
                          f"SLA due {req.sla_due:%Y-%m-%d}" + ("; code sent" if send_code else ""))


@request_app.command("send-code")
@handle_errors
def send_code_cmd(request_id: str, tenant: TenantOpt = None) -> None:
    """E-mail a fresh one-time code to the request's e-mail identity."""
    with open_tutela() as tutela:
        _service(tutela, tenant).send_code(request_id)
        console.print("a verification code was sent; it is valid for 15 minutes")


@request_app.command("verify")
@handle_errors
def verify(request_id: str, code: Annotated[str, typer.Option("--code", help="The code from the e-mail.")],
           tenant: TenantOpt = None) -> None:
    """Check the one-time code the subject received."""
    with open_tutela() as tutela:
        req = _service(tutela, tenant).verify(request_id, code)
        console.print(f"request {req.id} is verified")


@request_app.command("mark-verified")
@handle_errors
def mark_verified(request_id: str,
                  reason: Annotated[str, typer.Option("--reason", help="How the identity was checked.")],
                  tenant: TenantOpt = None) -> None:
    """Vouch for the requester's identity as an operator (the reason is recorded)."""
    with open_tutela() as tutela:
        req = _service(tutela, tenant).mark_verified(request_id, reason)
        console.print(f"request {req.id} is verified by the operator")


@request_app.command("run")
@handle_errors
def run(request_id: str, tenant: TenantOpt = None,
        out: Annotated[Path | None, typer.Option("--out", help="Access/portability: also write the ZIP here.")] = None,
        encrypt_to: Annotated[Path | None, typer.Option("--encrypt-to", help="OpenPGP public key file to "
                                                        "encrypt the written export to.")] = None,
        as_json: JsonOpt = False) -> None:
    """Carry out a verified request and complete it."""
    with open_tutela() as tutela:
        service = _service(tutela, tenant)
        req = service.run(request_id, progress=lambda message: console.print(f"  {message}"))
        if out is not None:
            service.export_path(req.id, out, encrypt_to=encrypt_to)
        _print_request(req, as_json)
        if out is not None and not as_json:
            console.print(f"export written to {out}" + (" (OpenPGP-encrypted)" if encrypt_to else ""))


@request_app.command("reject")
@handle_errors
def reject(request_id: str, reason: Annotated[str, typer.Option("--reason", help="Why (told to the subject).")],
           tenant: TenantOpt = None) -> None:
    """Refuse an open request (Art. 12(4)); its sealed identities are wiped."""
    with open_tutela() as tutela:
        req = _service(tutela, tenant).reject(request_id, reason)
        console.print(f"request {req.id} is rejected")


@request_app.command("show")
@handle_errors
def show(request_id: str, tenant: TenantOpt = None, as_json: JsonOpt = False) -> None:
    """Show a request, its deadlines and its history."""
    with open_tutela() as tutela:
        _print_request(_service(tutela, tenant).show(request_id), as_json)


@request_app.command("list")
@handle_errors
def list_cmd(
    tenant: TenantOpt = None,
    due_within: Annotated[str | None, typer.Option("--due-within", help="Only open requests due within this "
                                                   "span (e.g. 7d), overdue first.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only requests not yet completed or rejected.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List requests; overdue ones first and highlighted."""
    from tutela.durations import Duration
    from tutela.errors import InvalidInput

    span = None
    if due_within is not None:
        try:
            span = Duration.parse(due_within)
            span = span.as_timedelta()
        except ValueError as exc:
            raise InvalidInput(f"--due-within: {exc}") from None
    with open_tutela() as tutela:
        service = _service(tutela, tenant)
        found = service.list(status=status, open_only=open_only, due_within=span)
        now = service.clock()
    if as_json:
        console.print_json(json.dumps([{**r.as_dict(), "overdue": r.overdue(now), "sla_missed": r.sla_missed(now)}
                                       for r in found]))
        return
    table = Table(title=f"{len(found)} request(s)")
    for column in ("id", "tenant", "type", "status", "received", "SLA due", "legal due", ""):
        table.add_column(column)
    for req in found:
        style, flag = ("bold red", "OVERDUE") if req.overdue(now) else \
            (("yellow", "SLA missed") if req.sla_missed(now) else ("", ""))
        table.add_row(req.id, req.tenant or "-", req.type.value, req.status.value,
                      f"{req.received_at:%Y-%m-%d}", f"{req.sla_due:%Y-%m-%d}",
                      f"{req.legal_due}{' (ext.)' if req.extended else ''}", flag, style=style)
    console.print(table)
    if any(r.overdue(now) for r in found):
        raise typer.Exit(1)


@request_app.command("extend")
@handle_errors
def extend(request_id: str, reason: Annotated[str, typer.Option("--reason", help="Why more time is needed "
                                                                "(told to the subject).")],
           tenant: TenantOpt = None) -> None:
    """Extend the legal deadline once by two further months (Art. 12(3))."""
    with open_tutela() as tutela:
        req = _service(tutela, tenant).extend(request_id, reason)
        console.print(f"request {req.id} is now due {req.legal_due}")


@request_app.command("export")
@handle_errors
def export(request_id: str, out: Annotated[Path, typer.Option("--out", help="Where to write the ZIP.")],
           encrypt_to: Annotated[Path | None, typer.Option("--encrypt-to", help="OpenPGP public key file "
                                                           "(the file becomes an OpenPGP message).")] = None,
           tenant: TenantOpt = None) -> None:
    """Write the export of a completed access or portability request."""
    with open_tutela() as tutela:
        path = _service(tutela, tenant).export_path(request_id, out, encrypt_to=encrypt_to)
        console.print(f"export written to {path}" + (" (OpenPGP-encrypted)" if encrypt_to else ""))


@batch_app.command("erasure")
@handle_errors
def batch_erasure(
    file: Annotated[Path, typer.Option("--file", help="CSV of identities: a header of kinds (email,phone) or "
                                       "one identity per line.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the operator verified these subjects "
                                        "(recorded on each request).")] = "batch erasure on the controller's "
                                        "instruction",
    kind: Annotated[str, typer.Option("--kind", help="Identity kind of header-less lines.")] = "email",
    subject: Annotated[str | None, typer.Option("--subject", help="Subject type.")] = None,
    tenant: TenantOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create, verify (by the operator) and run one erasure request per identity in FILE."""
    from tutela.requests.batch import batch_erasure as run_batch
    from tutela.requests.batch import count_lines

    with open_tutela() as tutela:
        service = _service(tutela, tenant)
        total = count_lines(file) if file.exists() else 0
        with Progress(TextColumn("erasing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=as_json) as progress:
            task = progress.add_task("erasure", total=total)
            summary = run_batch(service, file, reason=reason, kind=kind, subject_type=subject,
                                advance=lambda n: progress.advance(task, n))
    if as_json:
        console.print_json(json.dumps(summary.as_dict()))
    else:
        console.print(f"{len(summary.completed)} of {summary.total} erasure requests completed, "
                      f"{summary.rows_changed} rows changed, {summary.no_data} subjects held no data")
        for problem in summary.problems:
            console.print(f"  [red]line {problem.line}:[/] {problem.error}", highlight=False)
    if summary.problems:
        raise typer.Exit(1)
