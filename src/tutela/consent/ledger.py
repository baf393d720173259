"""The consent ledger (R17): append-only events "given" and "withdrawn" per subject and purpose.

Every event names the subject by pseudonym, the tenant, the purpose, the notice id, version and
SHA-256 of the exact text shown, how consent was collected (web form, API, import, paper), where
(the collection point), when, and for a child the holder of parental responsibility (Art. 8).
Nothing here updates or deletes a row; a withdrawal is a new event (Art. 7(3)).

Writes validate every event first and then insert all of them in one transaction, so a bad event
writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from tutela.clock import utcnow
from tutela.consent.children import ParentalConsent, age_on, check_child_consent, normalise_country
from tutela.consent.notices import NoticeIndex, require_purpose
from tutela.consent.tables import ledger
from tutela.errors import InvalidInput
from tutela.legal import LawfulBasis

METHODS = ("web_form", "api", "import", "paper")
EVENTS = ("given", "withdrawn")
#: how far in the future a stated time may lie (clock skew between the form's server and ours)
CLOCK_SKEW = timedelta(minutes=5)
#: inserts per statement when many events are written at once
INSERT_BATCH = 1000
_SEAL_CONTEXT = b"tutela/consent/v1"


@dataclass
class ConsentEvent:
    """One consent event to record. ``notice_version`` None means the purpose's latest notice;
    ``at`` None means now, and a naive ``at`` is taken as UTC."""

    subject_key: str
    purpose: str
    event: str = "given"
    notice_version: int | None = None
    method: str = "api"
    collection_point: str | None = None
    tenant: str | None = None
    at: datetime | None = None
    age: int | None = None
    birth_date: date | None = None
    country: str | None = None
    parent: ParentalConsent | None = None
    #: optional proof: the raw (kind, value) kept only AES-GCM encrypted
    identity: tuple[str, str] | None = field(default=None, repr=False)


def subject_key_for(tutela, kind: str, value: str) -> str:
    """The subject key (keyed-hash pseudonym) of an identity such as ``("email", "a@b.org")``."""
    from tutela.crypto.hashing import pseudonym

    return pseudonym(tutela.keyring, kind, value)


def require_subject_key(subject_key: str) -> str:
    """The key itself when it is a pseudonym; InvalidInput otherwise (never store raw identifiers)."""
    from tutela.crypto.hashing import is_keyed_hash

    if not isinstance(subject_key, str) or not is_keyed_hash(subject_key):
        raise InvalidInput("a subject key must be a keyed-hash pseudonym (t1:<key id>:<hex>), not a raw "
                           "identifier; derive it with subject_key_for(tutela, kind, value)")
    return subject_key


def seal(tutela, plaintext: str) -> bytes:
    """``plaintext`` sealed (AES-256-GCM) under the keyring's encryption key."""
    from tutela.crypto.encryption import seal as seal_value

    return seal_value(tutela.keyring, plaintext.encode("utf-8"), _SEAL_CONTEXT)


def unseal(tutela, sealed: bytes) -> str:
    """The plaintext of :func:`seal`'s output (InvalidInput if it was altered or its key is unknown)."""
    from tutela.crypto.encryption import unseal as unseal_value

    return unseal_value(tutela.keyring, sealed, _SEAL_CONTEXT).decode("utf-8")


def _utc_naive(moment: datetime | None, now: datetime) -> datetime:
    if moment is None:
        return now
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if moment > now + CLOCK_SKEW:
        raise InvalidInput(f"the time of a consent event ({moment.isoformat()}Z) lies in the future")
    return moment


def _bounded(value: str | None, name: str, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"{name} must be text of at most {limit} characters")
    return value


def build_row(tutela, event: ConsentEvent, index: NoticeIndex, *, actor: str, now: datetime) -> dict:
    """Validate one event and return the ledger row for it; InvalidInput says what is wrong."""
    purpose = require_purpose(tutela, event.purpose)
    require_subject_key(event.subject_key)
    if event.event not in EVENTS:
        raise InvalidInput(f"event '{event.event}' is not one of {', '.join(EVENTS)}")
    if event.method not in METHODS:
        raise InvalidInput(f"method '{event.method}' is not one of {', '.join(METHODS)}")
    if purpose.basis != LawfulBasis.CONSENT:
        raise InvalidInput(f"purpose '{event.purpose}' rests on {purpose.basis.value} "
                           f"({purpose.basis.article}), not on consent, so consent to it cannot be "
                           f"{event.event} (record an objection or restriction instead)")
    at = _utc_naive(event.at, now)
    country = normalise_country(event.country)
    age = event.age
    if event.birth_date is not None:
        if event.birth_date > at.date():
            raise InvalidInput("a date of birth lies after the time of consent")
        age = age_on(event.birth_date, at.date())
    row = {
        "subject_key": event.subject_key, "tenant": _bounded(event.tenant, "tenant", 100),
        "purpose": event.purpose, "event": event.event, "notice_id": None, "notice_version": None,
        "notice_sha256": None, "method": event.method,
        "collection_point": _bounded(event.collection_point, "collection point", 200),
        "at": at, "recorded_at": now, "actor": actor, "declared_age": age, "declared_country": country,
        "parent_holder_sealed": None, "parent_relationship": None, "parent_verification": None,
        "identity_sealed": None,
    }
    if event.event == "given":
        row["notice_id"], row["notice_version"], row["notice_sha256"] = index.resolve(
            event.purpose, event.notice_version)
        check_child_consent(age, country, event.parent, tutela.policy.engine.digital_consent_ages)
        if event.parent is not None:
            row["parent_holder_sealed"] = seal(tutela, event.parent.holder_name.strip())
            row["parent_relationship"] = event.parent.relationship
            row["parent_verification"] = event.parent.verification_method
    elif event.notice_version is not None:
        row["notice_id"], row["notice_version"], row["notice_sha256"] = index.resolve(
            event.purpose, event.notice_version)
    if event.identity is not None:
        from tutela.subjects.identities import normalised

        kind, value = event.identity
        row["identity_sealed"] = seal(tutela, f"{kind}:{normalised(kind, value)}")
    return row




