"""The canonical form of an audit event, its hash, and the fixed-width time text it stores.

Built twice — in Python (:func:`event_hash`, used when appending) and as a SQL expression
(:func:`canonical_sql`, used by PostgreSQL and MariaDB when verifying); the tamper tests on all
three databases hold both to the same hashes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa

from tutela.audit.tables import audit_events

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_sha256 = hashlib.sha256


def format_time(moment: datetime) -> str:
    """A moment as the fixed-width UTC text stored in ``at`` (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """The aware UTC datetime of a stored ``at`` text."""
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


def event_hash(seq: int, at: str, actor: str, action: str, subject: str | None, tenant: str | None,
               details: str, prev_hash: str) -> str:
    """SHA-256 of the canonical form of one event.

    The canonical form joins ``a2``, the seq and the fields with the unit separator (U+001F);
    optional fields are ``-`` when absent and ``+<value>`` when present. Appended events never hold
    U+001F or NUL (details are JSON, which escapes control characters), so a legitimate canonical
    form has exactly 8 separators: a changed row can only produce the same string if it changes
    nothing, and no two different events share a canonical form.
    """
    return _sha256("\x1f".join((
        "a2", str(seq), at, actor, action, "-" if subject is None else "+" + subject,
        "-" if tenant is None else "+" + tenant, details, prev_hash)).encode()).hexdigest()


def canonical_sql() -> sa.ColumnElement[str]:
    """The canonical form of :func:`event_hash`, built by the database from the stored columns.

    Verification then hashes one string per row instead of joining nine columns in Python. A
    NULL in a required column makes the whole string NULL, which never matches a hash.
    """
    c = audit_events.c
    sep = "\x1f"
    return ("a2" + sep + sa.cast(c.seq, sa.String) + sep + c.at + sep + c.actor + sep + c.action + sep
            + sa.func.coalesce("+" + c.subject, "-") + sep + sa.func.coalesce("+" + c.tenant, "-") + sep
            + c.details + sep + c.prev_hash)
