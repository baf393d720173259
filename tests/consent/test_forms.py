"""Consent forms: the rendered snippet (escaped, separate vs bundled) and recording a submission."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from consent_helpers import key

from tutela.consent import consent_history, create_notice, may_process
from tutela.consent.forms import record_form_submission, render_form, render_withdrawal_form
from tutela.consent.tables import ledger
from tutela.errors import InvalidInput, NotFound


@pytest.fixture
def noticed(sqlite_tutela):
    create_notice(sqlite_tutela, "newsletter", "# News\nWeekly. <script>alert(1)</script>", actor="op")
    create_notice(sqlite_tutela, "analytics", "We count **clicks**. [x](javascript:alert(1))", actor="op")
    create_notice(sqlite_tutela, "partners", "We share with partners.", actor="op")
    return sqlite_tutela


def _fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def test_render_separate_and_bundled_and_escaped(noticed):
    html = render_form(noticed, ["newsletter", "analytics", "partners"], collection_point="signup",
                       action="/consent/signup")
    assert 'name="consent.newsletter"' in html and 'name="consent.bundle"' in html
    assert 'name="consent.analytics"' not in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "href=\"javascript:" not in html  # the unsafe link stays plain text
    assert "<strong>clicks</strong>" in html
    assert _fields(html)["bundle"] == "analytics partners"
    assert _fields(html)["notice.newsletter"] == "1"
    assert 'data-collection-point="signup"' in html


def test_render_refuses_non_consent_and_missing_notice(sqlite_tutela):
    with pytest.raises(InvalidInput, match="not consent"):
        render_form(sqlite_tutela, ["service"], collection_point="x", action="/x")
    with pytest.raises(NotFound, match="no notice yet"):
        render_form(sqlite_tutela, ["newsletter"], collection_point="x", action="/x")


def test_submission_records_ticked_purposes(noticed):
    form = _fields(render_form(noticed, ["newsletter", "analytics", "partners"], collection_point="signup",
                               action="/c"))
    form |= {"email": "Ada@Example.org", "consent.bundle": "yes", "birth_date": "1990-01-01", "country": "IT"}
    ids = record_form_submission(noticed, form, collection_point="signup", tenant="acme")
    assert len(ids) == 2
    subject = key(noticed, "ada")
    assert may_process(noticed, subject, "analytics", tenant="acme").allowed
    assert may_process(noticed, subject, "partners", tenant="acme").allowed
    assert not may_process(noticed, subject, "newsletter", tenant="acme").allowed
    entry = consent_history(noticed, subject)[0]
    assert (entry["method"], entry["collection_point"], entry["declared_country"]) == ("web_form", "signup", "IT")


def test_bad_submissions_write_nothing(noticed):
    base = _fields(render_form(noticed, ["newsletter"], collection_point="p", action="/c"))
    base |= {"email": "kid@example.org", "consent.newsletter": "yes"}
    cases = [
        ({"email": "nope"}, "e-mail|email"),
        ({"notice.newsletter": "5"}, "no notice version 5"),
        ({"notice_sha256.newsletter": "0" * 64}, "differs"),
        ({"birth_date": "2020-02-30"}, "date of birth"),
        ({"birth_date": "2014-01-01", "country": "DE"}, "Art. 8"),
        ({"consent.telepathy": "yes"}, "not declared"),
        ({"consent.bundle": "yes", "bundle": "newsletter"}, "cannot be part of a bundle"),
    ]
    for change, problem in cases:
        with pytest.raises(InvalidInput, match=problem):
            record_form_submission(noticed, base | change, collection_point="p", tenant=None)
    with noticed.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ledger)).scalar() == 0
    with_parent = base | {"birth_date": "2014-01-01", "country": "DE", "parent_name": "Erika"}
    assert len(record_form_submission(noticed, with_parent, collection_point="p", tenant=None)) == 1


def test_withdrawal_form_is_as_easy_as_giving(noticed):
    html = render_withdrawal_form(noticed, ["newsletter"], collection_point="prefs", action="/w")
    assert 'name="withdraw.newsletter"' in html and "Send the newsletter" in html
    given = _fields(render_form(noticed, ["newsletter"], collection_point="signup", action="/c"))
    record_form_submission(noticed, given | {"email": "ada@example.org", "consent.newsletter": "yes"},
                           collection_point="signup", tenant=None)
    subject = key(noticed, "ada")
    assert may_process(noticed, subject, "newsletter").allowed
    ids = record_form_submission(noticed, {"email": "ada@example.org", "withdraw.newsletter": "yes"},
                                 collection_point="prefs", tenant=None)
    assert len(ids) == 1 and may_process(noticed, subject, "newsletter").code == "withdrawn"
    with pytest.raises(InvalidInput, match="not declared"):
        record_form_submission(noticed, {"email": "ada@example.org", "withdraw.telepathy": "yes"},
                               collection_point="prefs", tenant=None)
    with pytest.raises(InvalidInput, match="not consent"):
        render_withdrawal_form(noticed, ["service"], collection_point="prefs", action="/w")
