"""Data categories: the fideslang taxonomy names (e.g. ``user.contact.email``).

The list is data (``fideslang_categories.txt``, fideslang 3.x default taxonomy, deprecated names
kept so older policies still load). A policy may use only these names.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def fideslang_categories() -> frozenset[str]:
    text = resources.files("tutela.policy").joinpath("fideslang_categories.txt").read_text()
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def closest_categories(name: str, limit: int = 3) -> list[str]:
    import difflib

    return difflib.get_close_matches(name, sorted(fideslang_categories()), n=limit)
