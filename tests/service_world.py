"""A running service over the requests tests' shop world: engine, app, a client, keys per role/tenant.

Tenants t1 and t2 both have Alice (same e-mail); keys exist for every role, bound to t1, to t2 and
to no tenant. Mail goes to a real local SMTP server.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "requests"))

from requests_world import ALICE, BOB, make_tutela, seed  # noqa: E402

from tutela.api import create_app  # noqa: E402
from tutela.api.settings import ServiceSettings  # noqa: E402
from tutela.auth import create_key  # noqa: E402

ROLES = ("admin", "dpo", "operator", "auditor")
__all__ = ["ALICE", "BOB", "ROLES", "World", "build_world", "hidden", "sign_in"]


@dataclass
class World:
    tutela: object
    app: object
    #: (role, tenant or None) → presented key
    keys: dict[tuple[str, str | None], str] = field(default_factory=dict)

    def key(self, role: str, tenant: str | None = None) -> str:
        """The key of ``role`` bound to ``tenant`` (created on first use)."""
        if (role, tenant) not in self.keys:
            self.keys[(role, tenant)] = create_key(self.tutela, role, tenant=tenant, label="test")[1]
        return self.keys[(role, tenant)]

    def auth(self, role: str, tenant: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(role, tenant)}"}


def build_world(db_url: str, store_url: str, tmp_path: Path, smtp_port: int, *,
                settings: ServiceSettings | None = None) -> World:
    seed(db_url)
    tutela = make_tutela(db_url, store_url, tmp_path, smtp_port=smtp_port)
    app = create_app(tutela, settings or ServiceSettings(session_secret="test-secret"))
    return World(tutela, app)


@pytest.fixture
def world(store_url, tmp_path, monkeypatch, smtp_server):
    """The service over the shop world on SQLite (HTTP behaviour does not depend on the database).

    Import it into a conftest or test module together with ``smtp_server``.
    """
    monkeypatch.setenv("TUTELA_EXPORT_DIR", str(tmp_path / "exports"))
    built = build_world(f"sqlite:///{tmp_path / 'shop.db'}", store_url, tmp_path, smtp_server.port)
    yield built
    built.tutela.close()


@pytest.fixture(autouse=True)
def cheap_key_hashing(monkeypatch):
    """Argon2 with minimal cost in service tests: keys are created by the dozen here, and the
    production parameters are asserted in tests/api/test_keys.py."""
    from argon2 import PasswordHasher

    from tutela.auth import keys

    monkeypatch.setattr(keys, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def hidden(html: str, name: str) -> str:
    """The value of the hidden input ``name`` in a page."""
    match = re.search(rf'name="{re.escape(name)}" value="([^"]+)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def sign_in(client, key: str) -> str:
    """Sign in through the login form; return the session's CSRF token (from the next page)."""
    form = client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={"key": key, "csrf": hidden(form.text, "csrf")})
    assert response.status_code == 303, response.text
    return hidden(client.get("/dashboard").text, "csrf")
