"""The data map and the Art. 30 record of processing activities."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response

from tutela.api.deps import get_tutela, require
from tutela.auth import Permission, Principal
from tutela.engine import Tutela

router = APIRouter(prefix="/api/v1", tags=["policy"])

_MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8",
          "md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}


def policy_summary(tutela: Tutela) -> dict[str, Any]:
    """The policy as JSON without where things live (URLs, keyring, mail credentials)."""
    data = tutela.policy.model_dump(
        mode="json", fallback=lambda v: getattr(v, "spec", None) or getattr(v, "text", None) or str(v),
        exclude={"engine": True, "systems": {"__all__": {"url"}}, "file_stores": {"__all__": {"path"}}})
    data["request_sla"] = tutela.policy.engine.request_sla.text
    return data


@router.get("/policy", summary="The data map (without connection details)")
def get_policy(tutela: Tutela = Depends(get_tutela),
               _principal: Principal = Depends(require(Permission.POLICY_READ))) -> dict[str, Any]:
    return policy_summary(tutela)


@router.get("/record", summary="The Art. 30 record of processing activities",
            response_class=PlainTextResponse,
            responses={200: {"content": {m: {} for m in _MEDIA.values()}}})
def get_record(format: Literal["json", "csv", "md", "html"] = Query("json"),
               tutela: Tutela = Depends(get_tutela),
               _principal: Principal = Depends(require(Permission.POLICY_READ))) -> Response:
    return record_response(tutela, format)


def record_response(tutela: Tutela, fmt: str) -> Response:
    """The record rendered by the policy module in ``fmt``."""
    from tutela.policy.ropa import render_ropa

    body = render_ropa(tutela.policy, fmt)
    return Response(body if isinstance(body, str | bytes) else str(body), media_type=_MEDIA[fmt])
