"""Errors as RFC 7807 problem documents: one mapping from Tutela's named errors to HTTP statuses.

Every error the API answers is ``application/problem+json`` with ``type``, ``title``, ``status``
and ``detail``. Unexpected failures answer 500 with a fixed sentence; their details go to the
log by exception class only, never with request values.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tutela.errors import TutelaError

log = logging.getLogger("tutela.api")

PROBLEM_TYPE = "application/problem+json"


def problem(status: int, detail: str, *, headers: dict[str, str] | None = None, **extra) -> JSONResponse:
    """A problem+json response."""
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict]:
    # Only where and what: pydantic's "input" would echo personal values back and into logs.
    return [{"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", ""))}
            for err in exc.errors()]


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""

    @app.exception_handler(TutelaError)
    async def tutela_error(request: Request, exc: TutelaError) -> Response:
        for prefix, render in getattr(request.app.state, "html_errors", {}).items():
            if request.url.path.startswith(prefix):
                if exc.http_status >= 500:
                    log.error("server-side configuration error: %s", type(exc).__name__)
                    status = exc.http_status
                    exc = TutelaError("the service cannot do this right now; please try again later")
                    exc.http_status = status
                response = render(request, exc)
                if getattr(exc, "retry_after", None):
                    response.headers["Retry-After"] = str(exc.retry_after)
                return response
        headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
        if getattr(exc, "retry_after", None):
            headers = {"Retry-After": str(exc.retry_after)}
        if exc.http_status >= 500:
            log.error("server-side configuration error: %s", type(exc).__name__)
            return problem(exc.http_status, "the service is not configured correctly; see its log")
        return problem(exc.http_status, exc.message, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, "the request is malformed", errors=_validation_errors(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected %s while serving a request", type(exc).__name__)
        return problem(500, "an unexpected error occurred; it has been logged")
