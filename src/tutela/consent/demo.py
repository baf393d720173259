"""The consent step of ``tutela demo``: notices, a form, consents given and withdrawn, decisions.

Kept here (not in ``tutela.demo.steps``) so the consent area owns what it shows; the demo's step
list calls :func:`demo_step`. Safe to run again on the same demo: notices are created once, the
import carries fixed times (a re-run writes nothing new), and restrictions are idempotent.
"""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from rich.markup import escape

from tutela.consent.decisions import may_process, may_process_many
from tutela.consent.forms import record_form_submission, render_form
from tutela.consent.importer import import_csv
from tutela.consent.ledger import subject_key_for, withdraw_consent
from tutela.consent.notices import create_notice, list_notices
from tutela.consent.restrictions import restrict
from tutela.errors import NotFound

NOTICES = {
    "newsletter": "# Our newsletter\n\nOne e-mail a month about new booking slots. Unsubscribe with one "
                  "click at the bottom of every mail.",
    "analytics": "# Booking statistics\n\nWe count which page brought you to your booking, to improve the "
                 "pages. No advertising, no sharing.",
}
ACTOR = "demo:operator"


def _unhashed(ctx, table: str, columns: list[str], limit: int, **equals) -> list:
    live = ctx.tutela.table("app", table)
    query = (sa.select(*(live.c[c] for c in columns))
             .where(live.c.email.is_not(None), live.c.email.not_like("t1:%"),
                    *(live.c[k] == v for k, v in equals.items()))
             .order_by(live.c.id).limit(limit))
    with ctx.app_engine.connect() as conn:
        return conn.execute(query).all()


def _show(ctx, label: str, decision) -> None:
    mark = "[green]allowed[/green]" if decision.allowed else "[red]refused[/red]"
    ctx.say(f"may_process({label}) → {mark}: {escape(decision.reason)}")


def demo_step(ctx) -> None:
    """Record consents through a form and an import, withdraw one, object, and print decisions."""
    tutela = ctx.tutela
    for purpose, text in NOTICES.items():
        if not list_notices(tutela, purpose):
            create_notice(tutela, purpose, text, title=text.splitlines()[0].lstrip("# "), actor=ACTOR)
    form = render_form(tutela, ["newsletter"], collection_point="signup-page", action="/consent/signup-page")
    ctx.path("consent-form.html").write_text(form, encoding="utf-8")
    ctx.say(f"notices for newsletter and analytics; the signup form snippet → {ctx.path('consent-form.html')}")

    contacts = _unhashed(ctx, "newsletter_contacts", ["id", "tenant_id", "email", "country"], 3,
                         status="subscribed")
    users = _unhashed(ctx, "end_users", ["id", "tenant_id", "email", "date_of_birth", "country"], 3)
    if len(contacts) < 2 or len(users) < 3:
        raise NotFound("the demo app has too few subscribed contacts or end users left for the consent step")
    version = list_notices(tutela, "newsletter")[-1]
    for _id, tenant, email, country in contacts:
        record_form_submission(tutela, {"email": email, "consent.newsletter": "yes",
                                        "notice.newsletter": str(version.version),
                                        "notice_sha256.newsletter": version.sha256, "country": country or ""},
                               collection_point="signup-page", tenant=str(tenant))
    quitter = contacts[1]
    withdraw_consent(tutela, subject_key_for(tutela, "email", quitter.email), "newsletter", actor=ACTOR,
                     method="web_form", collection_point="unsubscribe-link", tenant=str(quitter.tenant_id))
    ctx.say(f"{len(contacts)} contacts consented to the newsletter on the form; contact #{quitter.id} "
            "then unsubscribed")

    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["email", "purpose", "at", "tenant", "birth_date", "country", "method"])
    for user in users[:2]:
        writer.writerow([user.email, "analytics", "2026-01-15T09:00:00Z", user.tenant_id,
                         user.date_of_birth.isoformat() if user.date_of_birth else "", user.country or "", "paper"])
    report = import_csv(tutela, rows.getvalue(), actor=ACTOR)
    ctx.say(f"imported analytics consents from CSV: {report.written} written, {report.already_recorded} "
            f"already recorded, {len(report.rejects)} rejected")
    objector = users[2]
    objector_key = subject_key_for(tutela, "email", objector.email)
    restrict(tutela, objector_key, kind="objection", tenant=str(objector.tenant_id),
             reason="demo: objection to all processing", actor=ACTOR)

    first = contacts[0]
    _show(ctx, f"contact #{first.id}, newsletter",
          may_process(tutela, subject_key_for(tutela, "email", first.email), "newsletter", str(first.tenant_id)))
    _show(ctx, f"contact #{quitter.id}, newsletter",
          may_process(tutela, subject_key_for(tutela, "email", quitter.email), "newsletter",
                      str(quitter.tenant_id)))
    user = users[0]
    _show(ctx, f"end user #{user.id}, analytics",
          may_process(tutela, subject_key_for(tutela, "email", user.email), "analytics", str(user.tenant_id)))
    for purpose in ("analytics", "service_delivery"):
        _show(ctx, f"end user #{objector.id}, {purpose}",
              may_process(tutela, objector_key, purpose, str(objector.tenant_id)))

    everyone = _unhashed(ctx, "newsletter_contacts", ["email"], 10_000, tenant_id=first.tenant_id)
    keys = [subject_key_for(tutela, "email", row.email) for row in everyone]
    allowed = sum(d.allowed for d in may_process_many(tutela, keys, "newsletter", str(first.tenant_id)).values())
    ctx.say(f"mailing list of tenant {first.tenant_id}: {allowed} of {len(keys)} contacts may be mailed "
            "(may_process_many, one query per 1,000)")
