"""`tutela consent …`, `tutela notice …`, `tutela restrict`, `tutela object`: consent (R17–R19).

Thin wrappers over :mod:`tutela.consent`. A subject is named by ``--email``, ``--phone`` or its
pseudonym ``--subject t1:…``; only the pseudonym is stored and printed.
"""

from __future__ import annotations

import getpass
import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from tutela.cli.common import console, err_console, handle_errors, is_tty, open_tutela
from tutela.errors import InvalidInput

consent_app = typer.Typer(help="The consent ledger: give, withdraw, check, history, import, form.",
                          no_args_is_help=True)
notice_app = typer.Typer(help="Notices: the versioned texts shown when consent is asked.", no_args_is_help=True)

Email = Annotated[str | None, typer.Option("--email", help="The subject's e-mail address.")]
Phone = Annotated[str | None, typer.Option("--phone", help="The subject's phone number.")]
SubjectKey = Annotated[str | None, typer.Option("--subject", help="The subject's pseudonym (t1:…).")]
Tenant = Annotated[str | None, typer.Option("--tenant", help="The tenant (customer) the consent belongs to.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    """Add `consent`, `notice`, `restrict` and `object` to the root app."""
    app.add_typer(consent_app, name="consent")
    app.add_typer(notice_app, name="notice")
    app.command("restrict")(restrict_cmd)
    app.command("object")(object_cmd)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _open():
    tutela = open_tutela(_actor())
    tutela.migrate()
    return tutela


def _subject(tutela, email: str | None, phone: str | None, subject: str | None) -> str:
    from tutela.consent.ledger import require_subject_key, subject_key_for

    given = [(kind, value) for kind, value in (("email", email), ("phone", phone), ("subject", subject)) if value]
    if len(given) != 1:
        raise InvalidInput("name the subject with exactly one of --email, --phone or --subject")
    kind, value = given[0]
    return require_subject_key(value) if kind == "subject" else subject_key_for(tutela, kind, value)


def _identity(email: str | None, phone: str | None) -> tuple[str, str] | None:
    return ("email", email) if email else ("phone", phone) if phone else None


def _all_keys(tutela, email: str | None, phone: str | None, subject: str | None) -> list[str]:
    """The subject's pseudonyms under every hashing key (events from before a key rotation count)."""
    from tutela.crypto.hashing import keyed_hashes

    key = _subject(tutela, email, phone, subject)
    identity = _identity(email, phone)
    return keyed_hashes(tutela.keyring, *identity) if identity else [key]


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option} '{value}' is not a date (YYYY-MM-DD)") from None


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"--at '{value}' is not an ISO 8601 time") from None


