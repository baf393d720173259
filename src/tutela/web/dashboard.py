"""The DPO/operator dashboard: HTTP only, over the same service calls as the API.

Sign-in takes an API key once and keeps a signed session cookie; every form posts the
session's CSRF token; every page passes the key's tenant into the service layer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tutela.auth import Permission, Principal, principal_of
from tutela.errors import InvalidInput, NotAuthenticated, TutelaError
from tutela.web import sessions
from tutela.web.render import flash, form_page, page

router = APIRouter(prefix="/dashboard", include_in_schema=False)

#: open requests whose SLA or legal deadline falls within this span are "due soon"
DUE_SOON = timedelta(days=3)


class Signed:
    """The signed-in principal and the session's CSRF token."""

    def __init__(self, principal: Principal, csrf: str):
        self.principal = principal
        self.csrf = csrf

    def require(self, permission: Permission) -> None:
        self.principal.require(permission)


def signed_in(request: Request) -> Signed:
    """The dashboard's principal from the session cookie; 401 (→ sign-in page) otherwise."""
    session = sessions.read_session(request)
    if session is None:
        raise NotAuthenticated("please sign in")
    return Signed(principal_of(request.app.state.tutela, session.key_id), session.csrf)


def checked_form(request: Request, csrf: str | None = Form(None)) -> Signed:
    """A signed-in form post with a valid CSRF token."""
    signed = signed_in(request)
    sessions.check_csrf(sessions.read_session(request), csrf)  # type: ignore[arg-type]
    return signed


def _page(request: Request, template: str, signed: Signed, **context: Any) -> HTMLResponse:
    return page(request, template, principal=signed.principal, csrf=signed.csrf, **context)


