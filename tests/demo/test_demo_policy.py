"""The demo's policy loads without a single problem and names only what app.db really has."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from tutela.demo.app import build_app
from tutela.demo.run import POLICY_FILE, policy_text
from tutela.engine import Tutela
from tutela.legal import EEA_COUNTRIES, LawfulBasis
from tutela.policy import load_policy, parse_policy
from tutela.policy.check import check_policy
from tutela.store.database import make_engine


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("demo")
    engine = make_engine(f"sqlite:///{directory / 'app.db'}")
    build_app(engine, size=50, seed=5, now=datetime(2026, 1, 1))
    engine.dispose()
    (directory / POLICY_FILE).write_text(policy_text(), encoding="utf-8")
    return directory


def test_policy_loads_with_zero_problems(demo_dir):
    policy = load_policy(demo_dir / POLICY_FILE)
    assert policy.problems() == []
    assert policy.engine.store == "sqlite:///tutela-store.db"
    assert policy.engine.keyring == "tutela.key"
    assert set(policy.subjects) == {"end_user", "contact", "operator"}


def test_policy_covers_bases_recipients_and_erasure_actions():
    policy = parse_policy(policy_text(), "demo.yaml")
    bases = {p.basis for p in policy.purposes.values()}
    assert {LawfulBasis.CONTRACT, LawfulBasis.CONSENT, LawfulBasis.LEGITIMATE_INTERESTS,
            LawfulBasis.LEGAL_OBLIGATION} <= bases
    assert policy.purposes["newsletter"].direct_marketing
    assert policy.purposes["security_logging"].legitimate_interest
    outside = [r for r in policy.recipients.values() if r.country not in EEA_COUNTRIES]
    assert outside and all(r.transfer_mechanism for r in outside)
    tables = policy.systems["app"].tables
    actions = {(t, f): policy.field_action(table, field).spec
               for t, table in tables.items() for f, field in table.fields.items()}
    assert actions[("end_users", "email")] == "hash"
    assert actions[("end_users", "date_of_birth")] == "generalize:year"
    assert actions[("bookings", "notes")] == "null"
    assert actions[("newsletter_contacts", "ip")] == "generalize:ip"
    assert actions[("end_users", "country")] == "keep"
    assert actions[("system_logs", "ip")] == "delete_row"
    assert actions[("workflow_sessions", "data")] == "delete_row"
    retention = {t: (table.retention.after.text, table.retention.from_)
                 for t, table in tables.items() if table.retention}
    assert retention["workflow_sessions"] == ("3h", "created_at")
    assert retention["uploads"] == ("7d", "created_at")
    assert retention["system_logs"] == ("1y", "created_at")
    assert any(field.recipients for table in tables.values() for field in table.fields.values())


def test_every_declared_table_and_column_exists_in_app_db(demo_dir):
    policy = load_policy(demo_dir / POLICY_FILE)
    engine = make_engine(f"sqlite:///{demo_dir / 'app.db'}")
    metadata = sa.MetaData()
    metadata.reflect(engine)
    engine.dispose()
    for _system, name, table in policy.iter_tables():
        live = metadata.tables[name]
        named = set(table.fields) | set(table.identity.values())
        if table.retention:
            named.add(table.retention.from_)
        if table.parent and table.parent.column:
            named.add(table.parent.column)
        assert named <= set(live.c.keys()), f"{name}: {named - set(live.c.keys())}"
        if policy.tenant_column("app", name) and name != "booking_answers":
            assert "tenant_id" in live.c
    for subject in policy.subjects.values():
        live = metadata.tables[subject.table]
        assert {subject.key, *subject.identities.values()} <= set(live.c.keys())


def test_schema_check_finds_nothing_to_report(demo_dir):
    with Tutela(load_policy(demo_dir / POLICY_FILE)) as tutela:
        report = check_policy(tutela)
    assert report.errors == [] and report.warnings == []
    assert report.tables_checked == len(load_policy(demo_dir / POLICY_FILE).systems["app"].tables)
