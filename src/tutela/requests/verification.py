"""One-time codes that prove a requester controls the identity they gave (R11, Art. 12(6)).

A code is ``CODE_DIGITS`` random digits, e-mailed once, stored only as an Argon2id hash, valid
for ``CODE_LIFETIME``, with ``MAX_ATTEMPTS`` tries; after that the request is locked until a new
code is sent. A code works once: a verified request has no stored code left to match.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

CODE_DIGITS = 8
CODE_LIFETIME = timedelta(minutes=15)
MAX_ATTEMPTS = 5

# OWASP's minimum Argon2id profile: a code lives 15 minutes, so this is ample and stays fast.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def new_code() -> str:
    """A fresh random code of ``CODE_DIGITS`` digits (leading zeros kept)."""
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(code: str) -> str:
    """The Argon2id hash stored in place of the code."""
    return _hasher.hash(code)


def code_matches(stored_hash: str, code: str) -> bool:
    """Whether ``code`` (spaces and dashes ignored) is the one whose hash is stored."""
    cleaned = "".join(ch for ch in str(code) if ch.isdigit())
    if len(cleaned) != CODE_DIGITS:
        return False
    try:
        return _hasher.verify(stored_hash, cleaned)
    except (VerificationError, InvalidHashError):
        return False


def code_message(code: str, request_type: str, controller: str) -> tuple[str, str]:
    """Subject and body of the e-mail that carries a code."""
    subject = f"Your verification code for your {request_type} request"
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    body = (
        f"Hello,\n\n{controller} received a {request_type} request for this e-mail address.\n"
        f"To confirm that it comes from you, enter this code:\n\n    {code}\n\n"
        f"The code is valid for {minutes} minutes and can be used once. If you did not make this "
        "request, ignore this message; nothing will happen.\n"
    )
    return subject, body
