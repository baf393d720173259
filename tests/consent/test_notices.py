"""Notices: versions, the material flag, hashes of the exact text."""

from __future__ import annotations

import hashlib

import pytest

from tutela.consent import create_notice, get_notice, list_notices
from tutela.errors import InvalidInput, NotFound


def test_versions_and_material_flag(tutela):
    first = create_notice(tutela, "newsletter", "Weekly mail.", material=False, actor="op")
    assert (first.version, first.material) == (1, True)  # the first version is always material
    second = create_notice(tutela, "newsletter", "Weekly mail, fixed — für alle.", material=False, actor="op")
    assert (second.version, second.material) == (2, False)
    assert second.sha256 == hashlib.sha256("Weekly mail, fixed — für alle.".encode()).hexdigest()
    assert get_notice(tutela, "newsletter").version == 2
    assert get_notice(tutela, "newsletter", 1).text == "Weekly mail."
    assert [n.version for n in list_notices(tutela, "newsletter")] == [1, 2]
    assert list_notices(tutela, "analytics") == []


def test_bad_notices(sqlite_tutela):
    with pytest.raises(InvalidInput, match="not declared"):
        create_notice(sqlite_tutela, "telepathy", "x", actor="op")
    with pytest.raises(InvalidInput, match="needs a text"):
        create_notice(sqlite_tutela, "newsletter", "  ", actor="op")
    with pytest.raises(NotFound, match="no notice yet"):
        get_notice(sqlite_tutela, "newsletter")
    create_notice(sqlite_tutela, "newsletter", "x", actor="op")
    with pytest.raises(NotFound, match="no notice version 9"):
        get_notice(sqlite_tutela, "newsletter", 9)
    assert len(list_notices(sqlite_tutela)) == 1
