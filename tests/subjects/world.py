"""A small application schema and policy for subject-graph and erasure tests (not the demo app).

end_users ← bookings ← answers (FK depth 3), system_logs tied by e-mail, newsletter_contacts (own
subject), and an undeclared table ``ledger`` whose rows must never change.
"""

from __future__ import annotations

import hashlib
import textwrap
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from tutela.engine import Tutela
from tutela.policy.loader import parse_policy
from tutela.store import Store
from tutela.store.database import make_engine

metadata = sa.MetaData()
end_users = sa.Table(
    "end_users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tenant_id", sa.String(20), nullable=False, index=True),
    sa.Column("email", sa.String(120), nullable=False, index=True),
    sa.Column("phone", sa.String(80), index=True),
    sa.Column("full_name", sa.String(100)),
    sa.Column("birth_date", sa.Date),
    sa.Column("postcode", sa.String(10)),
    sa.Column("age", sa.Integer),
    sa.Column("status", sa.String(20), nullable=False),
)
bookings = sa.Table(
    "bookings", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("end_user_id", sa.Integer, sa.ForeignKey("end_users.id"), nullable=False, index=True),
    sa.Column("tenant_id", sa.String(20), nullable=False),
    sa.Column("notes", sa.Text),
    sa.Column("ip", sa.String(64)),
    sa.Column("created_at", sa.DateTime),
)
answers = sa.Table(
    "answers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("booking_id", sa.Integer, sa.ForeignKey("bookings.id"), nullable=False, index=True),
    sa.Column("tenant_id", sa.String(20), nullable=False),
    sa.Column("answer", sa.Text),
)
system_logs = sa.Table(
    "system_logs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tenant_id", sa.String(20), nullable=False),
    sa.Column("user_email", sa.String(120), index=True),
    sa.Column("ip", sa.String(64)),
)
newsletter_contacts = sa.Table(
    "newsletter_contacts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("email", sa.String(120), nullable=False, index=True),
    sa.Column("first_name", sa.String(60)),
    sa.Column("country", sa.String(20)),
    sa.Column("status", sa.String(20), nullable=False),
)
ledger = sa.Table(
    "ledger", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("memo", sa.String(100)),
)

POLICY = """\
version: 1
controller: {{name: Test Controller, contact: privacy@test.example}}
engine: {{store: "{store}", keyring: unused.key, batch_size: {batch}}}
purposes:
  service: {{description: Run the service, basis: contract}}
  newsletter: {{description: Newsletter, basis: consent, direct_marketing: true}}
subjects:
  end_user:
    system: app
    table: end_users
    identities: {{email: email, phone: phone}}
  contact:
    system: app
    table: newsletter_contacts
    identities: {{email: email}}
systems:
  app:
    url: "{url}"
    tenant_column: tenant_id
    tables:
      end_users:
        subject: end_user
        purpose: service
        fields:
          email: {{category: user.contact.email, identity: email, on_erasure: hash}}
          phone: {{category: user.contact.phone_number, identity: phone, on_erasure: hash}}
          full_name: {{category: user.name, on_erasure: "null"}}
          birth_date: {{category: user.demographic.date_of_birth, on_erasure: "generalize:year"}}
          postcode: {{category: user.contact.address.postal_code, on_erasure: "generalize:postcode"}}
          age: {{category: user.demographic.age_range, on_erasure: "generalize:age_band"}}
          status: {{category: user.account, on_erasure: keep}}
      bookings:
        parent: end_users
        purpose: service
        fields:
          notes: {{category: user.content.private}}
          ip: {{category: user.device.ip_address, on_erasure: "generalize:ip"}}
      answers:
        subject: end_user
        parent: bookings
        purpose: service
        on_erasure: delete_row
        fields:
          answer: {{category: user.content.private}}
      system_logs:
        subject: end_user
        identity: {{email: user_email}}
        purpose: service
        on_erasure: delete_row
        fields:
          user_email: {{category: user.contact.email, identity: email}}
          ip: {{category: user.device.ip_address}}
      newsletter_contacts:
        subject: contact
        purpose: newsletter
        fields:
          email: {{category: user.contact.email, identity: email, on_erasure: hash}}
          first_name: {{category: user.name, on_erasure: "null"}}
          country: {{category: user.contact.address.country, on_erasure: "generalize:country"}}
          status: {{category: user.account, on_erasure: keep}}
"""