def _back(url: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{url}?done={done}", status_code=303)


# --- sign-in ---------------------------------------------------------------------------------
@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return form_page(request, "login.html")


@router.post("/login")
def login(request: Request, key: str = Form(..., max_length=200), csrf: str | None = Form(None)) -> Response:
    from tutela.api.deps import client_address

    sessions.check_form_token(request, csrf)
    settings = request.app.state.settings
    request.app.state.rate_limiter.hit("login", client_address(request), settings.login_per_client)
    try:
        principal = request.app.state.authenticate(key)
    except NotAuthenticated:
        return form_page(request, "login.html", status_code=401, error="That key is not valid, or it was revoked.")
    request.app.state.tutela.audit.record("dashboard.signed_in", actor=principal.actor, tenant=principal.tenant)
    response = RedirectResponse("/dashboard", status_code=303)
    sessions.start_session(request, response, principal.key_id)
    return response


@router.post("/logout")
def logout(request: Request, signed: Signed = Depends(checked_form)) -> Response:
    response = RedirectResponse("/dashboard/login", status_code=303)
    sessions.end_session(request, response)
    return response


# --- requests --------------------------------------------------------------------------------
def _service(request: Request, signed: Signed):
    from tutela.api.routers.requests import request_service

    return request_service(request, request.app.state.tutela, signed.principal)


@router.get("")
def queue(request: Request, show: str = "open", signed: Signed = Depends(signed_in)) -> HTMLResponse:
    from tutela.clock import utcnow

    signed.require(Permission.REQUESTS_READ)
    service = _service(request, signed)
    found = service.list(open_only=show != "all")
    now = utcnow()
    rows = []
    for r in found:
        if r.overdue(now):
            state = "overdue"
        elif r.sla_missed(now) or (r.status.is_open and (r.sla_due - now <= DUE_SOON
                                                           or r.legal_due - now.date() <= DUE_SOON)):
            state = "due-soon"
        else:
            state = ""
        rows.append((r, state))
    return _page(request, "queue.html", signed, rows=rows, show=show, flash=flash(request))


@router.get("/requests/{request_id}")
def detail(request_id: str, request: Request, signed: Signed = Depends(signed_in)) -> HTMLResponse:
    from tutela.clock import utcnow

    signed.require(Permission.REQUESTS_READ)
    found = _service(request, signed).show(request_id)
    now = utcnow()
    return _page(request, "request.html", signed, r=found, overdue=found.overdue(now),
                 can_write=signed.principal.can(Permission.REQUESTS_WRITE),
                 can_run=signed.principal.can(Permission.REQUESTS_RUN),
                 flash=flash(request))


@router.post("/requests/{request_id}/{action}")
def act(request_id: str, action: str, request: Request, reason: str | None = Form(None, max_length=2000),
        signed: Signed = Depends(checked_form)) -> Response:
    service = _service(request, signed)
    url = f"/dashboard/requests/{request_id}"
    if action == "run":
        signed.require(Permission.REQUESTS_RUN)
        service.run(request_id)
        return _back(url, "run")
    signed.require(Permission.REQUESTS_WRITE)
    if action == "send-code":
        service.send_code(request_id)
        return _back(url, "code-sent")
    handlers = {"mark-verified": service.mark_verified, "extend": service.extend, "reject": service.reject}
    if action not in handlers:
        raise InvalidInput(f"'{action}' is not an action on a request")
    handlers[action](request_id, reason or "")
    return _back(url, action)


@router.get("/requests/{request_id}/export")
def export(request_id: str, request: Request, signed: Signed = Depends(signed_in)) -> Response:
    from tutela.api.routers.requests import audited_export, zip_response

    signed.require(Permission.REQUESTS_READ)
    return zip_response(audited_export(_service(request, signed), request_id), request_id)


# --- consent, retention, audit, record ------------------------------------------------------
@router.get("/consent")
def consent(request: Request, signed: Signed = Depends(signed_in)) -> HTMLResponse:
    from tutela.consent.notices import list_notices

    signed.require(Permission.CONSENT_READ)
    tutela = request.app.state.tutela
    counts, recent = _consent_overview(tutela, signed.principal.tenant)
    return _page(request, "consent.html", signed, purposes=tutela.policy.purposes, overview=counts,
                 recent=recent, notices=list_notices(tutela))


def _consent_overview(tutela, tenant: str | None) -> tuple[dict[str, dict[str, int]], list[dict[str, Any]]]:
    """Ledger events per purpose and kind, and the latest events (pseudonyms only), for display."""
    import sqlalchemy as sa

    from tutela.consent.tables import ledger

    scope = ledger.c.tenant == tenant if tenant is not None else sa.true()
    counts: dict[str, dict[str, int]] = {}
    with tutela.store.engine.connect() as conn:
        grouped = conn.execute(sa.select(ledger.c.purpose, ledger.c.event, sa.func.count())
                               .where(scope).group_by(ledger.c.purpose, ledger.c.event))
        for purpose, event, count in grouped:
            counts.setdefault(purpose, {})[event] = count
        recent = conn.execute(sa.select(ledger.c.at, ledger.c.subject_key, ledger.c.purpose, ledger.c.event,
                                        ledger.c.method, ledger.c.collection_point, ledger.c.tenant)
                              .where(scope).order_by(ledger.c.id.desc()).limit(20)).mappings().all()
    return counts, [dict(r) for r in recent]


@router.get("/retention")
def retention(request: Request, signed: Signed = Depends(signed_in)) -> HTMLResponse:
    from tutela.retention.plan import plan_retention

    signed.require(Permission.RETENTION_READ)
    plans = plan_retention(request.app.state.tutela)
    return _page(request, "retention.html", signed, plans=[p.to_dict() for p in plans],
                 can_run=signed.principal.can(Permission.RETENTION_RUN), flash=flash(request))


@router.post("/retention/run")
def retention_run(request: Request, confirm: str | None = Form(None),
                  signed: Signed = Depends(checked_form)) -> Response:
    from tutela.api.routers.retention import run_and_record

    signed.require(Permission.RETENTION_RUN)
    if confirm != "yes":
        raise InvalidInput("tick the confirmation box to run retention; it deletes data for good")
    run_and_record(request.app.state.tutela, signed.principal)
    return _back("/dashboard/retention", "retention")


@router.get("/audit")
def audit(request: Request, signed: Signed = Depends(signed_in)) -> HTMLResponse:
    from tutela.api.routers.audit import event_json

    signed.require(Permission.AUDIT_READ)
    tutela = request.app.state.tutela
    result = tutela.audit.verify()
    events = tutela.audit.query(tenant=signed.principal.tenant, limit=50)
    return _page(request, "audit.html", signed, result=result, events=[event_json(e) for e in events])


@router.get("/record")
def record(request: Request, signed: Signed = Depends(signed_in)) -> HTMLResponse:
    from tutela.policy.ropa import render_ropa

    signed.require(Permission.POLICY_READ)
    return _page(request, "record.html", signed, record=render_ropa(request.app.state.tutela.policy, "md"))


@router.get("/record.{fmt}")
def record_download(fmt: str, request: Request, signed: Signed = Depends(signed_in)) -> Response:
    from tutela.api.routers.policy import record_response

    signed.require(Permission.POLICY_READ)
    if fmt not in ("html", "csv", "json", "md"):
        raise InvalidInput("the record comes as html, csv, json or md")
    return record_response(request.app.state.tutela, fmt)


def error_page(request: Request, exc: TutelaError) -> Response:
    """How a dashboard error is shown: sign-in page for 401, an error page otherwise."""
    if exc.http_status == 401:
        return RedirectResponse("/dashboard/login", status_code=303)
    from http import HTTPStatus

    return page(request, "error.html", status_code=exc.http_status, title=HTTPStatus(exc.http_status).phrase,
                detail=exc.message, back="/dashboard")
