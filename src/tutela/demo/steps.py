"""The demo's steps, in the order they run, and the context they share.

Each step is ``def step_<area>(ctx: DemoContext) -> None``: it does one thing with the demo's
engine (``ctx.tutela``) and tells what it did in a few lines (``ctx.say``). Its docstring's
first line is the step's title. A step that finds a problem raises a :class:`~tutela.errors.TutelaError`;
the demo reports it, runs the remaining steps and exits 1.

Adding a step: define it here and insert it into :data:`STEPS` before ``step_audit_verify``
(which proves the audit chain holds every event the earlier steps appended). Serving the
dashboard comes last and only when ``ctx.serve`` is true.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.markup import escape

from tutela.demo.app import BuildResult
from tutela.engine import Tutela
from tutela.errors import AuditTampered, NotFound, SchemaMismatch

#: The application's system name in the demo policy.
APP_SYSTEM = "app"


@dataclass
class DemoContext:
    """What every demo step gets: the demo folder, its engine and a console to report on."""

    dir: Path
    tutela: Tutela
    console: Console
    size: int
    seed: int
    serve: bool = False
    #: rows written per table when the app was built in this run; None when an existing demo is reused
    build: BuildResult | None = None
    #: values a step leaves for a later one (e.g. the id of a request it created)
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def app_engine(self) -> sa.Engine:
        """The SQLAlchemy engine of the booking application's database (``app.db``)."""
        return self.tutela.system_engine(APP_SYSTEM)

    def path(self, name: str) -> Path:
        """A path inside the demo folder."""
        return self.dir / name

    def pick(self, table: str, **equals: Any) -> dict[str, Any] | None:
        """The first row (lowest key) of an app table whose columns equal ``equals``, or None.

        Steps use it to choose whom to show a feature on, e.g. ``ctx.pick("newsletter_contacts",
        status="bounced")``. Table and column names are matched against the reflected schema.
        """
        live = self.tutela.table(APP_SYSTEM, table)
        unknown = set(equals) - set(live.c.keys())
        if unknown:
            raise NotFound(f"table '{table}' has no column {', '.join(sorted(unknown))}")
        query = sa.select(live).where(*(live.c[name] == value for name, value in equals.items()))
        query = query.order_by(*live.primary_key.columns).limit(1)
        with self.app_engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return dict(row) if row is not None else None

    def say(self, text: str) -> None:
        """Print one line of the step's report (Rich markup allowed)."""
        self.console.print(f"  {text}", highlight=False)


Step = Callable[[DemoContext], None]


def step_check(ctx: DemoContext) -> None:
    """Schema check: the policy against the live database (R2)."""
    from tutela.policy.check import check_policy

    report = check_policy(ctx.tutela)
    ctx.say(f"{report.tables_checked} tables checked in {', '.join(report.systems_checked) or 'no system'}: "
            f"{len(report.errors)} errors, {len(report.warnings)} warnings")
    for problem in report.warnings:
        ctx.say(f"[yellow]warning[/yellow] {escape(problem.message)}")
    for problem in report.errors:
        ctx.say(f"[red]error[/red] {escape(problem.message)}")
    if report.errors:
        raise SchemaMismatch(f"the policy does not match the database ({len(report.errors)} errors)")


def step_ropa(ctx: DemoContext) -> None:
    """Record of processing activities (Art. 30), generated from the policy (R3)."""
    from tutela.policy.ropa import render_ropa

    policy = ctx.tutela.policy
    written = []
    for fmt in ("md", "html"):
        target = ctx.path(f"ropa.{fmt}")
        target.write_text(render_ropa(policy, fmt), encoding="utf-8")
        written.append(target.name)
    transfers = [name for name, r in policy.recipients.items() if r.transfer_mechanism]
    ctx.say(f"{len(policy.purposes)} purposes, {len(policy.recipients)} recipients "
            f"({len(transfers)} outside the EEA with safeguards) → {', '.join(written)} in {ctx.dir}")


