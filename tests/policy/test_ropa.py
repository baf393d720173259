"""The Art. 30 record: every format carries the same facts, taken from the policy."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from typer.testing import CliRunner

from tutela.cli.main import app
from tutela.errors import InvalidInput
from tutela.policy import load_policy
from tutela.policy.ropa import build_record, render_ropa

from support import SAMPLE_POLICY


@pytest.fixture
def policy():
    return load_policy(SAMPLE_POLICY)


def test_record_has_every_art30_element(policy):
    record = build_record(policy, today=date(2026, 1, 2))
    assert record["controller"]["name"] == "Picflow Demo GmbH"
    assert record["controller"]["dpo"]["email"] == "dpo@picflow.example"
    service = next(a for a in record["activities"] if a["purpose"] == "service")
    assert service["lawful_basis_article"] == "Art. 6(1)(b)"
    assert service["subject_categories"] == ["end_user"]
    assert "user.contact.email" in service["data_categories"]
    assert service["special_categories"] == ["health"]
    assert service["third_country_transfers"] == ["sentry (US, SCC)"]
    assert "system_logs: delete rows 1y after created_at" in service["retention"]
    assert record["security_measures"] == ["TLS 1.2+ in transit"]
    newsletter = next(a for a in record["activities"] if a["purpose"] == "newsletter")
    assert newsletter["lawful_basis"] == "consent" and newsletter["data_categories"] == []


def test_formats_agree(policy):
    as_json = json.loads(render_ropa(policy, "json"))
    rows = list(csv.DictReader(io.StringIO(render_ropa(policy, "csv"))))
    assert [r["purpose"] for r in rows] == [a["purpose"] for a in as_json["activities"]]
    assert rows[0]["data_categories"].split("; ") == as_json["activities"][0]["data_categories"]
    md = render_ropa(policy, "md")
    html = render_ropa(policy, "html")
    for fact in ("Picflow Demo GmbH", "Art. 6(1)(b)", "sentry (US, SCC)", "TLS 1.2+ in transit"):
        assert fact in md and fact in html


def test_html_escapes_policy_text(policy):
    policy.controller.name = "<script>alert(1)</script>"
    html = render_ropa(policy, "html")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_unknown_format_is_refused(policy):
    with pytest.raises(InvalidInput, match="unknown format 'pdf'"):
        render_ropa(policy, "pdf")


def test_cli_writes_each_format(tmp_path):
    runner = CliRunner()
    for fmt in ("md", "html", "csv", "json"):
        out = tmp_path / f"ropa.{fmt}"
        result = runner.invoke(app, ["--policy", str(SAMPLE_POLICY), "ropa", "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "Picflow Demo GmbH" in out.read_text()
    bad = runner.invoke(app, ["--policy", str(SAMPLE_POLICY), "ropa", "--format", "pdf"])
    assert bad.exit_code == 2 and "unknown format" in bad.output
