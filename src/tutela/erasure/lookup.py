"""Authority lookup (R9): given an exact e-mail or phone, find its pseudonymised records.

The identifier is normalised and hashed with every known hashing key (so records pseudonymised
before a key rotation are found) and as a plain MD5 (records hashed by older tools). Every column
that the policy says holds that kind of identifier is searched with one indexed ``IN (…)`` per
table. The report adds the identifier's suppression entries and the audit history of its
pseudonym. The lookup itself is audited (``erasure.lookup``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from tutela.crypto.hashing import keyed_hashes, md5_compat, pseudonym
from tutela.erasure.suppression import entries_for


@dataclass
class LookupReport:
    """What is known about one pseudonymised identifier (no raw identifier inside)."""

    kind: str
    pseudonym: str
    records: list[dict] = field(default_factory=list)
    suppression: list[dict] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.records or self.suppression or self.history)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "pseudonym": self.pseudonym, "records": self.records,
                "suppression": self.suppression, "history": self.history}


def identity_columns(tutela, kind: str) -> list[tuple[str, str, str]]:
    """(system, table, column) of every column the policy says holds identifiers of ``kind``."""
    policy = tutela.policy
    found: list[tuple[str, str, str]] = []
    for system, name, decl in policy.iter_tables():
        columns = {c for c, f in decl.fields.items() if f.identity == kind}
        if kind in decl.identity:
            columns.add(decl.identity[kind])
        for subject in policy.subjects.values():
            if (subject.system, subject.table) == (system, name) and kind in subject.identities:
                columns.add(subject.identities[kind])
        found += [(system, name, column) for column in sorted(columns)]
    return found


def lookup_identity(tutela, kind: str, value: str, *, actor: str) -> LookupReport:
    """Report every pseudonymised record, suppression entry and audit event of ``value``.

    Raises InvalidInput for a malformed identifier. The lookup is audited even when nothing is found.
    """
    keyring = tutela.keyring
    hashes = keyed_hashes(keyring, kind, value)
    legacy = md5_compat(kind, value)
    labels = {h: f"keyed hash (key {h.split(':')[1]})" for h in hashes} | {legacy: "MD5 (older tool)"}
    report = LookupReport(kind, pseudonym(keyring, kind, value))
    by_system: dict[str, list[tuple[str, str]]] = {}
    for system, name, column in identity_columns(tutela, kind):
        by_system.setdefault(system, []).append((name, column))
    for system, columns in by_system.items():
        metadata = tutela.schema(system)
        with tutela.system_engine(system).connect() as conn:
            for name, column in columns:
                table = metadata.tables.get(name)
                if table is None or column not in table.c:
                    continue
                for row in conn.execute(sa.select(table).where(table.c[column].in_(list(labels)))):
                    data = {k: _plain(v) for k, v in row._mapping.items()}
                    report.records.append({"system": system, "table": name, "column": column,
                                           "matched": labels[data[column]], "row": data})
    report.suppression = [{k: _plain(v) for k, v in e.items()} for e in entries_for(tutela, hashes)]
    for h in hashes:
        report.history += [e.as_dict() for e in tutela.audit.query(subject=h)]
    report.history.sort(key=lambda e: e["seq"] or 0)
    tutela.audit.record("erasure.lookup", actor=actor, subject=report.pseudonym, kind=kind,
                        records=len(report.records), suppressed=bool(report.suppression))
    return report


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    return value
