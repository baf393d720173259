"""Helpers shared by test modules (import as ``from support import …``; conftest modules are not importable
by name once sub-folders have their own)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dbs import server_available

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SAMPLE_POLICY = Path(__file__).parent / "policy" / "sample.yaml"
_availability: dict[str, str | None] = {}


def require_server(kind: str) -> None:
    """Skip (or, under CI, fail) when the database server of ``kind`` is unreachable."""
    if kind not in _availability:
        _availability[kind] = server_available(kind)
    reason = _availability[kind]
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
