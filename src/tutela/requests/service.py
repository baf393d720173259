"""The request service: the one layer every interface (CLI, API, privacy-center page) wraps.

``RequestService(tutela, actor, tenant)`` files, verifies, runs, extends and lists data-subject
requests of one tenant (controller). Another tenant's request id gives the same NotFound as a
missing id, so nothing is revealed. Every transition is one store transaction that checks the
status it starts from (two workers never both move a request), writes a history entry with the
actor, and appends an audit event keyed by the subject's pseudonym.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tutela.clock import utcnow
from tutela.errors import ConfigurationError, Conflict, InvalidInput, NotFound
from tutela.requests import deadlines, sealing, verification
from tutela.requests.model import (
    DataSubjectRequest,
    HistoryEntry,
    Identity,
    NewRequest,
    RequestType,
    Status,
)
from tutela.requests.tables import request_history, requests

if TYPE_CHECKING:
    from tutela.engine import Tutela

#: Statuses from which a request may still be verified by code or by an operator.
_UNVERIFIED = (Status.RECEIVED, Status.VERIFYING)
_ANY_TENANT = object()


@dataclass
class Opened:
    """The secret part of an open request, unsealed for running it."""

    identities: list[Identity]
    changes: dict[str, Any]

    @property
    def primary(self) -> Identity:
        return self.identities[0]


class RequestService:
    """Data-subject requests of one tenant; ``all_tenants=True`` for the engine operator (CLI).

    ``clock`` returns naive UTC datetimes (inject one in tests); ``mailer`` is
    ``send_mail(settings, to, subject, body)`` and defaults to :func:`tutela.mail.send_mail`.
    """

    def __init__(self, tutela: Tutela, actor: str, tenant: str | None = None, *, all_tenants: bool = False,
                 clock: Callable[[], datetime] = utcnow, mailer: Callable[..., None] | None = None):
        if tenant is not None and (not isinstance(tenant, str) or not tenant.strip() or len(tenant) > 100):
            raise InvalidInput("a tenant is a name of 1 to 100 characters")
        self.tutela = tutela
        self.actor = actor
        self.tenant = tenant
        self.all_tenants = all_tenants
        self.clock = clock
        self._mailer = mailer

    # --- intake -----------------------------------------------------------------------------
    def create(self, type: RequestType | str, identities: Sequence[Identity | tuple[str, str]], *,
               subject_type: str | None = None, received_at: datetime | None = None,
               purpose: str | None = None, changes: dict[str, Any] | None = None,
               source: str = "operator", verified_reason: str | None = None) -> DataSubjectRequest:
        """File a request (status ``received``) with its legal and SLA due dates.

        Identities are normalised and checked (InvalidInput when malformed or not an identity of
        the subject type); only their pseudonym and a sealed copy are stored. ``verified_reason``
        files it as verified by the operator in the same transaction (batch intake).
        """
        from tutela.crypto.hashing import normalise_identity, pseudonym

        kind = RequestType.parse(type) if isinstance(type, str) else type
        try:
            given = [i if isinstance(i, Identity) else Identity(*i) for i in identities]
        except TypeError:
            raise InvalidInput("each identity is a (kind, value) pair such as ('email', 'a@b.example')") from None
        if not given:
            raise InvalidInput("a request needs at least one identity of the subject (e.g. --email)")
        subject_type = self._subject_type(subject_type, [i.kind for i in given])
        allowed = self.tutela.policy.subjects[subject_type].identities
        normalised = []
        for identity in given:
            if identity.kind not in allowed:
                raise InvalidInput(f"'{identity.kind}' is not an identity of subject '{subject_type}' "
                                   f"(use {', '.join(allowed)})")
            normalised.append(Identity(identity.kind, normalise_identity(identity.kind, identity.value)))
        # the e-mail, when given, is the identity the code goes to and the subject's key
        normalised.sort(key=lambda i: i.kind != "email")
        if kind is RequestType.RECTIFICATION:
            from tutela.requests.rectification import validate_changes

            changes = validate_changes(self.tutela.policy, subject_type, changes or {})
        elif changes:
            raise InvalidInput("only a rectification request carries new values")
        if kind in (RequestType.RESTRICTION, RequestType.OBJECTION) and purpose is not None \
                and purpose not in self.tutela.policy.purposes:
            raise InvalidInput(f"purpose '{purpose}' is not declared in the policy")
        if purpose is not None and kind not in (RequestType.RESTRICTION, RequestType.OBJECTION):
            raise InvalidInput("only restriction and objection requests name a purpose")
        if verified_reason is not None:
            verified_reason = _reason(verified_reason)
        received = _naive_utc(received_at) if received_at else self.clock()
        primary = normalised[0]
        request_id = str(uuid.uuid4())
        now = self.clock()
        row = {
            "id": request_id, "tenant": self.tenant, "type": kind.value, "status": Status.RECEIVED.value,
            "subject_type": subject_type, "identity_kind": primary.kind,
            "subject_pseudonym": pseudonym(self.tutela.keyring, primary.kind, primary.value),
            "sealed": sealing.seal_json(self._keyring, request_id,
                                        {"identities": [[i.kind, i.value] for i in normalised],
                                         "changes": changes or {}}),
            "purpose": purpose, "source": source, "received_at": received,
            "legal_due": deadlines.legal_due(received),
            "sla_due": deadlines.sla_due(received, self.tutela.policy.engine.request_sla),
            "updated_at": now,
        }
        with self._begin() as conn:
            conn.execute(requests.insert().values(**row))
            self._history(conn, request_id, "created", None, Status.RECEIVED, f"{kind.value} via {source}")
            self._audit(conn, "request.created", row, type=kind.value, source=source)
            if verified_reason is not None:
                self._move(conn, _Row(row), Status.VERIFIED, verified_at=now, verification="operator")
                self._history(conn, request_id, "verified", Status.RECEIVED, Status.VERIFIED,
                              f"by operator: {verified_reason}")
                self._audit(conn, "request.verified", row, method="operator")
        return self.show(request_id)

    def create_from(self, new: NewRequest, *, subject_type: str | None = None) -> DataSubjectRequest:
        """File a request read by :func:`tutela.requests.model.from_opendsr` or a form."""
        return self.create(new.type, new.identities, subject_type=subject_type, received_at=new.received_at,
                           purpose=new.purpose, source=new.source)

    # --- verification -----------------------------------------------------------------------
    def send_code(self, request_id: str) -> DataSubjectRequest:
        """E-mail a fresh one-time code to the request's e-mail identity (status ``verifying``).

        A new code replaces any earlier one, resets the attempts and lifts a lock.
        """
        from tutela.mail import send_mail, smtp_settings_from_env

        row = self._row(request_id)
        self._require(row, _UNVERIFIED, "a code can only be sent for a request that is not yet verified")
        opened = self._open(row)
        emails = [i for i in opened.identities if i.kind == "email"]
        if not emails:
            raise Conflict("this request has no e-mail identity to send a code to; an operator can verify it "
                           "with `tutela request mark-verified`")
        if self.tutela.policy.engine.smtp is None and not _smtp_env():
            raise ConfigurationError("no SMTP server is configured (set engine.smtp in the policy or "
                                     "TUTELA_SMTP_HOST)")
        settings = smtp_settings_from_env(self.tutela.policy.engine.smtp)
        code = verification.new_code()
        subject, body = verification.code_message(code, row.type, self.tutela.policy.controller.name)
        now = self.clock()
        with self._begin() as conn:
            self._move(conn, row, Status.VERIFYING, code_hash=verification.hash_code(code),
                       code_expires_at=now + verification.CODE_LIFETIME, code_attempts=0, locked=False)
            self._history(conn, row.id, "code_sent", row.status, Status.VERIFYING, None)
            self._audit(conn, "request.code_sent", row)
            # mailed inside the transaction: if delivery fails, no unusable code is stored
            (self._mailer or send_mail)(settings, emails[0].value, subject, body)
        return self.show(request_id)

    def verify(self, request_id: str, code: str) -> DataSubjectRequest:
        """Check a code. Right → ``verified``; wrong → InvalidInput with the attempts left;
        expired, locked, replayed or never sent → Conflict."""
        row = self._row(request_id)
        if row.status not in _UNVERIFIED:
            raise Conflict("this request is already verified (a code works once)" if row.verified_at
                           else f"this request is {row.status} and cannot be verified")
        if row.locked:
            raise Conflict(f"this request is locked after {verification.MAX_ATTEMPTS} wrong codes; "
                           "send a new code")
        if row.code_hash is None:
            raise Conflict("no code has been sent for this request; send one first")
        now = self.clock()
        if now > row.code_expires_at:
            raise Conflict("the code has expired; send a new code")
        matched = verification.code_matches(row.code_hash, code)
        with self._begin() as conn:
            if matched:
                self._move(conn, row, Status.VERIFIED, code_hash=None, code_expires_at=None,
                           verified_at=now, verification="code")
                self._history(conn, row.id, "verified", row.status, Status.VERIFIED, "by e-mail code")
                self._audit(conn, "request.verified", row, method="code")
            else:
                attempts = row.code_attempts + 1
                locked = attempts >= verification.MAX_ATTEMPTS
                changes: dict[str, Any] = {"code_attempts": attempts, "locked": locked}
                if locked:
                    changes["code_hash"] = None
                self._move(conn, row, Status(row.status), expect_attempts=row.code_attempts, **changes)
                self._history(conn, row.id, "locked" if locked else "wrong_code", row.status, row.status,
                              f"attempt {attempts} of {verification.MAX_ATTEMPTS}")
                self._audit(conn, "request.verification_failed", row, attempt=attempts, locked=locked)
        if not matched:
            if locked:
                raise Conflict(f"wrong code; that was the last of {verification.MAX_ATTEMPTS} attempts, the "
                               "request is locked until a new code is sent")
            left = verification.MAX_ATTEMPTS - attempts
            raise InvalidInput(f"wrong code; {left} attempt{'s' if left != 1 else ''} left")
        return self.show(request_id)

    def mark_verified(self, request_id: str, reason: str) -> DataSubjectRequest:
        """An operator vouches for the requester's identity, with a recorded reason."""
        reason = _reason(reason)
        row = self._row(request_id)
        self._require(row, _UNVERIFIED, "only a request that is not yet verified can be marked verified")
        with self._begin() as conn:
            self._move(conn, row, Status.VERIFIED, code_hash=None, code_expires_at=None, locked=False,
                       verified_at=self.clock(), verification="operator")
            self._history(conn, row.id, "verified", row.status, Status.VERIFIED, f"by operator: {reason}")
            self._audit(conn, "request.verified", row, method="operator")
        return self.show(request_id)

    # --- deadlines --------------------------------------------------------------------------
    def extend(self, request_id: str, reason: str) -> DataSubjectRequest:
        """Extend the legal deadline once by two further months (Art. 12(3)), with a reason."""
        reason = _reason(reason)
        row = self._row(request_id)
        if not Status(row.status).is_open:
            raise Conflict(f"this request is {row.status}; only an open request can be extended")
        if row.extended:
            raise Conflict("this request was already extended; Art. 12(3) allows one extension of two months")
        due = deadlines.extended_due(row.received_at)
        with self._begin() as conn:
            self._move(conn, row, Status(row.status), expect_extended=False, extended=True,
                       extension_reason=reason, legal_due=due)
            self._history(conn, row.id, "extended", row.status, row.status, reason)
            self._audit(conn, "request.extended", row, legal_due=due.isoformat())
        return self.show(request_id)

    # --- running ----------------------------------------------------------------------------
    def run(self, request_id: str, *, progress: Callable[[str], None] | None = None) -> DataSubjectRequest:
        """Carry out a verified request and complete it. Unverified → Conflict.

        A request left ``in_progress`` by a crash can be run again: every kind of work is idempotent.
        """
        from tutela.requests import executors

        row = self._row(request_id)
        if row.status in (Status.RECEIVED, Status.VERIFYING):
            raise Conflict("this request is not verified yet; verify the code or mark it verified first")
        self._require(row, (Status.VERIFIED, Status.IN_PROGRESS), f"this request is {row.status} already")
        opened = self._open(row)
        if row.status == Status.VERIFIED:
            with self._begin() as conn:
                self._move(conn, row, Status.IN_PROGRESS)
                self._history(conn, row.id, "started", row.status, Status.IN_PROGRESS, None)
                self._audit(conn, "request.started", row)
            row = self._row(request_id)
        result = executors.execute(self, row, opened, progress=progress)
        with self._begin() as conn:
            self._move(conn, row, Status.COMPLETED, completed_at=self.clock(), result=result, sealed=None)
            self._history(conn, row.id, "completed", row.status, Status.COMPLETED, None)
            self._audit(conn, "request.completed", row, type=row.type)
        return self.show(request_id)

    def reject(self, request_id: str, reason: str) -> DataSubjectRequest:
        """Refuse an open request (Art. 12(4): the subject is told why); the sealed identities are wiped."""
        reason = _reason(reason)
        row = self._row(request_id)
        if not Status(row.status).is_open:
            raise Conflict(f"this request is {row.status} already")
        with self._begin() as conn:
            self._move(conn, row, Status.REJECTED, completed_at=self.clock(), sealed=None, code_hash=None)
            self._history(conn, row.id, "rejected", row.status, Status.REJECTED, reason)
            self._audit(conn, "request.rejected", row)
        return self.show(request_id)

    # --- reading ----------------------------------------------------------------------------
    def show(self, request_id: str) -> DataSubjectRequest:
        """One request with its history; NotFound for a missing id or another tenant's."""
        row = self._row(request_id)
        with self.tutela.store.engine.connect() as conn:
            history = conn.execute(sa.select(request_history).where(request_history.c.request_id == row.id)
                                   .order_by(request_history.c.seq)).all()
        return _request(row, history)

    def list(self, *, status: str | None = None, open_only: bool = False,
             due_within: timedelta | None = None, subject: str | None = None) -> list[DataSubjectRequest]:
        """Requests of this tenant; ``due_within`` keeps open ones whose legal or SLA deadline falls
        within that span (overdue included). Overdue first (most overdue first), then by due date."""
        query = sa.select(requests)
        query = self._scoped(query)
        if status:
            if status not in {s.value for s in Status}:
                raise InvalidInput(f"'{status}' is not a status; use one of: {', '.join(s.value for s in Status)}")
            query = query.where(requests.c.status == status)
        if open_only or due_within is not None:
            query = query.where(requests.c.status.notin_([Status.COMPLETED.value, Status.REJECTED.value]))
        if subject:
            query = query.where(requests.c.subject_pseudonym == subject)
        now = self.clock()
        if due_within is not None:
            horizon = now + due_within
            query = query.where(sa.or_(requests.c.sla_due <= horizon, requests.c.legal_due <= horizon.date()))
        with self.tutela.store.engine.connect() as conn:
            rows = conn.execute(query.order_by(requests.c.received_at)).all()
        found = [_request(r, []) for r in rows]
        return sorted(found, key=lambda r: due_sort_key(r, now))

    def export_bytes(self, request_id: str) -> bytes:
        """The ZIP produced by a completed access or portability request (decrypted from the store)."""
        row = self._row(request_id)
        if row.type not in (RequestType.ACCESS, RequestType.PORTABILITY):
            raise Conflict(f"a {row.type} request has no export")
        if row.status != Status.COMPLETED or not row.result or "export" not in row.result:
            raise Conflict("the export exists once the request has run; run it first")
        path = self.export_dir() / row.result["export"]["file"]
        if not path.exists():
            raise NotFound("the export file of this request is no longer in the export folder")
        return sealing.unseal(self._keyring, f"export:{row.id}", path.read_bytes())

    def export_path(self, request_id: str, out: str | Path | None = None, *,
                    encrypt_to: str | Path | None = None) -> Path:
        """Write the request's export ZIP to ``out``; with ``encrypt_to`` (an OpenPGP public key file)
        as an OpenPGP message to that key. Without ``out``, into a new private temporary folder
        (the caller deletes it after serving it). Returns the file written."""
        import tempfile

        from tutela.requests.export import encrypt_to_key

        data = self.export_bytes(request_id)
        if encrypt_to is not None:
            data = encrypt_to_key(data, Path(encrypt_to))
        if out is None:
            suffix = ".zip.gpg" if encrypt_to is not None else ".zip"
            out = Path(tempfile.mkdtemp(prefix="tutela-export-")) / f"{request_id}{suffix}"
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(0o600)
        row = self._row(request_id)
        with self._begin() as conn:
            self._history(conn, row.id, "exported", None, None, "OpenPGP-encrypted" if encrypt_to else "plain ZIP")
            self._audit(conn, "request.exported", row, encrypted=encrypt_to is not None)
        return target

    def export_dir(self) -> Path:
        """Where sealed exports are kept: ``$TUTELA_EXPORT_DIR`` or ``exports/`` beside the policy."""
        import os

        folder = Path(os.environ.get("TUTELA_EXPORT_DIR") or Path(self.tutela.base_dir) / "exports")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    # --- internals --------------------------------------------------------------------------
    @property
    def _keyring(self):
        """The keyring that seals this service's secrets (any generation opens what it sealed)."""
        return self.tutela.keyring

    def _begin(self):
        return self.tutela.store.engine.begin()

    def _scoped(self, query):
        if self.all_tenants:
            return query
        if self.tenant is None:
            return query.where(requests.c.tenant.is_(None))
        return query.where(requests.c.tenant == self.tenant)

    def _row(self, request_id: str):
        try:
            request_id = str(uuid.UUID(str(request_id)))
        except ValueError:
            raise NotFound(f"there is no request '{_clip(request_id)}'") from None
        with self.tutela.store.engine.connect() as conn:
            row = conn.execute(self._scoped(sa.select(requests).where(requests.c.id == request_id))).first()
        if row is None:
            raise NotFound(f"there is no request '{request_id}'")
        return row

    def _open(self, row) -> Opened:
        if row.sealed is None:
            raise Conflict(f"this request is {row.status}; its identities were wiped")
        data = sealing.unseal_json(self._keyring, row.id, row.sealed)
        return Opened([Identity(k, v) for k, v in data["identities"]], data.get("changes") or {})

    @staticmethod
    def _require(row, allowed: Sequence[Status], message: str) -> None:
        if Status(row.status) not in allowed:
            raise Conflict(message)

    def _move(self, conn, row, to: Status, *, expect_attempts: int | None = None,
              expect_extended: bool | None = None, **values) -> None:
        """Update the request if it is still in the status we read; Conflict if someone moved it."""
        query = requests.update().where(requests.c.id == row.id, requests.c.status == row.status)
        if expect_attempts is not None:
            query = query.where(requests.c.code_attempts == expect_attempts)
        if expect_extended is not None:
            query = query.where(requests.c.extended == expect_extended)
        done = conn.execute(query.values(status=to.value, updated_at=self.clock(), **values))
        if done.rowcount != 1:
            raise Conflict("the request was changed by someone else meanwhile; look at it again and retry")

    def _history(self, conn, request_id: str, event: str, from_status, to_status, note: str | None) -> None:
        conn.execute(request_history.insert().values(
            request_id=request_id, at=self.clock(), actor=self.actor, event=event,
            from_status=str(from_status) if from_status else None,
            to_status=str(to_status) if to_status else None, note=note))

    def _audit(self, conn, action: str, row, **details) -> None:
        data = row if isinstance(row, dict) else row._mapping
        self.tutela.audit.record(action, actor=self.actor, subject=data["subject_pseudonym"],
                                 tenant=data["tenant"], connection=conn, request_id=data["id"], **details)

    def _subject_type(self, name: str | None, kinds: list[str]) -> str:
        subjects = self.tutela.policy.subjects
        if name is not None:
            if name not in subjects:
                raise InvalidInput(f"subject type '{name}' is not declared in the policy")
            return name
        fitting = [n for n, s in subjects.items() if any(k in s.identities for k in kinds)]
        if not fitting:
            raise InvalidInput("no subject type of the policy is identified by "
                               f"{', '.join(sorted(set(kinds)))}")
        if len(fitting) > 1:
            raise InvalidInput(f"several subject types match ({', '.join(fitting)}); name one (--subject)")
        return fitting[0]


