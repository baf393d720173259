"""The GDPR constants: each fact encoded once, checked against LEGAL.md."""

from datetime import date, timedelta

import pytest

from tutela import legal
from tutela.durations import add_months


def test_deadlines():
    assert legal.REQUEST_RESPONSE_MONTHS == 1  # Art. 12(3)
    assert legal.REQUEST_EXTENSION_MONTHS == 2  # Art. 12(3)
    assert legal.BREACH_AUTHORITY_DEADLINE == timedelta(hours=72)  # Art. 33(1)
    assert legal.DEFAULT_REQUEST_SLA == timedelta(days=14)  # seed 004


@pytest.mark.parametrize(("received", "due"), [
    (date(2026, 3, 5), date(2026, 4, 5)),
    (date(2026, 8, 31), date(2026, 9, 30)),
    (date(2026, 1, 31), date(2026, 2, 28)),
    (date(2028, 1, 31), date(2028, 2, 29)),
    (date(2026, 12, 15), date(2027, 1, 15)),
])
def test_one_month_examples_from_legal_md(received, due):
    assert add_months(received, legal.REQUEST_RESPONSE_MONTHS) == due


def test_lawful_bases_and_articles():
    assert [b.value for b in legal.LawfulBasis] == [
        "consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests"]
    assert legal.LawfulBasis.CONSENT.article == "Art. 6(1)(a)"
    assert legal.LawfulBasis.LEGITIMATE_INTERESTS.article == "Art. 6(1)(f)"


def test_special_categories_cover_art9_and_art10():
    assert len(legal.SpecialCategory) == 9
    assert legal.SpecialCategory.CRIMINAL.value == "criminal"


@pytest.mark.parametrize(("country", "age"), [
    ("BE", 13), ("SE", 13), ("AT", 14), ("IT", 14), ("ES", 14), ("FR", 15), ("CZ", 15), ("SI", 15),
    ("DE", 16), ("IE", 16), ("NL", 16), ("HU", 16), ("XX", 16), (None, 16),
])
def test_digital_consent_age(country, age):
    assert legal.digital_consent_age(country) == age


def test_digital_consent_age_override():
    assert legal.digital_consent_age("de", {"DE": 14}) == 14


def test_rights_articles():
    assert legal.Right.ERASURE.article == "Art. 17"
    assert legal.Right.PORTABILITY.article == "Art. 20"