def step_requests(ctx: DemoContext) -> None:
    """Data-subject requests: an access and an erasure request, verified and run (R10-R14)."""
    from tutela.requests.service import RequestService

    users = ctx.tutela.table(APP_SYSTEM, "end_users")
    query = (sa.select(users.c.id, users.c.tenant_id, users.c.email)
             .where(users.c.email.is_not(None), users.c.email.not_like("t1:%"))
             .order_by(users.c.id.desc()).limit(4))
    with ctx.app_engine.connect() as conn:
        picked = conn.execute(query).all()
    if len(picked) < 4:
        raise NotFound("the demo app has fewer than four end users with an e-mail address left")
    _leave_open_requests(ctx, picked[2:])
    for (user_id, tenant, email), kind in zip(picked[:2], ("access", "erasure"), strict=True):
        service = RequestService(ctx.tutela, actor="demo:operator", tenant=str(tenant))
        req = service.create(kind, [("email", email)], subject_type="end_user", source="demo")
        service.mark_verified(req.id, "demo: identity checked by the operator")
        done = service.run(req.id)
        ctx.shared[f"{kind}_request"] = done.id
        if kind == "access":
            out = service.export_path(done.id, ctx.path(f"exports/access-{user_id}.zip"))
            ctx.say(f"access request {done.id[:8]}… for end user {user_id} (tenant {tenant}): "
                    f"{done.result['export']['rows']} rows from {len(done.result['export']['tables'])} tables "
                    f"→ {out}; legal due {done.legal_due}")
        else:
            erasure = done.result["erasure"]
            ctx.say(f"erasure request {done.id[:8]}… for end user {user_id} (tenant {tenant}): "
                    f"{sum(erasure['counts'].values())} rows erased; signed receipt → "
                    f"{erasure.get('receipt_path') or 'none (no data held)'}")


def _leave_open_requests(ctx: DemoContext, users) -> None:
    """Two access requests left open for the DPO's queue: one past its legal month, one near its SLA."""
    from datetime import timedelta

    from tutela.clock import utcnow
    from tutela.requests.service import RequestService

    if RequestService(ctx.tutela, actor="demo:operator", all_tenants=True).list(open_only=True):
        return  # a reused demo keeps the open requests it already has
    now = utcnow().replace(microsecond=0)
    for (_, tenant, email), age_days in zip(users, (40, 11), strict=True):
        service = RequestService(ctx.tutela, actor="demo:operator", tenant=str(tenant))
        req = service.create("access", [("email", email)], subject_type="end_user", source="demo",
                             received_at=now - timedelta(days=age_days))
        service.mark_verified(req.id, "demo: identity checked by the operator")
        state = "overdue" if req.overdue(now) else f"internal SLA due {req.sla_due:%Y-%m-%d}"
        ctx.say(f"left open for the dashboard: access request {req.id[:8]}… received {age_days} days ago "
                f"(legal due {req.legal_due}, {state})")


def step_consent(ctx: DemoContext) -> None:
    """Consent: notices, a form, consents given and withdrawn, may_process decisions (R17-R19)."""
    from tutela.consent.demo import demo_step

    demo_step(ctx)


