"""Status callbacks (OpenDSR ``status_callback_urls``): each registered URL receives the request's
OpenDSR status document, signed with the keyring's Ed25519 key, whenever the request's status has
changed since the last delivery.

Delivery is a sweep, not a hook: :func:`deliver_due` finds in one statement every callback whose
request's status differs from the status last delivered to it, so a change made by any interface
(API, dashboard, CLI, privacy center) is reported. A failed delivery is retried on the next sweep,
up to :data:`MAX_ATTEMPTS` times per status. Delivering a status twice after a crash is possible
(at-least-once); receivers tell duplicates by ``subject_request_id`` and ``request_status``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import sqlalchemy as sa

from tutela.clock import utcnow
from tutela.errors import InvalidInput
from tutela.opendsr.tables import callbacks

if TYPE_CHECKING:
    from tutela.engine import Tutela

MAX_URLS = 5
MAX_ATTEMPTS = 10
SIGNATURE_HEADER = "X-OpenDSR-Signature"

#: ``post(url, body_bytes, headers) -> HTTP status``; raises OSError-like errors on failure
Poster = Callable[[str, bytes, dict[str, str]], int]


def check_url(url: str, *, allow_http: bool = False) -> str:
    """The URL when it is an absolute https URL (http only with ``allow_http``); InvalidInput otherwise."""
    parts = urlsplit(url) if isinstance(url, str) else None
    schemes = ("https", "http") if allow_http else ("https",)
    if parts is None or parts.scheme not in schemes or not parts.hostname or len(url) > 2000 \
            or parts.username or parts.password:
        raise InvalidInput(f"a status callback URL must be an absolute {' or '.join(schemes)} URL without "
                           "credentials, at most 2,000 characters")
    return url


def register_callbacks(tutela: Tutela, request_id: str, urls: Sequence[str], *, tenant: str | None,
                       allow_http: bool = False) -> int:
    """Remember ``urls`` for ``request_id`` (already created for ``tenant``); returns how many."""
    if len(urls) > MAX_URLS:
        raise InvalidInput(f"at most {MAX_URLS} status callback URLs per request")
    checked = [check_url(u, allow_http=allow_http) for u in dict.fromkeys(urls)]
    if not checked:
        return 0
    now = utcnow()
    with tutela.store.engine.begin() as conn:
        conn.execute(callbacks.insert(), [{"request_id": request_id, "tenant": tenant, "url": url,
                                           "created_at": now, "updated_at": now} for url in checked])
    return len(checked)


def due_query(limit: int) -> sa.Select:
    """Callbacks whose request's status differs from the one last delivered (and not given up)."""
    from tutela.requests.tables import requests

    return (sa.select(callbacks.c.id, callbacks.c.url, callbacks.c.request_id, callbacks.c.tenant,
                      requests.c.status)
            .join(requests, requests.c.id == callbacks.c.request_id)
            .where(sa.or_(callbacks.c.delivered_status.is_(None), callbacks.c.delivered_status != requests.c.status),
                   callbacks.c.attempts < MAX_ATTEMPTS)
            .order_by(callbacks.c.id).limit(limit))


def deliver_due(tutela: Tutela, *, post: Poster | None = None, limit: int = 100) -> int:
    """Deliver the signed status document to every due callback (at most ``limit``); returns how
    many were delivered. Failures are counted on the callback and retried on the next sweep."""
    from tutela.crypto.signing import sign_document
    from tutela.requests.model import to_opendsr
    from tutela.requests.service import RequestService

    send = post or _post
    with tutela.store.engine.connect() as conn:
        due = conn.execute(due_query(limit)).all()
    delivered = 0
    for row in due:
        request = RequestService(tutela, "opendsr-callbacks", tenant=row.tenant).show(row.request_id)
        document = sign_document(tutela.keyring, to_opendsr(request))
        body = json.dumps(document, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: document["signature"]["value"]}
        error = None
        try:
            status = send(row.url, body, headers)
            if not 200 <= status < 300:
                error = f"the receiver answered HTTP {status}"
        except Exception as exc:  # noqa: BLE001 - any transport failure is retried on the next sweep
            error = f"delivery failed: {type(exc).__name__}"
        values = {"updated_at": utcnow()}
        if error is None:
            values.update(delivered_status=request.status.value, attempts=0, last_error=None)
            delivered += 1
        else:
            values.update(attempts=callbacks.c.attempts + 1, last_error=error)
        with tutela.store.engine.begin() as conn:
            conn.execute(callbacks.update().where(callbacks.c.id == row.id).values(**values))
    return delivered


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    import httpx

    return httpx.post(url, content=body, headers=headers, timeout=5.0, follow_redirects=False).status_code
