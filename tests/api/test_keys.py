"""API keys: creation shown once, argon2 storage, authentication, revocation, roles (all databases)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service_app import make_tutela
from tutela.auth import (
    PERMISSIONS,
    CachedAuthenticator,
    Permission,
    Role,
    authenticate,
    create_key,
    list_keys,
    revoke_key,
)
from tutela.auth.tables import api_keys
from tutela.errors import InvalidInput, NotAllowed, NotAuthenticated, NotFound


@pytest.fixture
def tutela(db_url, tmp_path):
    t = make_tutela(db_url, tmp_path)
    yield t
    t.close()


def test_key_is_stored_hashed_and_authenticates_with_role_and_tenant(tutela):
    key_id, secret = create_key(tutela, "operator", tenant="acme", label="helpdesk")
    assert secret.startswith(f"tk_{key_id}_")
    with tutela.store.engine.connect() as conn:
        stored = conn.execute(sa.select(api_keys)).mappings().one()
    assert secret not in str(dict(stored))
    assert stored["secret_hash"].startswith("$argon2id$")
    principal = authenticate(tutela, secret)
    assert (principal.role, principal.tenant, principal.key_id) == (Role.OPERATOR, "acme", key_id)
    events = tutela.audit.query(action="apikey.created")
    assert len(events) == 1 and secret not in repr(events[0])


@pytest.mark.parametrize("presented", [None, "", "tk_nothex", "Bearer abc", "tk_000000000000_" + "x" * 43])
def test_malformed_or_unknown_keys_are_refused(tutela, presented):
    with pytest.raises(NotAuthenticated):
        authenticate(tutela, presented)


def test_right_id_with_wrong_secret_is_refused(tutela):
    key_id, secret = create_key(tutela, "dpo")
    forged = f"tk_{key_id}_" + "A" * 43
    with pytest.raises(NotAuthenticated) as info:
        authenticate(tutela, forged)
    assert forged not in info.value.message


def test_revoked_key_stops_working_at_once_even_when_cached(tutela):
    key_id, secret = create_key(tutela, "admin")
    cached = CachedAuthenticator(tutela, ttl=3600)
    assert cached(secret).key_id == key_id
    revoke_key(tutela, key_id)
    with pytest.raises(NotAuthenticated):
        cached(secret)
    revoke_key(tutela, key_id)  # idempotent
    assert [k.key_id for k in list_keys(tutela)] == []
    assert [k.key_id for k in list_keys(tutela, include_revoked=True)] == [key_id]
    assert len(tutela.audit.query(action="apikey.revoked")) == 1


def test_revoke_is_limited_to_the_callers_tenant(tutela):
    key_id, _ = create_key(tutela, "operator", tenant="acme")
    with pytest.raises(NotFound):
        revoke_key(tutela, key_id, tenant="globex")
    assert [k.key_id for k in list_keys(tutela)] == [key_id]


@pytest.mark.parametrize("role,tenant", [("root", None), ("dpo", "bad tenant!"), ("admin", "x" * 101)])
def test_bad_role_or_tenant_is_refused_and_nothing_stored(tutela, role, tenant):
    with pytest.raises(InvalidInput):
        create_key(tutela, role, tenant=tenant)
    assert list_keys(tutela, include_revoked=True) == []


def test_production_hashing_is_argon2id_with_owasp_minimum_cost():
    from tutela.auth.keys import HASHER_PARAMETERS

    assert HASHER_PARAMETERS["memory_cost"] >= 19 * 1024 and HASHER_PARAMETERS["time_cost"] >= 2


def test_permission_table_is_least_privilege():
    assert all(p in PERMISSIONS[Role.ADMIN] for p in Permission)
    assert PERMISSIONS[Role.DPO] == PERMISSIONS[Role.ADMIN] - {Permission.KEYS_MANAGE}
    assert all(p.value.endswith(".read") for p in PERMISSIONS[Role.AUDITOR])
    assert Permission.LOOKUP not in PERMISSIONS[Role.OPERATOR]
    assert Permission.RETENTION_RUN not in PERMISSIONS[Role.OPERATOR]


def test_principal_require_raises_not_allowed(tutela):
    _, secret = create_key(tutela, "auditor")
    principal = authenticate(tutela, secret)
    principal.require(Permission.AUDIT_READ)
    with pytest.raises(NotAllowed):
        principal.require(Permission.REQUESTS_WRITE)
