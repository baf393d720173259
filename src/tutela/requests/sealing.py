"""Sealing what a request must keep secret while it is open.

The raw identities (needed to send the code and to find the subject's rows) and the new values
of a rectification are encrypted with AES-256-GCM (:mod:`tutela.crypto.encryption`) under the
keyring's encryption key, the request id bound as associated data so a sealed blob cannot be
moved to another request. The blob is wiped when the request is completed or rejected. Stored
exports are sealed the same way.
"""

from __future__ import annotations

import json
from typing import Any

from tutela.crypto.encryption import decrypt, encrypt
from tutela.errors import ConfigurationError, InvalidInput


def seal(key: bytes, context: str, data: bytes) -> bytes:
    """Encrypt ``data`` bound to ``context`` (e.g. the request id)."""
    return encrypt(key, data, context.encode())


def unseal(key: bytes, context: str, blob: bytes) -> bytes:
    """The data sealed by :func:`seal`; ConfigurationError when this keyring did not seal it."""
    try:
        return decrypt(key, bytes(blob), context.encode())
    except InvalidInput:
        raise ConfigurationError("sealed request data cannot be opened with this keyring's encryption key "
                                 "(was the keyring replaced?)") from None


def seal_json(key: bytes, context: str, value: Any) -> bytes:
    return seal(key, context, json.dumps(value, separators=(",", ":")).encode())


def unseal_json(key: bytes, context: str, blob: bytes) -> Any:
    return json.loads(unseal(key, context, blob))
