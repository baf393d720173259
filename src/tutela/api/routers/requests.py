"""Data-subject requests (R10-R13): intake, verification, deadlines, running, exports.

Every call goes through :class:`tutela.requests.service.RequestService` built with the caller's
tenant, so another tenant's request id answers 404 exactly like a missing one.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from tutela.api.deps import get_tutela, require
from tutela.auth import Permission, Principal
from tutela.engine import Tutela
from tutela.errors import Conflict

router = APIRouter(prefix="/api/v1/requests", tags=["requests"])

RequestTypeName = Literal["access", "portability", "rectification", "erasure", "restriction", "objection"]
_TENANT = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"


class IdentityIn(BaseModel):
    kind: str = Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$", examples=["email"])
    value: str = Field(min_length=1, max_length=320, examples=["ada@example.com"])


class NewRequestIn(BaseModel):
    type: RequestTypeName
    identities: list[IdentityIn] = Field(min_length=1, max_length=5)
    subject_type: str | None = Field(None, max_length=100)
    purpose: str | None = Field(None, max_length=100, description="restriction/objection: the purpose")
    changes: dict[str, str] | None = Field(None, description="rectification: field → new value")
    tenant: str | None = Field(None, min_length=1, max_length=100, pattern=_TENANT,
                               description="for keys bound to no tenant: the tenant the request belongs to")
    send_code: bool = Field(False, description="e-mail the verification code at once")


class CodeIn(BaseModel):
    code: str = Field(min_length=1, max_length=32)


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


def request_service(request: Request, tutela: Tutela, principal: Principal, tenant: str | None = None):
    """The request service scoped to the caller: its key's tenant, else the asked tenant, else all."""
    from tutela.requests.service import RequestService

    mailer = getattr(request.app.state, "mailer", None)
    if principal.tenant is not None:
        return RequestService(tutela, principal.actor, tenant=principal.tenant, mailer=mailer)
    if tenant is not None:
        return RequestService(tutela, principal.actor, tenant=tenant, mailer=mailer)
    return RequestService(tutela, principal.actor, all_tenants=True, mailer=mailer)


@router.post("", status_code=201, summary="File a data-subject request")
def create(body: NewRequestIn, request: Request, tutela: Tutela = Depends(get_tutela),
           principal: Principal = Depends(require(Permission.REQUESTS_WRITE))) -> dict[str, Any]:
    from tutela.requests.model import Identity
    from tutela.requests.service import RequestService

    tenant = principal.tenant if principal.tenant is not None else body.tenant
    service = RequestService(tutela, principal.actor, tenant=tenant, mailer=getattr(request.app.state, "mailer", None))
    created = service.create(body.type, [Identity(i.kind, i.value) for i in body.identities],
                             subject_type=body.subject_type, purpose=body.purpose, changes=body.changes,
                             source="api")
    if body.send_code:
        created = service.send_code(created.id)
    return created.as_dict()


@router.get("", summary="List requests, overdue first, then by due date")
def index(request: Request,
          status: Literal["received", "verifying", "verified", "in_progress", "completed", "rejected"] | None
          = None,
          open_only: bool = False,
          due_within_days: int | None = Query(None, ge=0, le=3660),
          subject: str | None = Query(None, max_length=200, description="a subject pseudonym (t1:…)"),
          tenant: str | None = Query(None, max_length=100),
          tutela: Tutela = Depends(get_tutela),
          principal: Principal = Depends(require(Permission.REQUESTS_READ))) -> list[dict[str, Any]]:
    from datetime import timedelta

    service = request_service(request, tutela, principal, tenant)
    found = service.list(status=status, open_only=open_only, subject=subject,
                         due_within=timedelta(days=due_within_days) if due_within_days is not None else None)
    return [r.as_dict() for r in found]


@router.get("/{request_id}", summary="One request with its history")
def show(request_id: str, request: Request, tutela: Tutela = Depends(get_tutela),
         principal: Principal = Depends(require(Permission.REQUESTS_READ))) -> dict[str, Any]:
    return request_service(request, tutela, principal).show(request_id).as_dict()


@router.post("/{request_id}/send-code", summary="E-mail a fresh verification code")
def send_code(request_id: str, request: Request, tutela: Tutela = Depends(get_tutela),
              principal: Principal = Depends(require(Permission.REQUESTS_WRITE))) -> dict[str, Any]:
    return request_service(request, tutela, principal).send_code(request_id).as_dict()


@router.post("/{request_id}/verify", summary="Check the code the subject received")
def verify(request_id: str, body: CodeIn, request: Request, tutela: Tutela = Depends(get_tutela),
           principal: Principal = Depends(require(Permission.REQUESTS_WRITE))) -> dict[str, Any]:
    return request_service(request, tutela, principal).verify(request_id, body.code).as_dict()


@router.post("/{request_id}/mark-verified", summary="Vouch for the requester's identity, with a reason")
def mark_verified(request_id: str, body: ReasonIn, request: Request, tutela: Tutela = Depends(get_tutela),
                  principal: Principal = Depends(require(Permission.REQUESTS_WRITE))) -> dict[str, Any]:
    return request_service(request, tutela, principal).mark_verified(request_id, body.reason).as_dict()


@router.post("/{request_id}/extend", summary="Extend the deadline by two months (Art. 12(3))")
def extend(request_id: str, body: ReasonIn, request: Request, tutela: Tutela = Depends(get_tutela),
           principal: Principal = Depends(require(Permission.REQUESTS_WRITE))) -> dict[str, Any]:
    return request_service(request, tutela, principal).extend(request_id, body.reason).as_dict()


@router.post("/{request_id}/reject", summary="Refuse the request, with the reason told to the subject")
def reject(request_id: str, body: ReasonIn, request: Request, tutela: Tutela = Depends(get_tutela),
           principal: Principal = Depends(require(Permission.REQUESTS_WRITE))) -> dict[str, Any]:
    return request_service(request, tutela, principal).reject(request_id, body.reason).as_dict()


@router.post("/{request_id}/run", summary="Carry out a verified request")
def run(request_id: str, request: Request, tutela: Tutela = Depends(get_tutela),
        principal: Principal = Depends(require(Permission.REQUESTS_RUN))) -> dict[str, Any]:
    return request_service(request, tutela, principal).run(request_id).as_dict()


@router.get("/{request_id}/export", summary="The ZIP export of a completed access/portability request",
            response_class=Response, responses={200: {"content": {"application/zip": {}}}})
def export(request_id: str, request: Request, tutela: Tutela = Depends(get_tutela),
           principal: Principal = Depends(require(Permission.REQUESTS_READ))) -> Response:
    return zip_response(audited_export(request_service(request, tutela, principal), request_id), request_id)


@router.get("/{request_id}/receipt", summary="The signed receipt of a completed erasure")
def receipt(request_id: str, request: Request, tutela: Tutela = Depends(get_tutela),
            principal: Principal = Depends(require(Permission.REQUESTS_READ))) -> dict[str, Any]:
    found = request_service(request, tutela, principal).show(request_id)
    receipt = ((found.result or {}).get("erasure") or {}).get("receipt")
    if receipt is None:
        raise Conflict("a receipt exists once an erasure request has run and erased data")
    return receipt


def audited_export(service, request_id: str) -> bytes:
    """The export ZIP, fetched through the service's audited export (history + audit event)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="tutela-export-") as folder:
        return service.export_path(request_id, Path(folder) / "export.zip").read_bytes()


def zip_response(data: bytes, request_id: str) -> Response:
    """A download of an export ZIP."""
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="tutela-export-{request_id}.zip"'})