def insert_rows(connection: sa.Connection, rows: list[dict]) -> None:
    """Insert prepared ledger rows in bounded batches (one executemany of 1,000 rows each)."""
    for start in range(0, len(rows), INSERT_BATCH):
        connection.execute(ledger.insert(), rows[start:start + INSERT_BATCH])


def record_events(tutela, events: Iterable[ConsentEvent], *, actor: str,
                  audit_each: bool = True) -> list[int]:
    """Validate ``events`` and append them all in one transaction; return the new ledger ids.

    Any invalid event raises :class:`InvalidInput` before anything is written. Each event is
    audited as ``consent.given`` / ``consent.withdrawn`` (or, with ``audit_each=False``, the
    whole batch as one ``consent.recorded`` event with counts).
    """
    from tutela.consent.decisions import note_write

    events = list(events)
    now = utcnow()
    ids: list[int] = []
    with tutela.store.engine.begin() as conn:
        index = NoticeIndex.load(conn)
        rows = [build_row(tutela, event, index, actor=actor, now=now) for event in events]
        if audit_each:
            for row in rows:
                ids.append(conn.execute(ledger.insert().values(**row)).inserted_primary_key[0])
                tutela.audit.record(f"consent.{row['event']}", actor=actor, subject=row["subject_key"],
                                    tenant=row["tenant"], connection=conn, purpose=row["purpose"],
                                    notice_version=row["notice_version"], method=row["method"])
        else:
            insert_rows(conn, rows)
            counts = {e: sum(1 for r in rows if r["event"] == e) for e in EVENTS}
            tutela.audit.record("consent.recorded", actor=actor, connection=conn, **counts)
    note_write()
    return ids


def give_consent(tutela, subject_key: str, purpose: str, *, actor: str, **details) -> int:
    """Record that the subject gave consent to ``purpose``; returns the ledger id.

    ``details`` are the other fields of :class:`ConsentEvent` (notice_version, method,
    collection_point, tenant, at, age, birth_date, country, parent, identity).
    """
    return record_events(tutela, [ConsentEvent(subject_key, purpose, "given", **details)], actor=actor)[0]


def withdraw_consent(tutela, subject_key: str, purpose: str, *, actor: str, **details) -> int:
    """Record that the subject withdrew consent to ``purpose`` (Art. 7(3)); returns the ledger id."""
    return record_events(tutela, [ConsentEvent(subject_key, purpose, "withdrawn", **details)],
                         actor=actor)[0]


def consent_history(tutela, subject_key: str | Sequence[str], tenant: str | None = None) -> list[dict]:
    """Every consent event of a subject, oldest first, as JSON-ready dicts (for access exports).

    ``subject_key`` may be a list: the subject's pseudonyms under several hashing keys (after a key
    rotation, see ``tutela.crypto.hashing.keyed_hashes``). ``tenant`` None returns every tenant's.
    The parent's name is not included (it is the parent's personal data); whether one was
    recorded, the relationship and the verification method are.
    """
    keys = [subject_key] if isinstance(subject_key, str) else list(subject_key)
    query = sa.select(ledger).where(ledger.c.subject_key.in_(keys)).order_by(ledger.c.at, ledger.c.id)
    if tenant is not None:
        query = query.where(ledger.c.tenant == tenant)
    with tutela.store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [history_entry(row) for row in rows]


def history_entry(row) -> dict:
    """One ledger row as the consent history shows it (the access export uses it too)."""
    entry = {
        "id": row.id, "at": row.at.isoformat() + "Z", "purpose": row.purpose, "event": row.event,
        "tenant": row.tenant, "notice_id": row.notice_id, "notice_version": row.notice_version,
        "notice_sha256": row.notice_sha256, "method": row.method, "collection_point": row.collection_point,
        "recorded_at": row.recorded_at.isoformat() + "Z", "actor": row.actor,
        "declared_age": row.declared_age, "declared_country": row.declared_country,
    }
    if row.parent_relationship:
        entry["parental_consent"] = {"holder_recorded": row.parent_holder_sealed is not None,
                                     "relationship": row.parent_relationship,
                                     "verification_method": row.parent_verification}
    return entry
