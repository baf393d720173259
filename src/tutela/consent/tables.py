"""Engine-store tables of consent: notices, the append-only ledger, restriction/objection records.

All three are append-only. A notice version is never edited (a new version is a new row), a
withdrawal is a new ledger event, and lifting a restriction is a new record. On PostgreSQL a
trigger refuses UPDATE, DELETE and TRUNCATE on them (migration ``consent_0001_ledger``).

Subjects are keyed by their pseudonym (``tutela.crypto.hashing.pseudonym``). The raw identity
and a parent's name, when kept for proof (Art. 7(1), Art. 8(2)), are stored only AES-256-GCM
encrypted with the keyring's encryption key.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from tutela.store.tables import metadata

#: UTC timestamps without zone (as every engine-store table); microseconds on MariaDB too,
#: since events are ordered by time.
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
#: A 64-bit id that is still SQLite's auto-incrementing rowid.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

notices = sa.Table(
    "tutela_consent_notices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("purpose", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    #: a material version needs fresh consent; a non-material one keeps earlier consents valid
    sa.Column("material", sa.Boolean, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    #: the exact Markdown text shown to the subject, and the SHA-256 of its UTF-8 bytes
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.UniqueConstraint("purpose", "version", name="uq_tutela_consent_notices_purpose_version"),
)

ledger = sa.Table(
    "tutela_consent_ledger",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("subject_key", sa.String(100), nullable=False),
    sa.Column("tenant", sa.String(100), nullable=True),
    sa.Column("purpose", sa.String(100), nullable=False),
    sa.Column("event", sa.String(10), nullable=False),  # given | withdrawn
    sa.Column("notice_id", sa.Integer, nullable=True),
    sa.Column("notice_version", sa.Integer, nullable=True),
    sa.Column("notice_sha256", sa.String(64), nullable=True),
    sa.Column("method", sa.String(20), nullable=False),  # web_form | api | import | paper
    sa.Column("collection_point", sa.String(200), nullable=True),
    #: when the subject gave or withdrew consent (imports carry the original time)
    sa.Column("at", Timestamp, nullable=False),
    #: when Tutela wrote the event
    sa.Column("recorded_at", Timestamp, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("declared_age", sa.Integer, nullable=True),
    sa.Column("declared_country", sa.String(2), nullable=True),
    #: Art. 8(2): who gave or authorised consent for a child, and how that was verified
    sa.Column("parent_holder_sealed", sa.LargeBinary, nullable=True),
    sa.Column("parent_relationship", sa.String(50), nullable=True),
    sa.Column("parent_verification", sa.String(100), nullable=True),
    #: optional proof: nonce + AES-GCM ciphertext of "kind:normalised value"
    sa.Column("identity_sealed", sa.LargeBinary, nullable=True),
    sa.Index("ix_tutela_consent_ledger_subject", "subject_key", "purpose", "at"),
    sa.Index("ix_tutela_consent_ledger_purpose", "purpose", "at"),
)

restrictions = sa.Table(
    "tutela_consent_restrictions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("subject_key", sa.String(100), nullable=False),
    sa.Column("tenant", sa.String(100), nullable=True),
    sa.Column("kind", sa.String(12), nullable=False),  # restriction (Art. 18) | objection (Art. 21)
    #: NULL: every purpose
    sa.Column("purpose", sa.String(100), nullable=True),
    sa.Column("event", sa.String(10), nullable=False),  # placed | lifted
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Index("ix_tutela_consent_restrictions_subject", "subject_key", "kind"),
)
