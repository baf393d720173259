"""The audit trail: query events and verify the hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query

from tutela.api.deps import get_tutela, require, scoped_tenant
from tutela.auth import Permission, Principal
from tutela.engine import Tutela

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


def event_json(event: Any) -> dict[str, Any]:
    """An audit event as JSON (its fields are pseudonymous by construction)."""
    return event.as_dict()


@router.get("/events", summary="Audit events, newest last, filtered")
def list_events(action: str | None = Query(None, max_length=100),
                subject: str | None = Query(None, max_length=200, description="a pseudonym (t1:…)"),
                since: datetime | None = None, until: datetime | None = None,
                tenant: str | None = Query(None, max_length=100),
                limit: int = Query(100, ge=1, le=1000),
                tutela: Tutela = Depends(get_tutela),
                principal: Principal = Depends(require(Permission.AUDIT_READ))) -> list[dict[str, Any]]:
    events = tutela.audit.query(action=action, subject=subject, tenant=scoped_tenant(principal, tenant),
                                since=since, until=until, limit=limit)
    return [event_json(e) for e in events]


@router.get("/verify", summary="Verify the audit hash chain")
def verify(tutela: Tutela = Depends(get_tutela),
           _principal: Principal = Depends(require(Permission.AUDIT_READ))) -> dict[str, Any]:
    result = tutela.audit.verify()
    return {"ok": result.ok, "checked": result.checked, "first_bad_seq": result.first_bad_seq,
            "problem": result.problem}
