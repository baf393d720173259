"""Authenticated encryption (AES-256-GCM) of small values with associated data.

Areas seal with :func:`seal` / :func:`unseal`, which take the keyring and store the key
generation's id in front of the ciphertext, so what was sealed still opens after `keys rotate`.

A ciphertext is ``version byte (1) || 12-byte random nonce || GCM ciphertext and tag``. The
associated data (e.g. ``b"table.column:row id"``) is authenticated but not stored: decrypting
with different associated data fails, so a value cannot be moved to another row unnoticed.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tutela.errors import InvalidInput, NotFound

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


_SEALED = b"\x02"
_KEY_ID_BYTES = 3  # the keyring's 6-hex-character generation id


def seal(keyring, plaintext: bytes, aad: bytes | None = None) -> bytes:
    """Encrypt under the keyring's current key: ``0x02 || key id (3 bytes) ||`` :func:`encrypt` output."""
    key_id = keyring.current_key_id
    return _SEALED + bytes.fromhex(key_id) + encrypt(keyring.encryption_key_for(key_id), plaintext, aad)


def unseal(keyring, blob: bytes, aad: bytes | None = None) -> bytes:
    """Open what :func:`seal` made, with whichever key generation sealed it.

    InvalidInput when the blob is malformed or altered, or its key is not in this keyring.
    """
    blob = bytes(blob)
    if len(blob) < 1 + _KEY_ID_BYTES or blob[:1] != _SEALED:
        raise InvalidInput("the value is not a sealed Tutela value")
    key_id = blob[1:1 + _KEY_ID_BYTES].hex()
    try:
        key = keyring.encryption_key_for(key_id)
    except NotFound:
        raise InvalidInput(f"the value was sealed with key '{key_id}', which this keyring does not hold") from None
    return decrypt(key, blob[1 + _KEY_ID_BYTES:], aad)
