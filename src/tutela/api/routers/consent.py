"""Consent (R17-R19): record and withdraw, check ``may_process``, history, notices.

Subjects are named by their pseudonym (``subject_key``, ``t1:…``) so no raw identifier travels in
URLs or logs; ``POST /consent/subject-key`` derives it from an identity.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from tutela.api.deps import get_tutela, require, scoped_tenant
from tutela.auth import Permission, Principal
from tutela.engine import Tutela

router = APIRouter(prefix="/api/v1", tags=["consent"])

_KEY = r"^t1:[0-9a-f]{6}:[0-9a-f]{64}$"
_TENANT = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"


class IdentityIn(BaseModel):
    kind: str = Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$", examples=["email"])
    value: str = Field(min_length=1, max_length=320, examples=["ada@example.com"])


class ConsentIn(BaseModel):
    subject_key: str = Field(pattern=_KEY, description="the subject's pseudonym")
    purpose: str = Field(min_length=1, max_length=100)
    event: Literal["given", "withdrawn"] = "given"
    notice_version: int | None = Field(None, ge=1, description="the notice shown (default: the latest)")
    method: Literal["web_form", "api", "import", "paper"] = "api"
    collection_point: str | None = Field(None, max_length=200)
    tenant: str | None = Field(None, min_length=1, max_length=100, pattern=_TENANT,
                               description="for keys bound to no tenant")


@router.post("/consent/subject-key", summary="The pseudonym (subject key) of an identity")
def subject_key(body: IdentityIn, tutela: Tutela = Depends(get_tutela),
                _principal: Principal = Depends(require(Permission.CONSENT_READ))) -> dict[str, str]:
    from tutela.consent import subject_key_for

    return {"subject_key": subject_key_for(tutela, body.kind, body.value)}


@router.post("/consent", status_code=201, summary="Record that consent was given or withdrawn")
def record(body: ConsentIn, tutela: Tutela = Depends(get_tutela),
           principal: Principal = Depends(require(Permission.CONSENT_WRITE))) -> dict[str, Any]:
    from tutela.consent import ConsentEvent, record_events

    tenant = principal.tenant if principal.tenant is not None else body.tenant
    event = ConsentEvent(body.subject_key, body.purpose, body.event, notice_version=body.notice_version,
                         method=body.method, collection_point=body.collection_point, tenant=tenant)
    ids = record_events(tutela, [event], actor=principal.actor)
    return {"id": ids[0], "event": body.event, "purpose": body.purpose, "tenant": tenant}


@router.get("/consent/check", summary="May this subject's data be processed for this purpose?")
async def check(subject_key: str = Query(pattern=_KEY), purpose: str = Query(min_length=1, max_length=100),
          tenant: str | None = Query(None, max_length=100), tutela: Tutela = Depends(get_tutela),
          principal: Principal = Depends(require(Permission.CONSENT_READ))) -> dict[str, Any]:
    from tutela.consent import may_process

    # Answered on the event loop, without a worker-thread hop: after warm-up may_process is an
    # in-memory lookup of a few µs (its cache checks the store's watermark every 250 ms); a cold
    # decision costs one indexed query. The hop would cost more than the call (bench/http.py).
    decision = may_process(tutela, subject_key, purpose, tenant=scoped_tenant(principal, tenant))
    return {"allowed": decision.allowed, "reason": decision.reason, "code": decision.code}


@router.get("/consent/history", summary="Every consent event of a subject")
def history(subject_key: str = Query(pattern=_KEY), tenant: str | None = Query(None, max_length=100),
            tutela: Tutela = Depends(get_tutela),
            principal: Principal = Depends(require(Permission.CONSENT_READ))) -> list[dict[str, Any]]:
    from tutela.consent import consent_history

    return consent_history(tutela, subject_key, tenant=scoped_tenant(principal, tenant))


@router.get("/notices", summary="The notices of every purpose (latest versions and history)")
def notices(purpose: str | None = Query(None, max_length=100), tutela: Tutela = Depends(get_tutela),
            _principal: Principal = Depends(require(Permission.CONSENT_READ))) -> list[dict[str, Any]]:
    from tutela.consent import list_notices

    return [n.as_dict() for n in list_notices(tutela, purpose)]