def step_erasure(ctx: DemoContext) -> None:
    """Unsubscribed and bounced contacts: pseudonymised in bulk, suppressed, found by an authority (R6-R9)."""
    from tutela.erasure.lookup import lookup_identity
    from tutela.erasure.pseudonymize import pseudonymize
    from tutela.erasure.suppression import is_suppressed

    gone = ctx.pick("newsletter_contacts", status="bounced") or ctx.pick("newsletter_contacts", status="unsubscribed")
    kept = ctx.pick("newsletter_contacts", status="subscribed")
    result = pseudonymize(ctx.tutela, "newsletter_contacts", "status=unsubscribed,bounced", actor="demo:dpo")
    ctx.say(f"{result.total} unsubscribed/bounced contacts pseudonymised, {result.suppressed} identifiers "
            f"suppressed; signed receipt → {result.receipt_path}")
    if gone is None or gone["email"].startswith("t1:"):
        return  # a reused demo whose contacts were pseudonymised before: nothing left in clear to show
    report = lookup_identity(ctx.tutela, "email", gone["email"], actor="demo:dpo")
    ctx.say(f"authority lookup of contact {gone['id']}'s exact e-mail: {len(report.records)} record(s) under "
            f"pseudonym {escape(report.pseudonym[:20])}…, suppressed since "
            f"{report.suppression[0]['created_at'] if report.suppression else 'never'}")
    ctx.say(f"is_suppressed(that e-mail) = {is_suppressed(ctx.tutela, 'email', gone['email'])}; "
            f"for a subscribed contact = {bool(kept) and is_suppressed(ctx.tutela, 'email', kept['email'])}")


def step_retention(ctx: DemoContext) -> None:
    """Retention: sessions after 3 h, uploads after 7 days, logs after 1 year — plan, run, result (R4, R5)."""
    from tutela.errors import Conflict
    from tutela.retention import plan_retention, run_retention

    for plan in plan_retention(ctx.tutela):
        oldest = "" if plan.oldest_age_days is None else f", oldest {plan.oldest_age_days:g} days old"
        ctx.say(f"plan {plan.rule} ({plan.action} after {plan.after}): {plan.rows} rows due{oldest}")
    results = run_retention(ctx.tutela, actor="demo:worker")
    for result in results:
        ctx.say(f"run  {result.rule}: {result.status}, {result.rows} rows in {result.batches} batch(es) "
                f"(longest {result.longest_batch_ms:.0f} ms), audited as retention.run")
    failed = [r.rule for r in results if not r.ok]
    if failed:
        raise Conflict(f"retention failed for {', '.join(failed)}")
    left = sum(plan.rows for plan in plan_retention(ctx.tutela))
    ctx.say(f"plan after the run: {left} rows due")


def step_audit_verify(ctx: DemoContext) -> None:
    """Audit trail: verify the hash chain of every event recorded so far (R26)."""
    result = ctx.tutela.audit.verify()
    if not result.ok:
        raise AuditTampered(f"the audit chain is broken at event {result.first_bad_seq}: {result.problem}")
    events = "1 event" if result.checked == 1 else f"{result.checked} events"
    ctx.say(f"{events} verified; the chain and its signed head are intact")


def step_audit_tamper(ctx: DemoContext) -> None:
    """Tamper drill: an edited event in a copy of the store is caught (R26)."""
    from tutela.audit.drill import tamper_drill

    if ctx.tutela.store.dialect != "sqlite":
        ctx.say("skipped: the drill copies a SQLite store file")
        return
    drill = tamper_drill(ctx.tutela.store, ctx.tutela.keyring)
    if not drill.detected:
        raise AuditTampered(f"the tamper drill edited event {drill.edited_seq} and verify did not name it")
    ctx.say(f"in a throwaway copy, event {drill.edited_seq}'s actor was changed → `tutela audit verify` "
            f"exits 1: first bad event {drill.result.first_bad_seq} ({drill.result.problem}); "
            "the real store is untouched")


#: The steps, in the order the demo runs them. The CLI adds serving the dashboard last
#: (`tutela.cli.demo_cmds.step_serve`), since the core does not import the web layer.
STEPS: list[Step] = [
    step_check,
    step_ropa,
    step_requests,
    step_consent,
    step_erasure,
    step_retention,
    step_audit_verify,
    step_audit_tamper,
]


def step_title(step: Step) -> str:
    """The first line of a step's docstring, without the final full stop."""
    doc = (step.__doc__ or step.__name__).strip().splitlines()[0]
    return doc.rstrip(".")