def policy_text(url: str, store: str, batch: int = 5000) -> str:
    return POLICY.format(url=url, store=store, batch=batch)


def make_tutela(url: str, store_url: str, tmp_path: Path, *, keyring=None, batch: int = 5000,
                text: str | None = None) -> Tutela:
    """A Tutela over ``url`` with a migrated store and an in-memory keyring."""
    from tutela.crypto.keyring import Keyring

    path = tmp_path / "tutela.yaml"
    path.write_text(text or policy_text(url, store_url, batch))
    policy = parse_policy(path.read_text(), str(path), base_dir=str(tmp_path))
    tutela = Tutela(policy, store=Store(store_url), keyring=keyring or Keyring.generate(), actor="test")
    tutela.migrate()
    return tutela


def create_schema(url: str) -> sa.Engine:
    engine = make_engine(url)
    metadata.create_all(engine)
    return engine


def populate(engine: sa.Engine, users: int = 6, tenants: tuple[str, ...] = ("acme", "globex")) -> None:
    """``users`` end users (user i: user{i}@example.org), 2 bookings each, 2 answers per booking,
    one log line each, a newsletter contact per user, and ledger rows."""
    rows_u, rows_b, rows_a, rows_l, rows_n = [], [], [], [], []
    for i in range(1, users + 1):
        tenant = tenants[i % len(tenants)]
        rows_u.append(dict(id=i, tenant_id=tenant, email=f"User{i}@Example.org", phone=f"+4930123456{i:02d}",
                           full_name=f"User Number {i}", birth_date=date(1980 + i, 5, 17),
                           postcode=f"1011{i % 10}", age=20 + i * 3, status="active"))
        rows_l.append(dict(id=i, tenant_id=tenant, user_email=f"user{i}@example.org", ip=f"10.0.{i}.77"))
        rows_n.append(dict(id=i, email=f"user{i}@example.org", first_name=f"First{i}", country="de-BY",
                           status=("subscribed", "unsubscribed", "bounced")[i % 3]))
        for j in range(2):
            b = i * 10 + j
            rows_b.append(dict(id=b, end_user_id=i, tenant_id=tenant, notes=f"note {b}", ip=f"192.168.{i}.{j + 5}",
                               created_at=datetime(2024, 1, i, 12, 30)))
            for k in range(2):
                rows_a.append(dict(id=b * 10 + k, booking_id=b, tenant_id=tenant, answer=f"answer {b}/{k}"))
    with engine.begin() as conn:
        conn.execute(end_users.insert(), rows_u)
        conn.execute(bookings.insert(), rows_b)
        conn.execute(answers.insert(), rows_a)
        conn.execute(system_logs.insert(), rows_l)
        conn.execute(newsletter_contacts.insert(), rows_n)
        conn.execute(ledger.insert(), [dict(id=n, memo=f"memo {n}") for n in range(1, 6)])


def rows(engine: sa.Engine, table: sa.Table, where=None) -> list[dict]:
    """Every row of ``table`` (optionally filtered), as dicts ordered by id."""
    query = sa.select(table).order_by(table.c.id)
    if where is not None:
        query = query.where(where)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def checksum(engine: sa.Engine, table: sa.Table, where=None) -> str:
    """A digest of the rows of ``table`` matching ``where`` (values as text, ordered by id)."""
    digest = hashlib.sha256()
    for row in rows(engine, table, where):
        digest.update(repr(sorted((k, str(v)) for k, v in row.items())).encode())
    return digest.hexdigest()


def dedent(text: str) -> str:
    return textwrap.dedent(text)
