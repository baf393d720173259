"""Audit events: small frozen records with a stable, dotted ``action`` name.

Every engine action appends one event: who did it (``actor``), what (``action``), to which data
subject (``subject`` — always a pseudonym from :func:`tutela.crypto.hashing.pseudonym`, never a raw
identifier), for which tenant, and details that hold counts, ids and reasons, never personal values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tutela.errors import InvalidInput

#: The catalogue of action names used by Tutela's areas (name -> what happened). Other dotted
#: lowercase names are accepted too; these are the stable ones the docs list.
ACTIONS: dict[str, str] = {
    "keys.rotate": "a new master key generation was added to the keyring",
    "apikey.created": "an API key was issued",
    "apikey.revoked": "an API key was revoked",
    "retention.run": "a retention rule removed or erased expired rows",
    "erasure.forget": "a data subject was erased (Art. 17)",
    "erasure.pseudonymize": "fields were pseudonymised (unsubscribe, bounce)",
    "erasure.lookup": "an authority looked a pseudonymised identifier up",
    "erasure.tenant": "all data of one tenant was erased",
    "request.created": "a data-subject request was received",
    "request.verified": "the requester's identity was verified",
    "request.rectified": "a subject's data was rectified (Art. 16)",
    "consent.given": "consent was given for a purpose",
    "consent.withdrawn": "consent was withdrawn",
    "consent.notice_created": "a consent notice version was created",
    "consent.recorded": "a batch of consent events was recorded",
    "consent.imported": "consent records were imported",
    "demo.built": "the demo application was built",
}

_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\Z")
_EMAIL_LIKE = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}")
_valid_actions: set[str] = set()


@dataclass(frozen=True)
class AuditEvent:
    """One event of the audit log. ``seq``, ``at`` and ``hash`` are set once it is stored."""

    action: str
    actor: str
    subject: str | None = None
    tenant: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    seq: int | None = None
    hash: str | None = None

    def validate(self, details_text: str | None = None) -> None:
        """InvalidInput when the event is malformed or would store a personal identifier.

        ``details_text``, the details already serialised, lets the log skip the deep scan of
        details that cannot hold an e-mail address (no ``@`` at all).
        """
        if not isinstance(self.action, str) or self.action not in _valid_actions:
            if not isinstance(self.action, str) or len(self.action) > 100 or not _ACTION.match(self.action):
                raise InvalidInput("an audit action is a dotted lowercase name such as 'erasure.forget' "
                                   "(at most 100 characters)")
            _valid_actions.add(self.action)
        if not isinstance(self.actor, str) or not self.actor.strip() or len(self.actor) > 200:
            raise InvalidInput("an audit event needs an actor (1 to 200 characters)")
        for name, value in (("subject", self.subject), ("tenant", self.tenant)):
            if value is not None and (not isinstance(value, str) or len(value) > 100):
                raise InvalidInput(f"the audit {name} must be text of at most 100 characters")
        for text in (self.actor, self.subject or "", self.tenant or ""):
            if "\x00" in text or "\x1f" in text:
                raise InvalidInput("audit actor, subject and tenant cannot hold control characters "
                                   "NUL or U+001F")
        if self.subject is not None and "@" in self.subject and _EMAIL_LIKE.search(self.subject):
            raise InvalidInput("the audit subject looks like an e-mail address; record the subject's "
                               "pseudonym (tutela.crypto.hashing.pseudonym) instead")
        if self.at is not None and not isinstance(self.at, datetime):
            raise InvalidInput("the audit event's time must be a datetime")
        if type(self.details) is not dict and not isinstance(self.details, Mapping):
            raise InvalidInput("audit details must be a mapping of names to values")
        if details_text is None or "@" in details_text:
            _check_details(self.details, "details")

    def as_dict(self) -> dict[str, Any]:
        """The event as plain JSON-ready data."""
        return {"seq": self.seq, "at": self.at.isoformat() if self.at else None, "actor": self.actor,
                "action": self.action, "subject": self.subject, "tenant": self.tenant,
                "details": dict(self.details), "hash": self.hash}


def _check_details(value: Any, where: str) -> None:
    if isinstance(value, str):
        if "@" in value and _EMAIL_LIKE.search(value):
            raise InvalidInput(f"audit {where} holds what looks like an e-mail address; details must "
                               "not hold personal values (use counts, ids or pseudonyms)")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_details(key, f"{where} (a name)")
            _check_details(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_details(item, where)


@dataclass(frozen=True)
class VerifyResult:
    """What :meth:`AuditLog.verify` found: ``ok``, events checked, the first bad event and why."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_seq: int = 0
