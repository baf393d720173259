"""API keys: create (shown once), list, revoke. Admins only; a tenant admin sees its tenant only."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from tutela.api.deps import get_tutela, require
from tutela.auth import Permission, Principal, create_key, list_keys, revoke_key
from tutela.engine import Tutela
from tutela.errors import NotAllowed

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


class NewKey(BaseModel):
    role: Literal["admin", "dpo", "operator", "auditor"]
    tenant: str | None = Field(None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    label: str = Field("", max_length=200)


class CreatedKey(BaseModel):
    key_id: str
    key: str = Field(description="shown once; store it now")
    role: str
    tenant: str | None


class KeyOut(BaseModel):
    key_id: str
    role: str
    tenant: str | None
    label: str
    created_at: datetime
    created_by: str


@router.post("", status_code=201, summary="Create an API key (its secret is shown once)")
def create(body: NewKey, tutela: Tutela = Depends(get_tutela),
           principal: Principal = Depends(require(Permission.KEYS_MANAGE))) -> CreatedKey:
    tenant = body.tenant
    if principal.tenant is not None:
        if tenant not in (None, principal.tenant):
            raise NotAllowed("a tenant's admin creates keys for its own tenant only")
        tenant = principal.tenant
    key_id, key = create_key(tutela, body.role, tenant=tenant, label=body.label, actor=principal.actor)
    return CreatedKey(key_id=key_id, key=key, role=body.role, tenant=tenant)


@router.get("", summary="List active API keys")
def index(tutela: Tutela = Depends(get_tutela),
          principal: Principal = Depends(require(Permission.KEYS_MANAGE))) -> list[KeyOut]:
    return [KeyOut(key_id=k.key_id, role=k.role, tenant=k.tenant, label=k.label, created_at=k.created_at,
                   created_by=k.created_by) for k in list_keys(tutela, tenant=principal.tenant)]


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key")
def revoke(key_id: str, tutela: Tutela = Depends(get_tutela),
           principal: Principal = Depends(require(Permission.KEYS_MANAGE))) -> Response:
    revoke_key(tutela, key_id, tenant=principal.tenant, actor=principal.actor)
    return Response(status_code=204)
