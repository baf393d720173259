"""The public privacy center of one tenant: a data subject files a request, confirms the e-mailed
code, follows the status and downloads the export through a signed, expiring link.

No sign-in: each request's pages are reached through a signed token bound to the request and the
tenant. Intake and code confirmation are rate-limited per client and per identity / request.
The tenant ``_`` stands for requests that belong to no tenant.
"""

from __future__ import annotations

import re
import time
from typing import Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tutela.api.deps import client_address
from tutela.api.ratelimit import identity_key
from tutela.errors import NotFound, TutelaError
from tutela.web import sessions
from tutela.web.render import flash, form_page, page

router = APIRouter(prefix="/privacy", include_in_schema=False)

ACTOR = "privacy-center"
PUBLIC_RIGHTS = {"access": "Get a copy of my data (access, Art. 15)",
                 "portability": "Receive my data in a portable format (Art. 20)",
                 "erasure": "Erase my data (Art. 17)",
                 "restriction": "Restrict the processing of my data (Art. 18)",
                 "objection": "Object to the processing of my data (Art. 21)"}
_TENANT = re.compile(r"^(_|[A-Za-z0-9][A-Za-z0-9_.:-]{0,99})$")


def _tenant(slug: str) -> str | None:
    if not _TENANT.match(slug):
        raise NotFound("there is no privacy center here")
    return None if slug == "_" else slug


def _service(request: Request, tenant: str | None):
    from tutela.requests.service import RequestService

    return RequestService(request.app.state.tutela, ACTOR, tenant=tenant,
                          mailer=getattr(request.app.state, "mailer", None))


def status_token(request: Request, slug: str, request_id: str) -> str:
    """The token that opens a request's status page (given only to whoever filed it)."""
    return sessions.sign_value(request, {"p": "status", "tn": slug, "r": request_id})


def export_token(request: Request, slug: str, request_id: str) -> str:
    """A download token for the export, valid for the configured minutes."""
    minutes = request.app.state.settings.export_link_minutes
    return sessions.sign_value(request, {"p": "export", "tn": slug, "r": request_id,
                                         "x": int(time.time()) + minutes * 60})


def _check_token(request: Request, token: str | None, purpose: str, slug: str, request_id: str) -> None:
    value = sessions.unsign_value(request, token or "")
    if not value or value.get("p") != purpose or value.get("tn") != slug or value.get("r") != request_id:
        raise NotFound("this link is not valid; use the link from your confirmation page")
    if "x" in value and (not isinstance(value["x"], int) or value["x"] < time.time()):
        raise NotFound("this download link has expired; open your request's status page for a new one")


@router.get("/{slug}")
def home(slug: str, request: Request) -> HTMLResponse:
    _tenant(slug)
    return form_page(request, "privacy_home.html", slug=slug, rights=PUBLIC_RIGHTS)


@router.post("/{slug}/requests")
def submit(slug: str, request: Request,
           right: Literal["access", "portability", "erasure", "restriction", "objection"] = Form(...),
           email: str = Form(..., max_length=320), csrf: str | None = Form(None)) -> Response:
    tenant = _tenant(slug)
    sessions.check_form_token(request, csrf)
    settings, limiter = request.app.state.settings, request.app.state.rate_limiter
    limiter.hit("intake", client_address(request), settings.intake_per_client)
    limiter.hit("intake-identity", identity_key(email), settings.intake_per_identity)
    service = _service(request, tenant)
    created = service.create(right, [("email", email)], source="privacy_center")
    service.send_code(created.id)
    token = status_token(request, slug, created.id)
    return RedirectResponse(f"/privacy/{slug}/requests/{created.id}?t={token}", status_code=303)


@router.get("/{slug}/requests/{request_id}")
def status(slug: str, request_id: str, request: Request, t: str | None = None) -> HTMLResponse:
    tenant = _tenant(slug)
    _check_token(request, t, "status", slug, request_id)
    found = _service(request, tenant).show(request_id)
    download = None
    if found.status.value == "completed" and found.result and "export" in found.result:
        download = f"/privacy/{slug}/requests/{request_id}/export?t={export_token(request, slug, request_id)}"
    return form_page(request, "privacy_status.html", slug=slug, r=found, t=t, download=download,
                     flash=flash(request), right=PUBLIC_RIGHTS.get(found.type.value))


