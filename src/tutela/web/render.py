"""Jinja2 rendering of the dashboard and privacy-center pages (autoescaped, no inline scripts)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

_HERE = Path(__file__).parent
STATIC_DIR = _HERE / "static"

environment = Environment(loader=FileSystemLoader(_HERE / "templates"),
                          autoescape=select_autoescape(("html",)), trim_blocks=True, lstrip_blocks=True)


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


environment.filters["when"] = _when


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` with the request, the controller's name and ``context``."""
    tutela = request.app.state.tutela
    html = environment.get_template(template).render(request=request, controller=tutela.policy.controller,
                                                     **context)
    return HTMLResponse(html, status_code=status_code)


def form_page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page with a form shown before sign-in: renders ``form_token`` and sets its cookie."""
    from tutela.web import sessions

    holder = HTMLResponse("")
    token = sessions.form_token(request, holder)
    rendered = page(request, template, status_code=status_code, form_token=token, **context)
    rendered.raw_headers.extend(h for h in holder.raw_headers if h[0] == b"set-cookie")
    return rendered


#: the only messages a redirect may ask a page to show (``?done=<key>``); free text in a URL
#: would let anyone put words on our pages
FLASH = {
    "run": "The request was carried out.",
    "code-sent": "A new code was sent.",
    "mark-verified": "Marked as verified.",
    "extend": "The deadline was extended by two months.",
    "reject": "The request was refused.",
    "retention": "Retention ran; the audit trail records what it removed.",
    "confirmed": "Thank you: your request is confirmed.",
}


def flash(request: Request) -> str | None:
    """The message named by ``?done=`` (None for anything unknown)."""
    return FLASH.get(request.query_params.get("done", ""))