@consent_app.command("give")
@handle_errors
def give(
    purpose: Annotated[str, typer.Argument(help="The purpose consented to (declared in the policy).")],
    email: Email = None, phone: Phone = None, subject: SubjectKey = None, tenant: Tenant = None,
    notice_version: Annotated[int | None, typer.Option("--notice-version", help="The notice version shown "
                                                       "(default: the latest).")] = None,
    method: Annotated[str, typer.Option(help="How consent was given: web_form, api, import, paper.")] = "paper",
    point: Annotated[str | None, typer.Option("--point", help="Collection point (form, event, page).")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When it was given (ISO 8601; default now).")] = None,
    age: Annotated[int | None, typer.Option("--age", help="Declared age.")] = None,
    birth_date: Annotated[str | None, typer.Option("--birth-date", help="Declared date of birth.")] = None,
    country: Annotated[str | None, typer.Option("--country", help="Country (ISO code) for Art. 8.")] = None,
    parent_name: Annotated[str | None, typer.Option("--parent-name", help="Holder of parental "
                                                    "responsibility (stored encrypted).")] = None,
    parent_relationship: Annotated[str, typer.Option("--parent-relationship",
                                                     help="parent, legal_guardian, other_holder.")] = "parent",
    parent_verification: Annotated[str, typer.Option("--parent-verification", help="How the parent was "
                                                     "verified (email_confirmation, signed_paper, …).")] = "other",
    keep_identity: Annotated[bool, typer.Option("--keep-identity", help="Keep the e-mail/phone, encrypted, "
                                                "as proof.")] = False,
) -> None:
    """Record that a subject gave consent to a purpose (a child needs --parent-name, Art. 8)."""
    from tutela.consent import ParentalConsent, give_consent

    with _open() as tutela:
        key = _subject(tutela, email, phone, subject)
        identity = _identity(email, phone)
        parent = ParentalConsent(parent_name, parent_relationship, parent_verification) if parent_name else None
        event_id = give_consent(tutela, key, purpose, actor=_actor(), notice_version=notice_version,
                                method=method, collection_point=point, tenant=tenant, at=_time(at), age=age,
                                birth_date=_date(birth_date, "--birth-date"), country=country, parent=parent,
                                identity=identity if keep_identity else None)
    console.print(f"consent to '{purpose}' recorded (ledger event {event_id}) for {key}", highlight=False)


@consent_app.command("withdraw")
@handle_errors
def withdraw(
    purpose: Annotated[str, typer.Argument(help="The purpose whose consent is withdrawn.")],
    email: Email = None, phone: Phone = None, subject: SubjectKey = None, tenant: Tenant = None,
    method: Annotated[str, typer.Option(help="How it was withdrawn: web_form, api, import, paper.")] = "paper",
    point: Annotated[str | None, typer.Option("--point", help="Where it was withdrawn.")] = None,
) -> None:
    """Record that a subject withdrew consent (Art. 7(3)); processing for the purpose stops at once."""
    from tutela.consent import withdraw_consent

    with _open() as tutela:
        key = _subject(tutela, email, phone, subject)
        event_id = withdraw_consent(tutela, key, purpose, actor=_actor(), method=method, collection_point=point,
                                    tenant=tenant)
    console.print(f"withdrawal of '{purpose}' recorded (ledger event {event_id}) for {key}", highlight=False)


@consent_app.command("check")
@handle_errors
def check(
    purposes: Annotated[list[str], typer.Argument(help="Purpose(s) to decide.")],
    email: Email = None, phone: Phone = None, subject: SubjectKey = None, tenant: Tenant = None,
    as_json: AsJson = False,
) -> None:
    """Print may_process for each purpose with its reason; exit 1 when any is refused."""
    from tutela.consent import may_process, may_process_identity

    with _open() as tutela:
        key = _subject(tutela, email, phone, subject)
        identity = _identity(email, phone)
        decisions = {purpose: may_process_identity(tutela, *identity, purpose, tenant) if identity
                     else may_process(tutela, key, purpose, tenant) for purpose in purposes}
    if as_json:
        typer.echo(json.dumps({p: {"allowed": d.allowed, "code": d.code, "reason": d.reason}
                               for p, d in decisions.items()}))
    else:
        for purpose, decision in decisions.items():
            mark = "[green]allowed[/green]" if decision.allowed else "[red]refused[/red]"
            console.print(f"{purpose}: {mark} — {decision.reason}", highlight=False)
    if not all(decisions.values()):
        raise typer.Exit(1)


@consent_app.command("history")
@handle_errors
def history(email: Email = None, phone: Phone = None, subject: SubjectKey = None, tenant: Tenant = None,
            as_json: AsJson = False) -> None:
    """Every consent event and restriction/objection record of a subject, oldest first."""
    from tutela.consent import consent_history
    from tutela.consent.restrictions import restriction_history

    with _open() as tutela:
        key = _subject(tutela, email, phone, subject)
        keys = _all_keys(tutela, email, phone, subject)
        events = consent_history(tutela, keys, tenant)
        records = restriction_history(tutela, keys, tenant)
    if as_json:
        typer.echo(json.dumps({"subject": key, "consent": events, "restrictions": records}))
        return
    table = RichTable(title=f"consent history of {key}")
    for column in ("at (UTC)", "purpose", "event", "notice", "method", "point", "tenant"):
        table.add_column(column, overflow="fold")
    for e in events:
        notice = f"v{e['notice_version']} {e['notice_sha256'][:12]}…" if e["notice_version"] else ""
        table.add_row(e["at"][:19], e["purpose"], e["event"], notice, e["method"], e["collection_point"] or "",
                      e["tenant"] or "")
    for r in records:
        table.add_row(r["at"][:19], r["purpose"] or "(all)", f"{r['kind']} {r['event']}", "", r["reason"], "",
                      r["tenant"] or "")
    console.print(table)


@consent_app.command("import")
@handle_errors
def import_(
    file: Annotated[Path, typer.Argument(help="CSV file (columns in docs/consent.md).", exists=True,
                                         dir_okay=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; report rejects.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Write nothing if any row is rejected.")] = False,
    tenant: Tenant = None,
    keep_identity: Annotated[bool, typer.Option("--keep-identity", help="Keep identities encrypted.")] = False,
    as_json: AsJson = False,
) -> None:
    """Import consents from CSV in one transaction; rejects are listed by line (exit 1 if any)."""
    from tutela.consent.importer import import_csv

    with _open() as tutela, file.open(encoding="utf-8-sig", newline="") as handle:
        if is_tty() and not as_json:
            with Progress(TextColumn("checking rows"), BarColumn(), TextColumn("{task.completed}"),
                          TimeElapsedColumn(), console=err_console, transient=True) as bar:
                task = bar.add_task("import", total=None)
                report = import_csv(tutela, handle, actor=_actor(), dry_run=dry_run, strict=strict,
                                    tenant=tenant, keep_identity=keep_identity,
                                    progress=lambda n: bar.update(task, completed=n))
        else:
            report = import_csv(tutela, handle, actor=_actor(), dry_run=dry_run, strict=strict, tenant=tenant,
                                keep_identity=keep_identity)
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
    else:
        for line, problem in report.rejects:
            err_console.print(f"line {line}: {problem}", highlight=False, markup=False)
        if dry_run:
            outcome = "dry run: nothing written"
        elif strict and report.rejects:
            outcome = "--strict: nothing written"
        else:
            outcome = f"{report.written} event(s) written"
        console.print(f"{report.rows} row(s): {report.valid} valid, {len(report.rejects)} rejected, "
                      f"{report.already_recorded} already recorded; {outcome}", highlight=False)
    if report.rejects:
        raise typer.Exit(1)


@consent_app.command("form")
@handle_errors
def form(
    purposes: Annotated[list[str], typer.Argument(help="Consent purposes on the form.")],
    point: Annotated[str, typer.Option("--point", help="The collection point's name.")],
    action: Annotated[str, typer.Option("--action", help="URL the form posts to.")],
    ask_age: Annotated[bool, typer.Option("--ask-age/--no-ask-age", help="Ask date of birth and country "
                                          "(Art. 8).")] = True,
    withdrawal: Annotated[bool, typer.Option("--withdrawal", help="A form to withdraw consent instead "
                                             "(Art. 7(3)).")] = False,
) -> None:
    """Print an embeddable HTML snippet of a consent (or withdrawal) form for a collection point."""
    from tutela.consent.forms import render_form, render_withdrawal_form

    with _open() as tutela:
        if withdrawal:
            typer.echo(render_withdrawal_form(tutela, purposes, collection_point=point, action=action))
        else:
            typer.echo(render_form(tutela, purposes, collection_point=point, action=action, ask_age=ask_age))


@notice_app.command("new")
@handle_errors
def notice_new(
    purpose: Annotated[str, typer.Argument(help="The purpose the notice is for.")],
    file: Annotated[Path | None, typer.Option("--file", help="Markdown file with the notice text.",
                                              exists=True, dir_okay=False)] = None,
    text: Annotated[str | None, typer.Option("--text", help="The notice text (instead of --file).")] = None,
    title: Annotated[str | None, typer.Option("--title", help="Title (default: the purpose's "
                                              "description).")] = None,
    material: Annotated[bool, typer.Option("--material/--not-material", help="Does this version change what "
                                           "the subject agrees to (fresh consent needed)?")] = True,
) -> None:
    """Store a new version of a purpose's notice (a material version needs fresh consent)."""
    from tutela.consent import create_notice

    if (file is None) == (text is None):
        raise InvalidInput("give the notice text with exactly one of --file or --text")
    body = file.read_text(encoding="utf-8") if file else text
    with _open() as tutela:
        notice = create_notice(tutela, purpose, body, material=material, title=title, actor=_actor())
    kind = "material" if notice.material else "not material"
    console.print(f"notice '{purpose}' v{notice.version} ({kind}) stored, sha256 {notice.sha256}",
                  highlight=False)


@notice_app.command("list")
@handle_errors
def notice_list(purpose: Annotated[str | None, typer.Argument(help="Only this purpose.")] = None,
                as_json: AsJson = False) -> None:
    """List notice versions: purpose, version, material, created, hash."""
    from tutela.consent import list_notices

    with _open() as tutela:
        found = list_notices(tutela, purpose)
    if as_json:
        typer.echo(json.dumps([n.as_dict(with_text=False) for n in found]))
        return
    table = RichTable()
    for column in ("purpose", "version", "material", "title", "created (UTC)", "by", "sha256"):
        table.add_column(column, overflow="fold")
    for n in found:
        table.add_row(n.purpose, str(n.version), "yes" if n.material else "no", n.title,
                      n.created_at.strftime("%Y-%m-%d %H:%M"), n.created_by, n.sha256[:16] + "…")
    console.print(table)


@notice_app.command("show")
@handle_errors
def notice_show(purpose: Annotated[str, typer.Argument(help="The purpose.")],
                version: Annotated[int | None, typer.Option("--version", help="Version (default: latest).")] = None,
                raw: Annotated[bool, typer.Option("--raw", help="Print the exact stored text.")] = False) -> None:
    """Print a notice version (rendered Markdown, or --raw for the exact text that was hashed)."""
    from tutela.consent import get_notice

    with _open() as tutela:
        notice = get_notice(tutela, purpose, version)
    if raw:
        typer.echo(notice.text, nl=False)
        return
    console.print(f"[bold]{notice.title}[/bold] — '{purpose}' v{notice.version} "
                  f"({'material' if notice.material else 'not material'}), sha256 {notice.sha256}",
                  highlight=False)
    console.print(Markdown(notice.text))


def _restriction(kind: str, email, phone, subject, purpose, tenant, reason, lift_it) -> None:
    from tutela.consent import lift, restrict

    with _open() as tutela:
        key = _subject(tutela, email, phone, subject)
        action = lift if lift_it else restrict
        record = action(tutela, key, kind=kind, purpose=purpose, tenant=tenant, reason=reason, actor=_actor())
    scope = f"purpose '{purpose}'" if purpose else "all purposes"
    console.print(f"{kind} {'lifted' if lift_it else 'placed'} for {scope} of {key} (record {record})",
                  highlight=False)


Purpose = Annotated[str | None, typer.Option("--purpose", help="The purpose (default: all purposes).")]
Reason = Annotated[str, typer.Option("--reason", help="Why (e.g. the request id).")]
Lift = Annotated[bool, typer.Option("--lift", help="Lift it instead of placing it.")]


@handle_errors
def restrict_cmd(reason: Reason, email: Email = None, phone: Phone = None, subject: SubjectKey = None,
                 purpose: Purpose = None, tenant: Tenant = None, lift_it: Lift = False) -> None:
    """Restrict processing of a subject's data (Art. 18): may_process refuses until lifted."""
    _restriction("restriction", email, phone, subject, purpose, tenant, reason, lift_it)


@handle_errors
def object_cmd(reason: Reason, email: Email = None, phone: Phone = None, subject: SubjectKey = None,
               purpose: Purpose = None, tenant: Tenant = None, lift_it: Lift = False) -> None:
    """Record a subject's objection (Art. 21); direct marketing stops at once and always."""
    _restriction("objection", email, phone, subject, purpose, tenant, reason, lift_it)
