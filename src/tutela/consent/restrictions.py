"""Restriction (Art. 18) and objection (Art. 21) records, read by :func:`may_process`.

A record is *placed* or *lifted*; both are new rows (nothing is updated or deleted). A record
without a purpose covers every purpose; a record without a tenant covers every tenant. A
restriction or objection is active while the newest record for its (subject, kind, purpose,
tenant) is ``placed``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa

from tutela.clock import utcnow
from tutela.consent.ledger import require_subject_key
from tutela.consent.notices import require_purpose
from tutela.consent.tables import restrictions
from tutela.errors import Conflict, InvalidInput

KINDS = ("restriction", "objection")


def _check(tutela, subject_key: str, kind: str, purpose: str | None, reason: str) -> None:
    require_subject_key(subject_key)
    if kind not in KINDS:
        raise InvalidInput(f"kind '{kind}' is not one of {', '.join(KINDS)}")
    if purpose is not None:
        require_purpose(tutela, purpose)
    if not reason or not reason.strip():
        raise InvalidInput("a restriction or objection needs a reason (e.g. the request id)")


def _latest_event(conn: sa.Connection, subject_key: str, kind: str, purpose: str | None,
                  tenant: str | None) -> tuple[str, int] | None:
    t = restrictions.c
    query = (sa.select(t.event, t.id).where(t.subject_key == subject_key, t.kind == kind,
                                      t.purpose.is_(None) if purpose is None else t.purpose == purpose,
                                      t.tenant.is_(None) if tenant is None else t.tenant == tenant)
             .order_by(t.at.desc(), t.id.desc()).limit(1))
    row = conn.execute(query).first()
    return (row.event, row.id) if row else None


def _write(tutela, subject_key: str, *, kind: str, purpose: str | None, tenant: str | None, reason: str,
           actor: str, event: str) -> int:
    from tutela.consent.decisions import note_write

    _check(tutela, subject_key, kind, purpose, reason)
    with tutela.store.engine.begin() as conn:
        latest = _latest_event(conn, subject_key, kind, purpose, tenant)
        active = latest is not None and latest[0] == "placed"
        if event == "lifted" and not active:
            scope = f"purpose '{purpose}'" if purpose else "all purposes"
            raise Conflict(f"there is no active {kind} for {scope} of this subject to lift")
        if event == "placed" and active:
            return int(latest[1])
        record_id = conn.execute(restrictions.insert().values(
            subject_key=subject_key, tenant=tenant, kind=kind, purpose=purpose, event=event,
            reason=reason.strip(), actor=actor, at=utcnow())).inserted_primary_key[0]
        tutela.audit.record(f"consent.{kind}_{event}", actor=actor, subject=subject_key, tenant=tenant,
                            connection=conn, purpose=purpose)
    note_write()
    return record_id


def restrict(tutela, subject_key: str, *, kind: str, purpose: str | None = None, tenant: str | None = None,
             reason: str, actor: str) -> int:
    """Place a restriction (Art. 18) or objection (Art. 21) for ``purpose`` (None: all purposes).

    Idempotent: placing one that is already active returns the existing record's id.
    """
    return _write(tutela, subject_key, kind=kind, purpose=purpose, tenant=tenant, reason=reason,
                  actor=actor, event="placed")


def lift(tutela, subject_key: str, *, kind: str, purpose: str | None = None, tenant: str | None = None,
         reason: str, actor: str) -> int:
    """Lift an active restriction or objection (a new record); Conflict when none is active."""
    return _write(tutela, subject_key, kind=kind, purpose=purpose, tenant=tenant, reason=reason,
                  actor=actor, event="lifted")


def active_scopes_query(subject_keys, tenant: str | None, *,
                        key_filter: Callable[[sa.ColumnElement], sa.ColumnElement] | None = None) -> sa.Select:
    """(subject_key, kind, purpose) of every active record of ``subject_keys`` applying to ``tenant``.

    A record of no tenant applies to every tenant; with ``tenant`` None only those apply.
    ``key_filter`` (column → condition) replaces ``subject_key IN subject_keys``.
    """
    t = restrictions.c
    keys_match = key_filter(t.subject_key) if key_filter else t.subject_key.in_(subject_keys)
    tenant_filter = t.tenant.is_(None) if tenant is None else sa.or_(t.tenant.is_(None), t.tenant == tenant)
    ranked = (sa.select(t.subject_key, t.kind, t.purpose, t.event,
                        sa.func.row_number().over(partition_by=(t.subject_key, t.kind, t.purpose, t.tenant),
                                                  order_by=(t.at.desc(), t.id.desc())).label("rank"))
              .where(keys_match, tenant_filter).subquery())
    return (sa.select(ranked.c.subject_key, ranked.c.kind, ranked.c.purpose)
            .where(ranked.c.rank == 1, ranked.c.event == "placed"))


def active_records(tutela, subject_key: str, tenant: str | None = None) -> list[tuple[str, str | None]]:
    """(kind, purpose) of every active restriction/objection of a subject (purpose None: all)."""
    with tutela.store.engine.connect() as conn:
        return [(row.kind, row.purpose) for row in conn.execute(active_scopes_query([subject_key], tenant))]


def is_restricted(tutela, subject_key: str, purpose: str, tenant: str | None = None) -> bool:
    """Whether processing for ``purpose`` is restricted (Art. 18) for this subject."""
    require_purpose(tutela, purpose)
    return any(kind == "restriction" and scope in (None, purpose)
               for kind, scope in active_records(tutela, subject_key, tenant))


def has_objected(tutela, subject_key: str, purpose: str, tenant: str | None = None) -> bool:
    """Whether the subject objected (Art. 21) to processing for ``purpose``."""
    require_purpose(tutela, purpose)
    return any(kind == "objection" and scope in (None, purpose)
               for kind, scope in active_records(tutela, subject_key, tenant))


def restriction_history(tutela, subject_key: str | Sequence[str], tenant: str | None = None) -> list[dict]:
    """Every restriction/objection record of a subject, oldest first (for access exports).

    ``subject_key`` may be a list of the subject's pseudonyms under several hashing keys.
    """
    t = restrictions.c
    keys = [subject_key] if isinstance(subject_key, str) else list(subject_key)
    query = sa.select(restrictions).where(t.subject_key.in_(keys)).order_by(t.at, t.id)
    if tenant is not None:
        query = query.where(t.tenant == tenant)
    with tutela.store.engine.connect() as conn:
        return [restriction_entry(r) for r in conn.execute(query)]


def restriction_entry(row) -> dict:
    """One restriction/objection row as the history shows it (the access export uses it too)."""
    return {"id": row.id, "at": row.at.isoformat() + "Z", "kind": row.kind, "purpose": row.purpose,
            "event": row.event, "tenant": row.tenant, "reason": row.reason, "actor": row.actor}
