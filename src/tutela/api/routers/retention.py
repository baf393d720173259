"""Retention (R4, R5): the plan with counts, and a run. Rules span every tenant, so only keys
bound to no tenant may see or run them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from tutela.api.deps import get_tutela, require
from tutela.auth import Permission, Principal
from tutela.engine import Tutela
from tutela.errors import InvalidInput, NotAllowed

router = APIRouter(prefix="/api/v1/retention", tags=["retention"])


class RunIn(BaseModel):
    confirm: bool = Field(description="must be true: a run deletes or anonymises rows for good")
    rule: str | None = Field(None, max_length=200, description="one rule (`table` or `system.table`)")


def _global_only(principal: Principal) -> None:
    if principal.tenant is not None:
        raise NotAllowed("retention rules span every tenant; use a key bound to no tenant")


@router.get("/plan", summary="What each retention rule would remove now, with counts")
def plan(rule: str | None = Query(None, max_length=200), tutela: Tutela = Depends(get_tutela),
         principal: Principal = Depends(require(Permission.RETENTION_READ))) -> list[dict[str, Any]]:
    from tutela.retention import plan_retention

    _global_only(principal)
    return [p.to_dict() for p in plan_retention(tutela, only=rule)]


@router.post("/run", summary="Run the retention rules now (bounded batches, audited)")
def run(body: RunIn, tutela: Tutela = Depends(get_tutela),
        principal: Principal = Depends(require(Permission.RETENTION_RUN))) -> list[dict[str, Any]]:
    if not body.confirm:
        raise InvalidInput("set confirm to true to run retention; it deletes data for good")
    return run_and_record(tutela, principal, rule=body.rule)


def run_and_record(tutela: Tutela, principal: Principal, rule: str | None = None) -> list[dict[str, Any]]:
    """Run retention as ``principal`` (audited by the retention module)."""
    from tutela.retention import run_retention

    _global_only(principal)
    return [r.to_dict() for r in run_retention(tutela, only=rule, actor=principal.actor)]
