"""Who may call the service: API keys with a role and an optional tenant (R25).

Core only: no web imports. The API and dashboard call :func:`authenticate` and
:meth:`Principal.require`, and pass ``Principal.tenant`` into every service call.
"""

from tutela.auth.keys import (
    CachedAuthenticator,
    KeyInfo,
    Principal,
    authenticate,
    create_key,
    list_keys,
    principal_of,
    revoke_key,
)
from tutela.auth.roles import PERMISSIONS, Permission, Role, allows

__all__ = ["PERMISSIONS", "CachedAuthenticator", "KeyInfo", "Permission", "Principal", "Role", "allows",
           "authenticate", "create_key", "list_keys", "principal_of", "revoke_key"]
