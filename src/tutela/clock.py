"""The one clock of the engine store: naive UTC, which every supported database stores alike."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current UTC time without a timezone (the engine store keeps naive UTC on every database)."""
    return datetime.now(UTC).replace(tzinfo=None)
