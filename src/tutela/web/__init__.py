"""The web pages over the API's app: the DPO/operator dashboard and the public privacy center.

Jinja2 templates and htmx (vendored, BSD-0 licence); no inline scripts, so the strict
Content-Security-Policy holds. Pages are HTTP only and call the same service layer as the API.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from tutela.web.render import STATIC_DIR


def install(app: FastAPI) -> None:
    """Mount the static files, the dashboard and the privacy center on ``app``."""
    from tutela.web import dashboard, privacy

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(dashboard.router)
    app.include_router(privacy.router)
    app.state.html_errors = {"/dashboard": dashboard.error_page, "/privacy": privacy.error_page}

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/dashboard", status_code=303)
