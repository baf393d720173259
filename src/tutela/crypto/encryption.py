"""Authenticated encryption (AES-256-GCM) of small values with associated data.

A ciphertext is ``version byte (1) || 12-byte random nonce || GCM ciphertext and tag``. The
associated data (e.g. ``b"table.column:row id"``) is authenticated but not stored: decrypting
with different associated data fails, so a value cannot be moved to another row unnoticed.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tutela.errors import InvalidInput

_VERSION = b"\x01"
_NONCE_BYTES = 12


def encrypt(key: bytes, plaintext: bytes, aad: bytes | None = None) -> bytes:
    """Encrypt ``plaintext`` with a 32-byte key; a fresh random nonce every call."""
    if len(key) != 32:
        raise InvalidInput("an AES-256 key is 32 bytes")
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, ciphertext: bytes, aad: bytes | None = None) -> bytes:
    """Decrypt what :func:`encrypt` made; InvalidInput if the key, data or aad do not match."""
    if len(key) != 32:
        raise InvalidInput("an AES-256 key is 32 bytes")
    if len(ciphertext) < 1 + _NONCE_BYTES + 16 or ciphertext[:1] != _VERSION:
        raise InvalidInput("the value is not a Tutela ciphertext (too short or unknown version)")
    nonce, body = ciphertext[1:1 + _NONCE_BYTES], ciphertext[1 + _NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise InvalidInput("the value cannot be decrypted: wrong key, or it was altered") from None
