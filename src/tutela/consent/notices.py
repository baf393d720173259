"""Notices: the versioned texts (Markdown) shown to a subject when consent is asked for a purpose.

Operators create them; a version is never edited. Each new version is either *material* (what
the subject agrees to changed: earlier consents no longer count, fresh consent is needed) or
not (wording, typos: earlier consents stay valid). The first version of a purpose is always
material. The ledger stores, with each consent, the notice id, version and the SHA-256 of the
exact text shown, so the controller can demonstrate what was agreed to (Art. 7(1)).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from tutela.clock import utcnow
from tutela.consent.tables import notices
from tutela.errors import Conflict, InvalidInput, NotFound

MAX_NOTICE_CHARS = 100_000


@dataclass(frozen=True)
class Notice:
    """One version of a purpose's notice."""

    id: int
    purpose: str
    version: int
    material: bool
    title: str
    text: str
    sha256: str
    created_at: datetime
    created_by: str

    def as_dict(self, *, with_text: bool = True) -> dict:
        """A JSON-ready view (timestamps as ISO 8601)."""
        data = {"id": self.id, "purpose": self.purpose, "version": self.version, "material": self.material,
                "title": self.title, "sha256": self.sha256, "created_at": self.created_at.isoformat(),
                "created_by": self.created_by}
        if with_text:
            data["text"] = self.text
        return data


def text_sha256(text: str) -> str:
    """SHA-256 (hex) of the exact UTF-8 bytes of a notice text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def require_purpose(tutela, purpose: str):
    """The policy's purpose named ``purpose``; InvalidInput naming the declared ones otherwise."""
    found = tutela.policy.purposes.get(purpose)
    if found is None:
        raise InvalidInput(f"purpose '{purpose}' is not declared in the policy (declared: "
                           f"{', '.join(sorted(tutela.policy.purposes))})")
    return found


def create_notice(tutela, purpose: str, text: str, *, material: bool = True, title: str | None = None,
                  actor: str) -> Notice:
    """Store a new version of ``purpose``'s notice and return it; the first version is always material."""
    from tutela.consent.decisions import note_write

    declared = require_purpose(tutela, purpose)
    if not text or not text.strip():
        raise InvalidInput("a notice needs a text (Markdown) telling the subject what they agree to")
    if len(text) > MAX_NOTICE_CHARS:
        raise InvalidInput(f"a notice text is limited to {MAX_NOTICE_CHARS} characters")
    title = (title or declared.description).strip()
    if not title or len(title) > 200:
        raise InvalidInput("a notice title must be 1 to 200 characters")
    now = utcnow()
    try:
        with tutela.store.engine.begin() as conn:
            latest = conn.execute(sa.select(sa.func.max(notices.c.version))
                                  .where(notices.c.purpose == purpose)).scalar()
            version = (latest or 0) + 1
            row = {"purpose": purpose, "version": version, "material": bool(material or version == 1),
                   "title": title, "text": text, "sha256": text_sha256(text), "created_at": now,
                   "created_by": actor}
            notice_id = conn.execute(notices.insert().values(**row)).inserted_primary_key[0]
            tutela.audit.record("consent.notice_created", actor=actor, connection=conn, purpose=purpose,
                                version=version, material=row["material"], sha256=row["sha256"])
    except sa.exc.IntegrityError:
        raise Conflict(f"another notice version for '{purpose}' was created at the same time; "
                       "run the command again") from None
    note_write()
    return Notice(id=notice_id, **row)


def _from_row(row) -> Notice:
    return Notice(id=row.id, purpose=row.purpose, version=row.version, material=bool(row.material),
                  title=row.title, text=row.text, sha256=row.sha256, created_at=row.created_at,
                  created_by=row.created_by)


def get_notice(tutela, purpose: str, version: int | None = None) -> Notice:
    """A version of ``purpose``'s notice (default: the latest); NotFound when there is none."""
    require_purpose(tutela, purpose)
    query = sa.select(notices).where(notices.c.purpose == purpose)
    query = (query.where(notices.c.version == version) if version is not None
             else query.order_by(notices.c.version.desc()).limit(1))
    with tutela.store.engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        if version is None:
            raise NotFound(f"purpose '{purpose}' has no notice yet (create one with `tutela notice new`)")
        raise NotFound(f"purpose '{purpose}' has no notice version {version}")
    return _from_row(row)


def list_notices(tutela, purpose: str | None = None) -> list[Notice]:
    """Every notice version, by purpose and version (optionally of one purpose)."""
    query = sa.select(notices).order_by(notices.c.purpose, notices.c.version)
    if purpose is not None:
        require_purpose(tutela, purpose)
        query = query.where(notices.c.purpose == purpose)
    with tutela.store.engine.connect() as conn:
        return [_from_row(row) for row in conn.execute(query)]


@dataclass(frozen=True)
class NoticeIndex:
    """Every notice version's id and hash (not the texts), for validating many consents at once."""

    versions: dict[tuple[str, int], tuple[int, str]]
    latest: dict[str, int]
    material: dict[str, int]

    @classmethod
    def load(cls, connection: sa.Connection) -> NoticeIndex:
        versions: dict[tuple[str, int], tuple[int, str]] = {}
        latest: dict[str, int] = {}
        material: dict[str, int] = {}
        query = sa.select(notices.c.id, notices.c.purpose, notices.c.version, notices.c.material,
                          notices.c.sha256).order_by(notices.c.purpose, notices.c.version)
        for row in connection.execute(query):
            versions[(row.purpose, row.version)] = (row.id, row.sha256)
            latest[row.purpose] = row.version
            if row.material:
                material[row.purpose] = row.version
        return cls(versions, latest, material)

    def resolve(self, purpose: str, version: int | None) -> tuple[int, int, str]:
        """(notice id, version, sha256) of ``version`` (None: the latest); InvalidInput if unknown."""
        if version is None:
            if purpose not in self.latest:
                raise InvalidInput(f"purpose '{purpose}' has no notice yet, so consent to it cannot be "
                                   "recorded (create one with `tutela notice new`)")
            version = self.latest[purpose]
        found = self.versions.get((purpose, version))
        if found is None:
            known = [str(v) for (p, v) in self.versions if p == purpose]
            raise InvalidInput(f"purpose '{purpose}' has no notice version {version} (versions: "
                               f"{', '.join(known) or 'none'})")
        return found[0], version, found[1]
