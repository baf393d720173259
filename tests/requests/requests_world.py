"""A small shop schema and policy for request tests, seeded with several subjects and two tenants.

customers (subject, e-mail/phone identities) ← orders ← order_items (FK depth 2), login_events tied
by e-mail, and ``products`` that belongs to no subject. Alice exists in tenant t1 and, with the
same e-mail, in tenant t2; Bob and Carol are other subjects of t1.
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from tutela.engine import Tutela
from tutela.policy.loader import parse_policy
from tutela.store import Store
from tutela.store.database import make_engine

metadata = sa.MetaData()
customers = sa.Table(
    "customers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tenant_id", sa.String(20), nullable=False, index=True),
    sa.Column("email", sa.String(120), nullable=False, index=True),
    sa.Column("phone", sa.String(80), index=True),
    sa.Column("full_name", sa.String(100)),
    sa.Column("credit_score", sa.Integer),
    sa.Column("signed_up", sa.DateTime),
)
orders = sa.Table(
    "orders", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("tenant_id", sa.String(20), nullable=False),
    sa.Column("shipping_address", sa.String(200)),
    sa.Column("total", sa.Numeric(10, 2)),
)
order_items = sa.Table(
    "order_items", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False, index=True),
    sa.Column("tenant_id", sa.String(20), nullable=False),
    sa.Column("gift_message", sa.String(200)),
)
login_events = sa.Table(
    "login_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tenant_id", sa.String(20), nullable=False),
    sa.Column("user_email", sa.String(120), index=True),
    sa.Column("ip", sa.String(64)),
)
products = sa.Table(
    "products", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(100)),
)

POLICY = """\
version: 1
controller: {{name: Shop Ltd, contact: privacy@shop.example}}
engine:
  store: "{store}"
  keyring: unused.key
  request_sla: 14d
  smtp: {{host: 127.0.0.1, port: {smtp_port}, sender: privacy@shop.example}}
purposes:
  service: {{description: Sell and ship orders, basis: contract}}
  marketing: {{description: Newsletter, basis: consent, direct_marketing: true}}
  risk: {{description: Fraud prevention, basis: legitimate_interests, legitimate_interest: stop fraud}}
recipients:
  mailer: {{purpose: e-mail delivery, country: DE}}
subjects:
  customer:
    system: shop
    table: customers
    identities: {{email: email, phone: phone}}
systems:
  shop:
    url: "{url}"
    description: The shop database
    tenant_column: tenant_id
    tables:
      customers:
        subject: customer
        purpose: service
        fields:
          email: {{category: user.contact.email, identity: email, on_erasure: hash, recipients: [mailer]}}
          phone: {{category: user.contact.phone_number, identity: phone, on_erasure: hash}}
          full_name: {{category: user.name, on_erasure: "null", retention: 3 years after the last order}}
          credit_score: {{category: user.financial, purpose: risk, provided_by_subject: false,
                          on_erasure: "null"}}
      orders:
        parent: customers
        purpose: service
        fields:
          shipping_address: {{category: user.contact.address, on_erasure: "null"}}
      order_items:
        subject: customer
        parent: orders
        purpose: service
        fields:
          gift_message: {{category: user.content.private, on_erasure: "null"}}
      login_events:
        subject: customer
        identity: {{email: user_email}}
        purpose: risk
        on_erasure: delete_row
        fields:
          user_email: {{category: user.contact.email, identity: email}}
          ip: {{category: user.device.ip_address, provided_by_subject: false}}
"""

ALICE = "alice@example.org"
BOB = "bob@example.org"
CAROL = "carol@example.org"


def seed(url: str) -> None:
    """Create the schema and rows: Alice (t1, id 1; t2, id 4), Bob (t1, 2), Carol (t1, 3)."""
    engine = make_engine(url)
    metadata.create_all(engine)
    when = datetime(2026, 1, 5, 10, 0)
    with engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": 1, "tenant_id": "t1", "email": ALICE, "phone": "+4930901820", "full_name": "Alice A",
             "credit_score": 700, "signed_up": when},
            {"id": 2, "tenant_id": "t1", "email": BOB, "phone": None, "full_name": "Bob B",
             "credit_score": 650, "signed_up": when},
            {"id": 3, "tenant_id": "t1", "email": CAROL, "phone": None, "full_name": "Carol C",
             "credit_score": 600, "signed_up": when},
            {"id": 4, "tenant_id": "t2", "email": ALICE, "phone": None, "full_name": "Alice in t2",
             "credit_score": 500, "signed_up": when},
        ])
        conn.execute(orders.insert(), [
            {"id": 10, "customer_id": 1, "tenant_id": "t1", "shipping_address": "1 Main St", "total": 10},
            {"id": 11, "customer_id": 1, "tenant_id": "t1", "shipping_address": "1 Main St", "total": 20},
            {"id": 12, "customer_id": 2, "tenant_id": "t1", "shipping_address": "2 Side St", "total": 30},
            {"id": 13, "customer_id": 4, "tenant_id": "t2", "shipping_address": "4 Far St", "total": 40},
        ])
        conn.execute(order_items.insert(), [
            {"id": 100, "order_id": 10, "tenant_id": "t1", "gift_message": "for mum"},
            {"id": 101, "order_id": 11, "tenant_id": "t1", "gift_message": None},
            {"id": 102, "order_id": 12, "tenant_id": "t1", "gift_message": "for bob's dad"},
            {"id": 103, "order_id": 13, "tenant_id": "t2", "gift_message": "t2 gift"},
        ])
        conn.execute(login_events.insert(), [
            {"id": 1000, "tenant_id": "t1", "user_email": ALICE, "ip": "10.0.0.1"},
            {"id": 1001, "tenant_id": "t1", "user_email": ALICE, "ip": "10.0.0.2"},
            {"id": 1002, "tenant_id": "t1", "user_email": BOB, "ip": "10.0.0.3"},
            {"id": 1003, "tenant_id": "t2", "user_email": ALICE, "ip": "10.9.9.9"},
        ])
        conn.execute(products.insert(), [{"id": 1, "name": "Widget"}])
    engine.dispose()


def make_tutela(url: str, store_url: str, base_dir: Path, smtp_port: int = 25) -> Tutela:
    """A migrated engine over the seeded shop database with an in-memory keyring."""
    from tutela.crypto.keyring import Keyring

    text = POLICY.format(store=store_url, url=url, smtp_port=smtp_port)
    policy = parse_policy(textwrap.dedent(text), "requests-test.yaml", base_dir=str(base_dir))
    tutela = Tutela(policy, store=Store(store_url), keyring=Keyring.generate(), actor="test")
    tutela.migrate()
    return tutela
