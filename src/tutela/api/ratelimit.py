"""In-memory sliding-window rate limits for the public intake and code verification.

Limits are kept per client address and per identity (a hash of the e-mail, never the e-mail),
so neither one client nor many clients aiming at one person can flood intake or guess codes.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from hashlib import sha256

from tutela.errors import RateLimited

__all__ = ["Limit", "RateLimited", "RateLimiter", "identity_key"]


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events per ``seconds``."""

    count: int
    seconds: float


class RateLimiter:
    """Counts events per (bucket, key) in a sliding window; thread-safe."""

    def __init__(self, max_keys: int = 100_000):
        self._events: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self.max_keys = max_keys

    def hit(self, bucket: str, key: str, limit: Limit) -> None:
        """Count one event; raise :class:`RateLimited` when ``limit`` is exceeded."""
        now = time.monotonic()
        with self._lock:
            if len(self._events) > self.max_keys:
                self._prune(now)
            window = self._events.setdefault((bucket, key), deque())
            while window and window[0] <= now - limit.seconds:
                window.popleft()
            if len(window) >= limit.count:
                retry = max(1, int(window[0] + limit.seconds - now + 1))
                raise RateLimited(f"too many attempts; try again in {retry} seconds", retry)
            window.append(now)

    def _prune(self, now: float, horizon: float = 3600.0) -> None:
        for key in [k for k, w in self._events.items() if not w or w[-1] < now - horizon]:
            del self._events[key]


def identity_key(value: str) -> str:
    """A non-reversible in-memory key for an identity (normalised lower-case e-mail)."""
    return sha256(value.strip().lower().encode()).hexdigest()
