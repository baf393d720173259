"""Keyed hashing of identifiers: stable pseudonyms that only the keyring's holder can recompute.

An identifier is first normalised (e-mail: trimmed and lower-cased; phone: E.164), then hashed
with HMAC-SHA-256 under the keyring's hashing key. The result names the key it was made with::

    t1:<key id>:<64 lowercase hex>

so that after a key rotation old pseudonyms can still be matched (try every ``hash_key_ids``).
The same person always gives the same pseudonym — unlike a random salt per hash — which is what
suppression ("never mail again") and authority lookups need.

``md5_compat`` reads the plain MD5 hashes that older tools (e.g. Mautic GDPR plugins) stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from typing import TYPE_CHECKING

import phonenumbers

from tutela.errors import InvalidInput

if TYPE_CHECKING:
    from tutela.crypto.keyring import Keyring

SCHEME = "t1"
_KEYED_HASH = re.compile(r"^t1:[0-9a-f]{6}:[0-9a-f]{64}\Z")
_KEY_ID = re.compile(r"^[0-9a-f]{6}\Z")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\Z")


def normalise_email(value: str) -> str:
    """Trim, apply Unicode NFC and lower-case an e-mail address; InvalidInput if it is not one."""
    if not isinstance(value, str):
        raise InvalidInput("an e-mail address must be text")
    text = unicodedata.normalize("NFC", value).strip().lower()
    if not _EMAIL.match(text):
        raise InvalidInput("the value given as e-mail address is not one (expected name@domain, no spaces)")
    local, domain = text.rsplit("@", 1)
    if domain.startswith(".") or domain.endswith(".") or ".." in domain:
        raise InvalidInput("the domain of the e-mail address given is malformed")
    return text


def normalise_phone(value: str, region: str | None = None) -> str:
    """The phone number in E.164 (``+4930123456``); InvalidInput when it is not a valid number.

    Without a ``region`` (ISO 3166 two-letter code) the number must start with ``+`` and its country
    code, since ``030 123456`` alone does not say which country it belongs to.
    """
    if not isinstance(value, str):
        raise InvalidInput("a phone number must be text")
    try:
        number = phonenumbers.parse(value.strip(), region.upper() if region else None)
    except phonenumbers.NumberParseException:
        hint = "" if region else " (give it with its country code, e.g. +49 …, or a region)"
        raise InvalidInput(f"the value given as phone number cannot be read as one{hint}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("the value given as phone number is not a valid number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_identity(kind: str, value: str, region: str | None = None) -> str:
    """Normalise an identifier of ``kind`` (``email``, ``phone`` or any other identity kind).

    Other kinds are trimmed and Unicode-normalised (NFC), case kept; empty values are refused.
    """
    if kind == "email":
        return normalise_email(value)
    if kind == "phone":
        return normalise_phone(value, region)
    if not isinstance(value, str):
        value = str(value)
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InvalidInput(f"the {kind} given is empty")
    return text


def keyed_hash_normalised(key: bytes, key_id: str, normalised: str) -> str:
    """``t1:<key_id>:<hmac>`` of an already normalised value (for bulk work; no normalisation)."""
    digest = hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{SCHEME}:{key_id}:{digest}"


def keyed_hash(keyring: Keyring, kind: str, value: str, key_id: str | None = None) -> str:
    """The keyed hash of an identifier with key ``key_id`` (the current key by default)."""
    key_id = key_id or keyring.current_hash_key_id
    if not _KEY_ID.match(key_id):
        raise InvalidInput("a hash key id is 6 lowercase hex characters")
    return keyed_hash_normalised(keyring.hash_key(key_id), key_id, normalise_identity(kind, value))


def keyed_hashes(keyring: Keyring, kind: str, value: str) -> list[str]:
    """The identifier's keyed hash under every known key (current first), for lookups after rotation."""
    normalised = normalise_identity(kind, value)
    return [keyed_hash_normalised(keyring.hash_key(key_id), key_id, normalised)
            for key_id in keyring.hash_key_ids]


def pseudonym(keyring: Keyring, kind: str, value: str) -> str:
    """THE subject key stored in audit, consent, suppression and restrictions (current key)."""
    return keyed_hash(keyring, kind, value)


_KEYED_HASH_LENGTH = len("t1:") + 6 + 1 + 64


def is_keyed_hash(value: object) -> bool:
    """True for a ``t1:<key id>:<64 hex>`` string; never for an e-mail, phone or other identifier."""
    # Length and prefix first: bulk runs ask this of millions of plain values.
    return (isinstance(value, str) and len(value) == _KEYED_HASH_LENGTH and value.startswith("t1:")
            and _KEYED_HASH.match(value) is not None)


def hash_key_id(value: str) -> str:
    """The key id named in a keyed hash; InvalidInput if ``value`` is not one."""
    if not is_keyed_hash(value):
        raise InvalidInput("the value is not a Tutela keyed hash (t1:<key id>:<64 hex>)")
    return value.split(":", 2)[1]


def md5_compat(kind: str, value: str) -> str:
    """Hex MD5 of the normalised value: matches hashes stored by older tools. Not a pseudonym."""
    return hashlib.md5(normalise_identity(kind, value).encode("utf-8"), usedforsecurity=False).hexdigest()
