"""Roles and what each may do: the one permission table of the service (R25, least privilege).

- ``auditor`` reads: policy, record, audit, requests, consent, retention plan — changes nothing;
- ``operator`` works its own tenant's requests and consent;
- ``dpo`` does everything about personal data, including the authority lookup and retention runs;
- ``admin`` does everything a DPO does and manages API keys and settings.

A key's tenant (if any) further limits every query to that tenant; that is enforced in the
service layer by passing the principal's tenant, not here.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    DPO = "dpo"
    OPERATOR = "operator"
    AUDITOR = "auditor"


class Permission(StrEnum):
    POLICY_READ = "policy.read"
    AUDIT_READ = "audit.read"
    REQUESTS_READ = "requests.read"
    REQUESTS_WRITE = "requests.write"
    REQUESTS_RUN = "requests.run"
    CONSENT_READ = "consent.read"
    CONSENT_WRITE = "consent.write"
    SUPPRESSION_CHECK = "suppression.check"
    LOOKUP = "erasure.lookup"
    RETENTION_READ = "retention.read"
    RETENTION_RUN = "retention.run"
    KEYS_MANAGE = "keys.manage"


_READ = {Permission.POLICY_READ, Permission.AUDIT_READ, Permission.REQUESTS_READ,
         Permission.CONSENT_READ, Permission.RETENTION_READ}

#: The permission table, in one place.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AUDITOR: frozenset(_READ),
    Role.OPERATOR: frozenset({Permission.POLICY_READ, Permission.REQUESTS_READ, Permission.REQUESTS_WRITE,
                              Permission.REQUESTS_RUN, Permission.CONSENT_READ, Permission.CONSENT_WRITE,
                              Permission.SUPPRESSION_CHECK}),
    Role.DPO: frozenset(set(Permission) - {Permission.KEYS_MANAGE}),
    Role.ADMIN: frozenset(Permission),
}


def allows(role: Role | str, permission: Permission) -> bool:
    """True when ``role`` grants ``permission``."""
    return permission in PERMISSIONS[Role(role)]
