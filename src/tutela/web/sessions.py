"""Dashboard sessions and CSRF tokens, carried in signed cookies (no server-side session table).

The session cookie holds the key id, an expiry and the session's CSRF token, signed with
HMAC-SHA-256; it is HttpOnly, SameSite=Strict and Secure under TLS. Every POST form carries the
CSRF token, compared in constant time. Before sign-in (login form, privacy center) a
double-submit token is used: a random cookie that the form must echo.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from fastapi import Request, Response

from tutela.errors import NotAllowed

SESSION_COOKIE = "tutela_session"
FORM_COOKIE = "tutela_form"


@dataclass(frozen=True)
class Session:
    key_id: str
    expires: int
    csrf: str


def _sign(secret: bytes, payload: bytes) -> str:
    mac = hmac.new(secret, payload, hashlib.sha256).digest()
    return (base64.urlsafe_b64encode(payload).decode().rstrip("=") + "."
            + base64.urlsafe_b64encode(mac).decode().rstrip("="))


def _unsign(secret: bytes, token: str) -> bytes | None:
    try:
        body, mac = token.split(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        given = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
    except (ValueError, TypeError):
        return None
    expected = hmac.new(secret, payload, hashlib.sha256).digest()
    return payload if hmac.compare_digest(given, expected) else None


def sign_value(request: Request, value: dict) -> str:
    """A tamper-proof token of ``value`` under the app's session secret (also used for links)."""
    return _sign(request.app.state.session_secret, json.dumps(value, separators=(",", ":")).encode())


def unsign_value(request: Request, token: str) -> dict | None:
    """The value of a token from :func:`sign_value`, or None when forged or malformed."""
    payload = _unsign(request.app.state.session_secret, token or "")
    if payload is None:
        return None
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def read_session(request: Request) -> Session | None:
    """The signed-in session, or None (absent, forged or expired)."""
    value = unsign_value(request, request.cookies.get(SESSION_COOKIE, ""))
    if not value or not isinstance(value.get("k"), str) or not isinstance(value.get("e"), int):
        return None
    if value["e"] < time.time():
        return None
    return Session(key_id=value["k"], expires=value["e"], csrf=str(value.get("c", "")))


def start_session(request: Request, response: Response, key_id: str) -> None:
    """Set the session cookie for a freshly verified key."""
    settings = request.app.state.settings
    expires = int(time.time()) + settings.session_minutes * 60
    token = sign_value(request, {"k": key_id, "e": expires, "c": secrets.token_urlsafe(24)})
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_minutes * 60, httponly=True,
                        samesite="strict", secure=_secure(request), path="/")


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request))


def form_token(request: Request, response: Response) -> str:
    """The double-submit token for forms shown before sign-in (sets its cookie when missing)."""
    token = request.cookies.get(FORM_COOKIE)
    if not token or len(token) < 20:
        token = secrets.token_urlsafe(24)
        response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request),
                            path="/")
    return token


def check_form_token(request: Request, presented: str | None) -> None:
    """Refuse a pre-sign-in form whose token does not match its cookie."""
    cookie = request.cookies.get(FORM_COOKIE, "")
    if not cookie or not presented or not hmac.compare_digest(cookie.encode(), presented.encode()):
        raise NotAllowed("the form expired or did not come from this site; reload the page and try again")


def check_csrf(session: Session, presented: str | None) -> None:
    """Refuse a signed-in form whose CSRF token is not the session's."""
    if not presented or not hmac.compare_digest(session.csrf.encode(), presented.encode()):
        raise NotAllowed("the form expired or did not come from this site; reload the page and try again")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or bool(request.app.state.settings.secure_cookies)
