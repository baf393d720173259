"""Suppression check (R8) and the authority lookup (R9). Identities travel in POST bodies, never
in URLs, so they stay out of access logs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from tutela.api.deps import get_tutela, require
from tutela.auth import Permission, Principal
from tutela.engine import Tutela
from tutela.errors import NotAllowed

router = APIRouter(prefix="/api/v1", tags=["erasure"])


class IdentityIn(BaseModel):
    kind: str = Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$", examples=["email"])
    value: str = Field(min_length=1, max_length=320, examples=["ada@example.com"])


@router.post("/suppression/check", summary="May this identity never be contacted again?")
def suppression_check(body: IdentityIn, tutela: Tutela = Depends(get_tutela),
                      _principal: Principal = Depends(require(Permission.SUPPRESSION_CHECK))) -> dict[str, bool]:
    from tutela.erasure import is_suppressed

    return {"suppressed": is_suppressed(tutela, body.kind, body.value)}


@router.post("/lookup", summary="Authority lookup: the pseudonymised records and history of an identity")
def lookup(body: IdentityIn, tutela: Tutela = Depends(get_tutela),
           principal: Principal = Depends(require(Permission.LOOKUP))) -> dict[str, Any]:
    from tutela.erasure.lookup import lookup_identity

    if principal.tenant is not None:
        raise NotAllowed("the authority lookup spans every tenant; use a DPO key bound to no tenant")
    return lookup_identity(tutela, body.kind, body.value, actor=principal.actor).to_dict()
