"""Policy loading: a valid policy loads; every kind of bad policy is reported with file:line."""

from __future__ import annotations

import pytest

from tutela.errors import PolicyError
from tutela.policy import load_policy, parse_policy

from support import SAMPLE_POLICY

GOOD = SAMPLE_POLICY.read_text()


def problems_of(text: str) -> list[str]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "bad.yaml")
    return [str(p) for p in info.value.problems]


def test_sample_policy_loads_with_defaults_and_derived_values():
    policy = load_policy(SAMPLE_POLICY)
    logs = policy.systems["app"].tables["system_logs"]
    assert logs.retention.after.text == "1y" and logs.retention.from_ == "created_at"
    field = policy.systems["app"].tables["end_users"].fields["email"]
    assert policy.field_basis(policy.systems["app"].tables["end_users"], field).value == "contract"
    assert policy.field_action(logs, logs.fields["user_email"]).spec == "delete_row"  # table default
    assert policy.field_action(logs, logs.fields["ip"]).spec == "generalize:ip"
    assert policy.tenant_column("app", "bookings") == "tenant_id"
    assert policy.line_of(("systems", "app", "tables", "bookings")) == 41


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("basis: contract", "basis: contrct"), "bad.yaml:14: purposes.service.basis: 'contrct' is not allowed"),
        (("category: user.name,", "category: user.nam,"),
         "'user.nam' is not a fideslang data category; did you mean user.name"),
        (("after: 1y", "after: 3x"), "retention.after: '3x' is not a duration"),
        (("after: 1y", "after: -1d"), "retention.after: '-1d' is negative"),
        (("[sentry]", "[sentri]"), "recipient 'sentri' is not declared under recipients"),
        (("tenant_column: tenant_id", "tenant_colum: tenant_id"), "systems.app.tenant_colum: unknown key"),
        (("parent: end_users", "parent: nowhere"), "parent table 'nowhere' is not declared"),
        (("on_erasure: hash, recipients", "on_erasure: shred, recipients"), "'shred' is not an erasure action"),
        (("generalize:ip", "generalize:street"), "'generalize:street' has an unknown rule"),
        (("special: health", "special: hobbies"), "special: 'hobbies' is not allowed"),
        (("table: end_users", "table: users"), "subject 'end_user' names table 'users', which is not declared"),
        (("purpose: service\n        fields:\n          notes",
          "purpose: marketing\n        fields:\n          notes"), "purpose 'marketing' is not declared"),
        (("transfer_mechanism: SCC", "dpa_date: 2024-01-01"), "outside the EEA: name its transfer_mechanism"),
        (("country: US", "country: USA"), "'USA' is not a two-letter country code"),
        (("identity: {email: user_email}", "identity: {passport: user_email}"),
         "identity 'passport' is not one of subject 'end_user''s identities"),
    ],
    ids=["basis", "category", "duration", "negative-duration", "recipient", "unknown-key", "parent", "action",
         "generalize-rule", "special-category", "subject-table", "purpose", "transfer", "country", "identity"],
)
def test_bad_policy_is_reported_with_file_line_and_sentence(change, expected):
    old, new = change
    assert old in GOOD, old
    found = problems_of(GOOD.replace(old, new, 1))
    assert any(expected in p for p in found), found
    assert all(p.startswith("bad.yaml:") and p.split(":")[1].isdigit() for p in found), found


def test_all_structural_problems_are_reported_at_once():
    text = GOOD.replace("basis: contract", "basis: nope").replace("category: user.name,", "category: x,") \
               .replace("after: 1y", "after: soon")
    found = problems_of(text)
    assert len(found) == 3, found
    assert [int(p.split(":")[1]) for p in found] == sorted(int(p.split(":")[1]) for p in found)


def test_all_cross_reference_problems_are_reported_at_once():
    # Cross-references are checked once the structure is valid, and then all together.
    text = GOOD.replace("[sentry]", "[nobody]").replace("parent: end_users", "parent: nowhere") \
               .replace("system: app\n", "system: other\n")
    found = problems_of(text)
    assert len(found) == 3, found


def test_duplicate_table_is_reported_with_both_lines():
    text = GOOD + "      bookings:\n        subject: end_user\n        parent: end_users\n"
    found = problems_of(text)
    assert any("systems.app.tables.bookings: declared twice (first on line 41)" in p for p in found), found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("controller: [unclosed", "this is not valid YAML"),
        ("", "the policy file is empty"),
        ("- just\n- a list\n", "a policy is a mapping"),
        ("version: 1\n", "controller: required but missing"),
    ],
    ids=["yaml-syntax", "empty", "not-a-mapping", "missing-sections"],
)
def test_malformed_files(text, expected):
    assert any(expected in p for p in problems_of(text))


def test_parent_cycle_is_reported():
    text = GOOD.replace("      end_users:\n        subject: end_user\n",
                        "      end_users:\n        subject: end_user\n        parent: bookings\n")
    assert any("parent links form a cycle" in p for p in problems_of(text))


def test_missing_file_is_a_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="no such policy file"):
        load_policy(tmp_path / "nope.yaml")


def test_env_url_is_resolved_and_missing_variable_is_a_clear_error(monkeypatch):
    from tutela.errors import ConfigurationError

    policy = parse_policy(GOOD.replace("url: sqlite:///app.db", "url: env:APP_DB_URL"), "p.yaml")
    monkeypatch.delenv("APP_DB_URL", raising=False)
    with pytest.raises(ConfigurationError, match="APP_DB_URL is not set"):
        policy.systems["app"].resolved_url()
    monkeypatch.setenv("APP_DB_URL", "sqlite:////tmp/x.db")
    assert policy.systems["app"].resolved_url() == "sqlite:////tmp/x.db"


def test_relative_sqlite_path_is_taken_from_the_policy_folder():
    policy = load_policy(SAMPLE_POLICY)
    assert policy.systems["app"].resolved_url(policy.base_dir) == f"sqlite:///{SAMPLE_POLICY.parent}/app.db"
