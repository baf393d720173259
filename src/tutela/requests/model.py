"""What a data-subject request is: its type, its status, and its OpenDSR wire form.

Statuses follow one path (R10-R12)::

    received → verifying → verified → in_progress → completed
                                                  ↘ rejected   (from any open status)

``extended`` is a flag beside the status (Art. 12(3): once, by two further months).
OpenDSR (the wire format of existing privacy tools) knows four statuses; :func:`opendsr_status`
maps ours onto them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from tutela.errors import InvalidInput
from tutela.legal import Right

OPENDSR_API_VERSION = "1.0"


class RequestType(StrEnum):
    """The right a request exercises (Chapter III), named as in the GDPR and in OpenDSR."""

    ACCESS = "access"
    PORTABILITY = "portability"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"

    @property
    def right(self) -> Right:
        return Right(self.value)

    @classmethod
    def parse(cls, value: str) -> RequestType:
        """The type named ``value``; InvalidInput naming the known types otherwise."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise InvalidInput(f"'{value}' is not a request type; use one of: "
                               f"{', '.join(t.value for t in cls)}") from None


class Status(StrEnum):
    """Where a request is in its life."""

    RECEIVED = "received"
    VERIFYING = "verifying"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        return self not in (Status.COMPLETED, Status.REJECTED)


#: OpenDSR 1.0 request_status for each of our statuses.
_OPENDSR_STATUS = {
    Status.RECEIVED: "pending",
    Status.VERIFYING: "pending",
    Status.VERIFIED: "pending",
    Status.IN_PROGRESS: "in_progress",
    Status.COMPLETED: "completed",
    Status.REJECTED: "cancelled",
}


def opendsr_status(status: Status | str) -> str:
    """Our status as an OpenDSR ``request_status`` (pending/in_progress/completed/cancelled)."""
    return _OPENDSR_STATUS[Status(status)]


@dataclass(frozen=True)
class Identity:
    """One identifier of the subject as given (``kind`` such as email or phone, and its value)."""

    kind: str
    value: str


@dataclass
class HistoryEntry:
    """One transition or event of a request, with who did it and when (never personal values)."""

    at: datetime
    actor: str
    event: str
    from_status: str | None
    to_status: str | None
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"at": _iso(self.at), "actor": self.actor, "event": self.event,
                "from_status": self.from_status, "to_status": self.to_status, "note": self.note}


@dataclass
class DataSubjectRequest:
    """A request as stored. ``identity_kinds`` names what was given; raw values are not held here."""

    id: str
    tenant: str | None
    type: RequestType
    status: Status
    subject_type: str
    identity_kind: str
    subject_pseudonym: str
    received_at: datetime
    legal_due: date
    sla_due: datetime
    extended: bool = False
    extension_reason: str | None = None
    purpose: str | None = None
    source: str = "operator"
    verified_at: datetime | None = None
    verification: str | None = None
    locked: bool = False
    code_attempts: int = 0
    completed_at: datetime | None = None
    result: dict[str, Any] | None = None
    history: list[HistoryEntry] = field(default_factory=list)

    def overdue(self, now: datetime) -> bool:
        """Past the legal deadline (the whole due day counts) while still open."""
        return self.status.is_open and now.date() > self.legal_due

    def sla_missed(self, now: datetime) -> bool:
        """Past the internal SLA while still open."""
        return self.status.is_open and now > self.sla_due

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (pseudonym only, no raw identity)."""
        return {
            "id": self.id, "tenant": self.tenant, "type": self.type.value, "status": self.status.value,
            "subject_type": self.subject_type, "identity_kind": self.identity_kind,
            "subject": self.subject_pseudonym, "purpose": self.purpose, "source": self.source,
            "received_at": _iso(self.received_at), "legal_due": self.legal_due.isoformat(),
            "sla_due": _iso(self.sla_due), "extended": self.extended,
            "extension_reason": self.extension_reason, "verified_at": _iso(self.verified_at),
            "verification": self.verification, "locked": self.locked,
            "completed_at": _iso(self.completed_at), "result": self.result,
            "history": [h.as_dict() for h in self.history],
        }


def to_opendsr(req: DataSubjectRequest) -> dict[str, Any]:
    """The request in the OpenDSR 1.0 status-response shape.

    ``status`` is the same value as OpenDSR's ``request_status``, kept for clients that read it.
    Identities are given by kind and pseudonym only: the raw values are never sent back.
    """
    state = opendsr_status(req.status)
    return {
        "api_version": OPENDSR_API_VERSION,
        "subject_request_id": req.id,
        "subject_request_type": req.type.value,
        "subject_identities": [{"identity_type": req.identity_kind, "identity_value": req.subject_pseudonym,
                                "identity_format": "tutela-keyed-hash"}],
        "request_status": state,
        "status": state,
        "received_time": _iso(req.received_at),
        "expected_completion_time": _iso(datetime.combine(req.legal_due, datetime.max.time())
                                         .replace(microsecond=0, tzinfo=UTC)),
        "extended": req.extended,
    }


@dataclass
class NewRequest:
    """What an intake channel hands to :meth:`RequestService.create`."""

    type: RequestType
    identities: list[Identity]
    received_at: datetime | None = None
    purpose: str | None = None
    source: str = "api"


def from_opendsr(body: Any) -> NewRequest:
    """Read an OpenDSR 1.0 request body (``subject_request_type``, ``subject_identities`` …).

    Raises InvalidInput with a sentence naming the first problem; nothing is created here.
    """
    if not isinstance(body, dict):
        raise InvalidInput("an OpenDSR request body is a JSON object")
    if "subject_request_type" not in body:
        raise InvalidInput("the OpenDSR body has no subject_request_type")
    kind = RequestType.parse(body["subject_request_type"])
    raw_identities = body.get("subject_identities")
    if not isinstance(raw_identities, list) or not raw_identities:
        raise InvalidInput("subject_identities must be a non-empty list of "
                           "{identity_type, identity_value} objects")
    identities = []
    for i, item in enumerate(raw_identities):
        if not isinstance(item, dict) or not isinstance(item.get("identity_type"), str) \
                or not isinstance(item.get("identity_value"), str):
            raise InvalidInput(f"subject_identities[{i}] needs string identity_type and identity_value")
        if item.get("identity_format", "raw") != "raw":
            raise InvalidInput(f"subject_identities[{i}] must be in raw format (hashed identities "
                               "cannot receive a verification code)")
        identities.append(Identity(item["identity_type"].strip().lower(), item["identity_value"]))
    received = None
    if body.get("submitted_time"):
        try:
            received = datetime.fromisoformat(str(body["submitted_time"]).replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput("submitted_time is not an ISO 8601 time") from None
    return NewRequest(type=kind, identities=identities, received_at=received,
                      purpose=body.get("purpose"), source="opendsr")


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()