@router.post("/{slug}/requests/{request_id}/confirm")
def confirm(slug: str, request_id: str, request: Request, code: str = Form(..., max_length=32),
            t: str | None = Form(None), csrf: str | None = Form(None)) -> Response:
    tenant = _tenant(slug)
    sessions.check_form_token(request, csrf)
    _check_token(request, t, "status", slug, request_id)
    settings, limiter = request.app.state.settings, request.app.state.rate_limiter
    limiter.hit("verify", client_address(request), settings.verify_per_client)
    limiter.hit("verify-request", request_id, settings.verify_per_request)
    try:
        _service(request, tenant).verify(request_id, code.strip())
    except TutelaError as exc:
        if exc.http_status in (404, 429):
            raise
        found = _service(request, tenant).show(request_id)
        return form_page(request, "privacy_status.html", status_code=exc.http_status, slug=slug, r=found,
                         t=t, download=None, error=exc.message, right=PUBLIC_RIGHTS.get(found.type.value))
    from urllib.parse import quote

    return RedirectResponse(f"/privacy/{slug}/requests/{request_id}?t={quote(t or '')}&done=confirmed",
                            status_code=303)


@router.get("/{slug}/requests/{request_id}/export")
def export(slug: str, request_id: str, request: Request, t: str | None = None) -> Response:
    from tutela.api.routers.requests import audited_export, zip_response

    tenant = _tenant(slug)
    _check_token(request, t, "export", slug, request_id)
    return zip_response(audited_export(_service(request, tenant), request_id), request_id)


@router.get("/{slug}/consent/{point}")
def consent_form(slug: str, point: str, request: Request) -> HTMLResponse:
    """A consent form for the purposes named by ``?purpose=…`` at collection point ``point``."""
    from markupsafe import Markup

    from tutela.consent.forms import render_form

    _tenant(slug)
    _point(point)
    purposes = request.query_params.getlist("purpose") or [
        name for name, p in request.app.state.tutela.policy.purposes.items() if p.basis.value == "consent"]
    snippet = render_form(request.app.state.tutela, purposes, collection_point=point,
                          action=f"/privacy/{slug}/consent/{point}")
    # the form comes from the consent module; the CSRF field is this layer's concern
    holder = HTMLResponse("")
    token = sessions.form_token(request, holder)
    hidden = str(Markup('<input type="hidden" name="csrf" value="{}">').format(token))
    opening_end = str(snippet).index(">") + 1
    form = Markup(str(snippet)[:opening_end] + hidden + str(snippet)[opening_end:])  # noqa: S704 - both parts are escaped HTML
    rendered = page(request, "privacy_consent.html", form=form, slug=slug)
    rendered.raw_headers.extend(h for h in holder.raw_headers if h[0] == b"set-cookie")
    return rendered


@router.post("/{slug}/consent/{point}")
async def consent_submit(slug: str, point: str, request: Request) -> Response:
    """Record a submitted consent form (validated by the consent module) and thank the subject."""
    from starlette.concurrency import run_in_threadpool

    from tutela.consent.forms import record_form_submission

    tenant = _tenant(slug)
    _point(point)
    form = await request.form(max_fields=200)
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    sessions.check_form_token(request, data.pop("csrf", None))
    settings = request.app.state.settings
    request.app.state.rate_limiter.hit("intake", client_address(request), settings.intake_per_client)
    ids = await run_in_threadpool(record_form_submission, request.app.state.tutela, data, collection_point=point,
                                  tenant=tenant, actor=ACTOR)
    return page(request, "privacy_consent_done.html", slug=slug, recorded=len(ids))


def _point(point: str) -> None:
    if not _TENANT.match(point) or point == "_":
        raise NotFound("there is no such consent form")


def error_page(request: Request, exc: TutelaError) -> Response:
    """How a privacy-center error is shown to a data subject."""
    from http import HTTPStatus

    slug = request.url.path.split("/")[2] if request.url.path.count("/") >= 2 else "_"
    return page(request, "error.html", status_code=exc.http_status, title=HTTPStatus(exc.http_status).phrase,
                detail=exc.message, back=f"/privacy/{slug}" if _TENANT.match(slug) else None)
