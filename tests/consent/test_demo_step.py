"""The consent step of `tutela demo`: records consents, withdraws one, prints decisions; re-runs safely."""

from __future__ import annotations

import io

import sqlalchemy as sa
from rich.console import Console

from tutela.consent.tables import ledger
from tutela.demo.run import POLICY_FILE, run_demo
from tutela.demo.steps import step_consent
from tutela.engine import Tutela


def _events(directory) -> int:
    with Tutela.open(directory / POLICY_FILE) as tutela, tutela.store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(ledger)).scalar()


def test_consent_step_shows_decisions_and_reruns(tmp_path):
    directory = tmp_path / "demo"
    out = io.StringIO()
    result = run_demo(directory, size=60, steps=[step_consent], console=Console(file=out, width=200))
    assert result.ok, out.getvalue()
    text = out.getvalue()
    assert "newsletter) → allowed" in text and "was withdrawn (Art. 7(3))" in text
    assert "service_delivery) → allowed" in text and "objection does not apply" in text
    assert "contacts may be mailed" in text and "@" not in text.split("Consent:")[1]
    assert (directory / "consent-form.html").read_text().count('name="consent.newsletter"') == 1
    first = _events(directory)
    again = io.StringIO()
    assert run_demo(directory, size=60, steps=[step_consent], console=Console(file=again, width=200)).ok
    assert "0 written, 2 already recorded" in again.getvalue()
    assert _events(directory) > first  # the form and the unsubscribe are new events; the import is not
