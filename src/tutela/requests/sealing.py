"""Sealing what a request must keep secret while it is open.

The raw identities (needed to send the code and to find the subject's rows) and the new values
of a rectification are sealed with AES-256-GCM (:func:`tutela.crypto.encryption.seal`: the key
generation's id is kept with it, so rotation does not lock them out), the request id bound as
associated data so a sealed blob cannot be moved to another request. The blob is wiped when the
request is completed or rejected. Stored exports are sealed the same way.
"""

from __future__ import annotations

import json
from typing import Any

from tutela.crypto.encryption import seal as seal_value
from tutela.crypto.encryption import unseal as unseal_value
from tutela.errors import ConfigurationError, InvalidInput


def seal(keyring, context: str, data: bytes) -> bytes:
    """Encrypt ``data`` bound to ``context`` (e.g. the request id)."""
    return seal_value(keyring, data, context.encode())


def unseal(keyring, context: str, blob: bytes) -> bytes:
    """The data sealed by :func:`seal`; ConfigurationError when this keyring cannot open it."""
    try:
        return unseal_value(keyring, blob, context.encode())
    except InvalidInput:
        raise ConfigurationError("sealed request data cannot be opened with this keyring's keys "
                                 "(was the keyring replaced?)") from None


def seal_json(keyring, context: str, value: Any) -> bytes:
    return seal(keyring, context, json.dumps(value, separators=(",", ":")).encode())


def unseal_json(keyring, context: str, blob: bytes) -> Any:
    return json.loads(unseal(keyring, context, blob))
