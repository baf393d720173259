"""The service's settings, each declared once with its default and help (CLI and docs use this)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

from tutela.api.ratelimit import Limit


@dataclass
class ServiceSettings:
    """How ``tutela serve`` behaves. Environment variables ``TUTELA_<NAME>`` override defaults."""

    max_body_bytes: int = field(default=1_048_576, metadata={"help": "largest accepted request body"})
    intake_per_client: Limit = field(default_factory=lambda: Limit(10, 60),
                                     metadata={"help": "public request intake per client address"})
    intake_per_identity: Limit = field(default_factory=lambda: Limit(3, 3600),
                                       metadata={"help": "public request intake per e-mail"})
    verify_per_client: Limit = field(default_factory=lambda: Limit(20, 60),
                                     metadata={"help": "code confirmations per client address"})
    verify_per_request: Limit = field(default_factory=lambda: Limit(5, 3600),
                                      metadata={"help": "code confirmations per request"})
    login_per_client: Limit = field(default_factory=lambda: Limit(20, 60),
                                    metadata={"help": "dashboard sign-in attempts per client address"})
    session_minutes: int = field(default=480, metadata={"help": "dashboard session lifetime"})
    export_link_minutes: int = field(default=60, metadata={"help": "lifetime of signed export links"})
    auth_cache_seconds: float = field(default=30.0, metadata={"help": "how long a verified API key is "
                                                                       "trusted without re-hashing"})
    callback_allow_http: bool = field(default=False, metadata={
        "help": "accept http:// OpenDSR status callback URLs (https only by default)"})
    callback_sweep_seconds: float = field(default=10.0, metadata={
        "help": "how often status changes are sent to OpenDSR callback URLs"})
    secure_cookies: bool = field(default=False, metadata={"help": "mark cookies Secure (set under TLS)"})
    session_secret: str | None = field(default=None, metadata={
        "help": "secret signing dashboard sessions (TUTELA_SESSION_SECRET); random per process if unset"})

    @classmethod
    def from_env(cls, **overrides) -> ServiceSettings:
        """Defaults, then ``TUTELA_<NAME>`` variables for scalar settings, then ``overrides``."""
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f"TUTELA_{f.name.upper()}")
            if raw is None or f.type not in ("int", "float", "bool", "str | None"):
                continue
            if f.type == "bool":
                values[f.name] = raw.lower() in ("1", "true", "yes")
            elif f.type == "int":
                values[f.name] = int(raw)
            elif f.type == "float":
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        values.update(overrides)
        return cls(**values)


def describe() -> list[tuple[str, str, str]]:
    """(name, default, help) of every setting, for docs and ``--help``."""
    out = []
    for f in fields(ServiceSettings):
        default = f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]
        out.append((f.name, str(default), f.metadata.get("help", "")))
    return out
