"""The API's routers, one module per area."""

from tutela.api.routers import audit, consent, erasure, keys, opendsr, policy, requests, retention

ROUTERS = [policy.router, audit.router, keys.router, requests.router, consent.router, erasure.router,
           retention.router, opendsr.router]
