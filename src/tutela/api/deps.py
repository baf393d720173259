"""FastAPI dependencies: the engine, the calling principal, permission checks and tenant scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from tutela.auth import Permission, Principal
from tutela.engine import Tutela
from tutela.errors import NotAuthenticated

bearer = HTTPBearer(auto_error=False, scheme_name="apiKey",
                    description="An API key `tk_…` from `tutela apikey create`.")


async def get_tutela(request: Request) -> Tutela:
    """The engine the app was created with (async: no worker-thread hop for an attribute read)."""
    return request.app.state.tutela


async def get_principal(request: Request,
                        credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    """The principal of the ``Authorization: Bearer`` key. A key verified recently is answered from
    memory; otherwise argon2 runs in a worker thread so the event loop never waits on it."""
    if credentials is None:
        raise NotAuthenticated("an API key is required (Authorization: Bearer tk_…)")
    authenticate = request.app.state.authenticate
    cached = authenticate.cached(credentials.credentials)
    if cached is not None:
        return cached
    return await run_in_threadpool(authenticate, credentials.credentials)


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency that yields the principal when its role grants ``permission``, else 403."""

    # Authenticates itself rather than depending on get_principal: one dependency level less on
    # every call (FastAPI's dependency solving is most of a cheap endpoint's cost).
    async def dependency(request: Request,
                         credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
        principal = await get_principal(request, credentials)
        principal.require(permission)
        return principal

    dependency.__name__ = f"require_{permission.value.replace('.', '_')}"
    dependency.permission = permission  # type: ignore[attr-defined] - read by the role-matrix test
    return dependency


def scoped_tenant(principal: Principal, asked: str | None) -> str | None:
    """The tenant a call works on: a tenant-bound key always works on its own tenant; a global
    key (tenant None) on the tenant it asks for, or on all."""
    return principal.tenant if principal.tenant is not None else asked


def client_address(request: Request) -> str:
    """The caller's address for rate limits (the direct peer; proxies must be configured in uvicorn)."""
    return request.client.host if request.client else "unknown"
