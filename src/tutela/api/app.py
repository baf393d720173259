"""The application factory: ``create_app(tutela)`` → the FastAPI app behind ``tutela serve``.

Handlers are HTTP only: they check the caller's role, pass the caller's tenant into the service
layer and translate its results; every rule lives in the core modules.
"""

from __future__ import annotations

import secrets

from fastapi import FastAPI

from tutela import __version__
from tutela.api import problems
from tutela.api.middleware import AccessLog, BodySizeLimit, SecurityHeaders
from tutela.api.ratelimit import RateLimiter
from tutela.api.settings import ServiceSettings
from tutela.auth import CachedAuthenticator
from tutela.engine import Tutela


def create_app(tutela: Tutela, settings: ServiceSettings | None = None, *, with_web: bool = True) -> FastAPI:
    """Build the service for ``tutela``: API under ``/api/v1``, OpenDSR under ``/opendsr``, and
    (``with_web``) the dashboard under ``/dashboard`` and the privacy center under ``/privacy``."""
    from tutela.api.routers import ROUTERS

    settings = settings or ServiceSettings.from_env()
    app = FastAPI(
        title="Tutela",
        version=__version__,
        description="GDPR data-protection engine: data-subject requests, consent, retention, "
                    "audit and the record of processing, for one policy.",
        docs_url=None, redoc_url=None,  # the CDN-hosted UIs would break the strict CSP
    )
    app.state.tutela = tutela
    app.state.settings = settings
    app.state.authenticate = CachedAuthenticator(tutela, ttl=settings.auth_cache_seconds)
    app.state.rate_limiter = RateLimiter()
    app.state.session_secret = (settings.session_secret or secrets.token_urlsafe(32)).encode()
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    if with_web:
        from tutela.web import install as install_web

        install_web(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)
    return app