class _Row:
    """A just-inserted row, read by attribute like a fetched one (for :meth:`RequestService._move`)."""

    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)


def due_sort_key(req: DataSubjectRequest, now: datetime) -> tuple:
    """Overdue (legal, then SLA) first, most overdue first; then the earliest next deadline."""
    legal_end = datetime.combine(req.legal_due, datetime.max.time())
    if req.overdue(now):
        return (0, legal_end)
    if req.sla_missed(now):
        return (1, req.sla_due)
    return (2, min(req.sla_due, legal_end))


def _request(row, history) -> DataSubjectRequest:
    return DataSubjectRequest(
        id=row.id, tenant=row.tenant, type=RequestType(row.type), status=Status(row.status),
        subject_type=row.subject_type, identity_kind=row.identity_kind,
        subject_pseudonym=row.subject_pseudonym, received_at=row.received_at,
        legal_due=_as_date(row.legal_due), sla_due=row.sla_due, extended=bool(row.extended),
        extension_reason=row.extension_reason, purpose=row.purpose, source=row.source,
        verified_at=row.verified_at, verification=row.verification, locked=bool(row.locked),
        code_attempts=row.code_attempts, completed_at=row.completed_at, result=row.result,
        history=[HistoryEntry(h.at, h.actor, h.event, h.from_status, h.to_status, h.note) for h in history],
    )


def _as_date(value):
    return value.date() if isinstance(value, datetime) else value


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("a reason is required and is recorded in the request's history")
    if len(text) > 2000:
        raise InvalidInput("the reason is longer than 2,000 characters")
    return text


def _clip(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _smtp_env() -> bool:
    import os

    return bool(os.environ.get("TUTELA_SMTP_HOST"))
