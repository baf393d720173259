"""Ed25519 signatures over JSON documents (erasure receipts, exported reports).

The signed bytes are the document without its ``signature`` member, serialised canonically
(sorted keys, no spaces, UTF-8), so a document that went through JSON and back still verifies.
The signature names the keyring generation that made it, so documents signed before a key
rotation verify afterwards.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tutela.crypto.keyring import Keyring
from tutela.errors import NotFound

ALGORITHM = "Ed25519"


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"a {type(value).__name__} cannot be part of a signed document")


def canonical_json(doc: dict) -> bytes:
    """The exact bytes that are signed: sorted keys, compact separators, UTF-8."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_json_default).encode("utf-8")


def sign_document(keyring: Keyring, doc: dict) -> dict:
    """A copy of ``doc`` with ``signature`` = {alg, key_id, value (base64)} by the current key.

    Dates and datetimes are turned into ISO text first, so the returned document is plain JSON.
    """
    body = json.loads(canonical_json({k: v for k, v in doc.items() if k != "signature"}))
    value = keyring.signing_key.sign(canonical_json(body))
    body["signature"] = {"alg": ALGORITHM, "key_id": keyring.current_key_id,
                         "value": base64.b64encode(value).decode("ascii")}
    return body


def verify_document(doc: dict, keyring_or_verify_key: Keyring | Ed25519PublicKey) -> bool:
    """True when ``doc`` carries a valid signature by the given key (or any key of the keyring)."""
    signature = doc.get("signature") if isinstance(doc, dict) else None
    if not isinstance(signature, dict) or signature.get("alg") != ALGORITHM:
        return False
    try:
        value = base64.b64decode(str(signature.get("value", "")), validate=True)
    except (binascii.Error, ValueError):
        return False
    if isinstance(keyring_or_verify_key, Keyring):
        try:
            key = keyring_or_verify_key.verify_key_for(str(signature.get("key_id")))
        except NotFound:
            return False
    else:
        key = keyring_or_verify_key
    try:
        key.verify(value, canonical_json({k: v for k, v in doc.items() if k != "signature"}))
    except (InvalidSignature, TypeError):
        return False
    return True
