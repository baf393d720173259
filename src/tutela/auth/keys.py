"""API keys: created with a role and an optional tenant, shown once, stored as an argon2 hash.

A key reads ``tk_<key_id>_<secret>``. The key id is not secret: it finds the row, whose argon2id
hash of the whole key is then verified. Creation and revocation are audited by key id only.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from typing import TYPE_CHECKING

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tutela.auth.roles import Permission, Role, allows
from tutela.auth.tables import api_keys
from tutela.errors import InvalidInput, NotAllowed, NotAuthenticated, NotFound

if TYPE_CHECKING:
    from tutela.engine import Tutela

_PREFIX = "tk"
_KEY = re.compile(r"^tk_([0-9a-f]{12})_([A-Za-z0-9_-]{30,100})$")
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
#: argon2id at RFC 9106's low-memory profile (t=3, 64 MiB, p=4)
HASHER_PARAMETERS = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}
_hasher = PasswordHasher(**HASHER_PARAMETERS)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the role and tenant of a verified key (``tenant=None``: every tenant)."""

    role: Role
    tenant: str | None
    key_id: str

    @property
    def actor(self) -> str:
        """The name under which this caller's actions are audited."""
        return f"apikey:{self.key_id}"

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)

    def require(self, permission: Permission) -> None:
        """Raise :class:`NotAllowed` unless this principal's role grants ``permission``."""
        if not self.can(permission):
            raise NotAllowed(f"the role '{self.role}' may not do this ({permission})")


@dataclass(frozen=True)
class KeyInfo:
    """A stored key as listed: never its secret."""

    key_id: str
    role: str
    tenant: str | None
    label: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(f"'{role}' is not a role; choose one of {', '.join(r.value for r in Role)}") from None


def create_key(tutela: Tutela, role: str, tenant: str | None = None, label: str = "", *,
               actor: str | None = None) -> tuple[str, str]:
    """Create a key; return ``(key_id, key)``. The key is shown this once and never stored."""
    checked_role = _role(role)
    if tenant is not None and not _TENANT.match(tenant):
        raise InvalidInput("a tenant is 1-100 letters, digits, '_', '.', ':' or '-'")
    if len(label) > 200:
        raise InvalidInput("a key label is at most 200 characters")
    key_id = secrets.token_hex(6)
    presented = f"{_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    who = actor or tutela.actor
    with tutela.store.engine.begin() as conn:
        conn.execute(api_keys.insert().values(
            key_id=key_id, secret_hash=_hasher.hash(presented), role=checked_role.value, tenant=tenant,
            label=label, created_at=datetime.now(UTC), created_by=who))
        tutela.audit.record("apikey.created", actor=who, tenant=tenant, connection=conn,
                            key_id=key_id, role=checked_role.value)
    return key_id, presented


def list_keys(tutela: Tutela, *, tenant: str | None = None, include_revoked: bool = False) -> list[KeyInfo]:
    """Every key (of ``tenant`` when given), newest first; secrets are never returned."""
    query = sa.select(api_keys).order_by(api_keys.c.created_at.desc(), api_keys.c.key_id)
    if tenant is not None:
        query = query.where(api_keys.c.tenant == tenant)
    if not include_revoked:
        query = query.where(api_keys.c.revoked_at.is_(None))
    with tutela.store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [KeyInfo(key_id=r["key_id"], role=r["role"], tenant=r["tenant"], label=r["label"],
                    created_at=r["created_at"], created_by=r["created_by"], revoked_at=r["revoked_at"])
            for r in rows]


def revoke_key(tutela: Tutela, key_id: str, *, tenant: str | None = None, actor: str | None = None) -> None:
    """Revoke a key at once. ``tenant`` limits which keys the caller may revoke. Idempotent."""
    who = actor or tutela.actor
    where = api_keys.c.key_id == key_id
    if tenant is not None:
        where = where & (api_keys.c.tenant == tenant)
    with tutela.store.engine.begin() as conn:
        row = conn.execute(sa.select(api_keys.c.revoked_at, api_keys.c.tenant).where(where)).first()
        if row is None:
            raise NotFound(f"there is no API key with id '{key_id}'")
        if row.revoked_at is None:
            conn.execute(api_keys.update().where(where).values(revoked_at=datetime.now(UTC)))
            tutela.audit.record("apikey.revoked", actor=who, tenant=row.tenant, connection=conn, key_id=key_id)
    _revoked_locally.add(key_id)


def authenticate(tutela: Tutela, presented: str | None) -> Principal:
    """The principal of a presented key; :class:`NotAuthenticated` for anything else."""
    if not presented:
        raise NotAuthenticated("an API key is required (Authorization: Bearer tk_…)")
    match = _KEY.match(presented.strip())
    if match is None:
        raise NotAuthenticated("the API key is malformed")
    key_id = match.group(1)
    with tutela.store.engine.connect() as conn:
        row = conn.execute(sa.select(api_keys).where(api_keys.c.key_id == key_id)).mappings().first()
    if row is None or row["revoked_at"] is not None:
        raise NotAuthenticated("the API key is unknown or revoked")
    try:
        _hasher.verify(row["secret_hash"], presented.strip())
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise NotAuthenticated("the API key is unknown or revoked") from None
    return Principal(role=Role(row["role"]), tenant=row["tenant"], key_id=key_id)


def principal_of(tutela: Tutela, key_id: str) -> Principal:
    """The principal of a key id that was verified earlier (a dashboard session); no secret check."""
    with tutela.store.engine.connect() as conn:
        row = conn.execute(sa.select(api_keys).where(api_keys.c.key_id == key_id)).mappings().first()
    if row is None or row["revoked_at"] is not None:
        raise NotAuthenticated("the session's API key was revoked; sign in again")
    return Principal(role=Role(row["role"]), tenant=row["tenant"], key_id=key_id)


#: key ids revoked in this process: cached verifications of them are dropped at once
_revoked_locally: set[str] = set()


class CachedAuthenticator:
    """:func:`authenticate` with a short in-memory cache, so argon2 runs once per key per ``ttl``.

    Argon2 is deliberately slow (tens of ms); a service answering thousands of calls a second
    cannot pay it on each. A revocation made in this process takes effect at once; one made by
    another process (the CLI) within ``ttl`` seconds. The cache is keyed by a SHA-256 of the
    presented key, so no key is held in memory in the clear beyond the request.
    """

    def __init__(self, tutela: Tutela, ttl: float = 30.0, max_entries: int = 10_000):
        self.tutela = tutela
        self.ttl = ttl
        self.max_entries = max_entries
        self._cache: dict[bytes, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def cached(self, presented: str | None) -> Principal | None:
        """The principal of a key verified within ``ttl``, or None (no database, no hashing)."""
        if not presented:
            return None
        hit = self._cache.get(sha256(presented.strip().encode()).digest())
        if hit is not None and hit[0] > time.monotonic() and hit[1].key_id not in _revoked_locally:
            return hit[1]
        return None

    def __call__(self, presented: str | None) -> Principal:
        found = self.cached(presented)
        if found is not None:
            return found
        principal = authenticate(self.tutela, presented)  # raises unless the key is valid
        digest = sha256(presented.strip().encode()).digest()  # type: ignore[union-attr]
        now = time.monotonic()
        with self._lock:
            if len(self._cache) >= self.max_entries:
                self._cache.clear()
            self._cache[digest] = (now + self.ttl, principal)
        return principal
