"""The OpenDSR 1.0 surface: the same requests, in the wire format existing privacy tools speak."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from tutela.api.deps import get_tutela, require
from tutela.api.routers.requests import request_service
from tutela.auth import Permission, Principal
from tutela.engine import Tutela

router = APIRouter(prefix="/opendsr", tags=["opendsr"])


class OpenDsrIdentity(BaseModel):
    identity_type: str = Field(max_length=40, examples=["email"])
    identity_value: str = Field(max_length=320, examples=["ada@example.com"])
    identity_format: str = Field("raw", max_length=20)


class OpenDsrRequestIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    subject_request_id: str | None = Field(None, max_length=100)
    subject_request_type: str = Field(max_length=40, examples=["access"])
    subject_identities: list[OpenDsrIdentity] = Field(min_length=1, max_length=5)
    submitted_time: str | None = Field(None, max_length=40)
    api_version: str | None = Field(None, max_length=10)
    status_callback_urls: list[str] = Field(default_factory=list, max_length=5,
                                            description="told of every status change (signed document)")


@router.get("/discovery", summary="What this controller supports (OpenDSR discovery)")
def discovery(tutela: Tutela = Depends(get_tutela)) -> dict[str, Any]:
    from tutela.requests.model import OPENDSR_API_VERSION, RequestType

    kinds = sorted({kind for subject in tutela.policy.subjects.values() for kind in subject.identities})
    return {"api_version": OPENDSR_API_VERSION,
            "supported_identities": [{"identity_type": k, "identity_format": "raw"} for k in kinds],
            "supported_subject_request_types": [t.value for t in RequestType],
            "processor_certificate": None}


@router.post("/requests", status_code=201, summary="File a request in the OpenDSR format")
def create(body: OpenDsrRequestIn, request: Request, tutela: Tutela = Depends(get_tutela),
           principal: Principal = Depends(require(Permission.REQUESTS_WRITE))) -> dict[str, Any]:
    from tutela.opendsr import register_callbacks
    from tutela.opendsr.callbacks import check_url
    from tutela.requests.model import from_opendsr, to_opendsr
    from tutela.requests.service import RequestService

    allow_http = request.app.state.settings.callback_allow_http
    for url in body.status_callback_urls:  # checked before anything is filed
        check_url(url, allow_http=allow_http)
    new = from_opendsr(body.model_dump(mode="json", exclude_none=True))
    service = RequestService(tutela, principal.actor, tenant=principal.tenant,
                             mailer=getattr(request.app.state, "mailer", None))
    created = service.create_from(new)
    register_callbacks(tutela, created.id, body.status_callback_urls, tenant=principal.tenant,
                       allow_http=allow_http)
    return to_opendsr(created)


@router.get("/requests/{request_id}", summary="A request's status in the OpenDSR format")
def status(request_id: str, request: Request, tutela: Tutela = Depends(get_tutela),
           principal: Principal = Depends(require(Permission.REQUESTS_READ))) -> dict[str, Any]:
    from tutela.requests.model import to_opendsr

    return to_opendsr(request_service(request, tutela, principal).show(request_id))
