"""Import existing consents from CSV, with a dry run that reports every rejected line.

Columns (header row required; order free; see docs/consent.md): ``email`` or ``phone`` or
``subject_key`` (one of them), ``purpose``, and optionally ``event`` (given | withdrawn, default
given), ``notice_version`` (default: the latest), ``at`` (ISO 8601, default: now), ``method``
(default import), ``collection_point``, ``tenant``, ``age``, ``birth_date`` (YYYY-MM-DD),
``country``, ``parent_name``, ``parent_relationship``, ``parent_verification``.

Every row is validated first. A real import then writes all valid rows in one transaction (or,
with ``strict``, nothing at all when any row is rejected). Rows already in the ledger (same
subject, tenant, purpose, event and time) are skipped, so re-running an import with ``at``
given is a no-op.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from tutela.clock import utcnow
from tutela.consent.children import ParentalConsent
from tutela.consent.ledger import EVENTS, ConsentEvent, build_row, insert_rows, subject_key_for
from tutela.consent.notices import NoticeIndex
from tutela.consent.tables import ledger
from tutela.errors import InvalidInput, TutelaError

IDENTITY_COLUMNS = ("email", "phone", "subject_key")
COLUMNS = IDENTITY_COLUMNS + ("purpose", "event", "notice_version", "at", "method", "collection_point",
                              "tenant", "age", "birth_date", "country", "parent_name", "parent_relationship",
                              "parent_verification")
#: rows checked against the ledger for duplicates per statement
LOOKUP_BATCH = 500


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    dry_run: bool
    strict: bool
    rows: int = 0
    valid: int = 0
    written: int = 0
    already_recorded: int = 0
    rejects: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejects

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "strict": self.strict, "rows": self.rows, "valid": self.valid,
                "written": self.written, "already_recorded": self.already_recorded,
                "rejects": [{"line": line, "problem": problem} for line, problem in self.rejects]}


def _cell(row: dict, name: str) -> str | None:
    value = row.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _int(row: dict, name: str) -> int | None:
    value = _cell(row, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{name} '{value}' is not a whole number") from None


def _event_from_row(tutela, row: dict, *, default_tenant: str | None, keep_identity: bool) -> ConsentEvent:
    identities = [(name, _cell(row, name)) for name in IDENTITY_COLUMNS if _cell(row, name)]
    if len(identities) != 1:
        raise InvalidInput("each row needs exactly one of email, phone or subject_key")
    kind, value = identities[0]
    if kind == "subject_key":
        subject_key, identity = value, None
    else:
        subject_key, identity = subject_key_for(tutela, kind, value), (kind, value)
    purpose = _cell(row, "purpose")
    if purpose is None:
        raise InvalidInput("purpose is empty")
    at = _cell(row, "at")
    birth = _cell(row, "birth_date")
    try:
        at_value = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else None
    except ValueError:
        raise InvalidInput(f"at '{at}' is not an ISO 8601 time") from None
    try:
        birth_value = date.fromisoformat(birth) if birth else None
    except ValueError:
        raise InvalidInput(f"birth_date '{birth}' is not a date (YYYY-MM-DD)") from None
    parent = None
    if _cell(row, "parent_name"):
        parent = ParentalConsent(_cell(row, "parent_name"), _cell(row, "parent_relationship") or "parent",
                                 _cell(row, "parent_verification") or "other")
    return ConsentEvent(
        subject_key=subject_key, purpose=purpose, event=(_cell(row, "event") or "given").lower(),
        notice_version=_int(row, "notice_version"), method=_cell(row, "method") or "import",
        collection_point=_cell(row, "collection_point"), tenant=_cell(row, "tenant") or default_tenant,
        at=at_value, age=_int(row, "age"), birth_date=birth_value, country=_cell(row, "country"),
        parent=parent, identity=identity if keep_identity else None)


def import_csv(tutela, source: str | io.TextIOBase | Iterable[str], *, actor: str, dry_run: bool = False,
               strict: bool = False, tenant: str | None = None, keep_identity: bool = False,
               progress: Callable[[int], None] | None = None) -> ImportReport:
    """Validate a consent CSV and (unless ``dry_run``) append its valid rows to the ledger.

    ``source`` is the CSV text, an open text file or an iterable of lines. A header with an unknown
    column, or without ``purpose`` and an identity column, raises :class:`InvalidInput` and nothing
    is written. Row problems are collected in the report with their line numbers.
    """
    from tutela.consent.decisions import note_write

    lines = io.StringIO(source) if isinstance(source, str) else source
    reader = csv.DictReader(lines)
    header = [name.strip() for name in (reader.fieldnames or [])]
    unknown = [name for name in header if name not in COLUMNS]
    if not header:
        raise InvalidInput("the CSV file is empty (a header row is required)")
    if unknown:
        raise InvalidInput(f"unknown column(s) {', '.join(unknown)}; known: {', '.join(COLUMNS)}")
    if "purpose" not in header or not any(name in header for name in IDENTITY_COLUMNS):
        raise InvalidInput("the CSV needs a purpose column and one of email, phone or subject_key")
    reader.fieldnames = header

    report = ImportReport(dry_run=dry_run, strict=strict)
    now = utcnow()
    rows: list[dict] = []
    seen: set[tuple] = set()
    with tutela.store.engine.connect() as conn:
        index = NoticeIndex.load(conn)
    for record in reader:
        report.rows += 1
        line = reader.line_num
        if progress:
            progress(report.rows)
        try:
            if None in record:
                raise InvalidInput("the row has more cells than the header")
            event = _event_from_row(tutela, record, default_tenant=tenant, keep_identity=keep_identity)
            row = build_row(tutela, event, index, actor=actor, now=now)
        except TutelaError as exc:
            report.rejects.append((line, exc.message))
            continue
        identity = (row["subject_key"], row["tenant"], row["purpose"], row["event"], row["at"])
        if identity in seen:
            report.already_recorded += 1
            continue
        seen.add(identity)
        rows.append(row)
    report.valid = len(rows) + report.already_recorded
    if dry_run or (strict and report.rejects) or not rows:
        return report
    with tutela.store.engine.begin() as conn:
        fresh = _not_yet_recorded(conn, rows)
        report.already_recorded += len(rows) - len(fresh)
        insert_rows(conn, fresh)
        counts = {e: sum(1 for r in fresh if r["event"] == e) for e in EVENTS}
        tutela.audit.record("consent.imported", actor=actor, tenant=tenant, connection=conn,
                            rejected=len(report.rejects), **counts)
    report.written = len(fresh)
    note_write()
    return report


def _not_yet_recorded(conn: sa.Connection, rows: list[dict]) -> list[dict]:
    """The rows whose (subject, tenant, purpose, event, time) is not in the ledger yet."""
    fresh: list[dict] = []
    t = ledger.c
    for start in range(0, len(rows), LOOKUP_BATCH):
        batch = rows[start:start + LOOKUP_BATCH]
        keys = {row["subject_key"] for row in batch}
        existing = {(r.subject_key, r.tenant, r.purpose, r.event, r.at) for r in conn.execute(
            sa.select(t.subject_key, t.tenant, t.purpose, t.event, t.at).where(t.subject_key.in_(keys)))}
        fresh += [row for row in batch
                  if (row["subject_key"], row["tenant"], row["purpose"], row["event"], row["at"]) not in existing]
    return fresh
