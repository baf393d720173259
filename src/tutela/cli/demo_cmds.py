"""CLI verbs of this area (thin wrappers over the core)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's verbs to the root app."""
