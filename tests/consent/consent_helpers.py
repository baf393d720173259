"""Helpers of the consent tests: a policy with a purpose for every lawful basis, a migrated store."""

from __future__ import annotations

from tutela.crypto.keyring import Keyring
from tutela.engine import Tutela
from tutela.policy import parse_policy
from tutela.store import Store

POLICY = """
version: 1
controller: {name: Picflow Demo GmbH, contact: privacy@picflow.example}
engine:
  digital_consent_ages: {NL: 13}
purposes:
  newsletter: {description: Send the newsletter, basis: consent, direct_marketing: true}
  analytics: {description: Product analytics, basis: consent, consent: bundled}
  partners: {description: Share with partners, basis: consent, consent: bundled}
  service: {description: Run bookings, basis: contract}
  tax: {description: Keep invoices, basis: legal_obligation}
  safety: {description: Protect life, basis: vital_interests}
  registry: {description: Public register, basis: public_task}
  fraud: {description: Fraud prevention, basis: legitimate_interests, legitimate_interest: stop fraud}
  postal: {description: Postal offers, basis: legitimate_interests, direct_marketing: true,
           legitimate_interest: marketing to customers}
systems:
  app:
    url: sqlite:///app.db
    tables: {}
"""


def make_tutela(url: str) -> Tutela:
    """A Tutela on a freshly migrated store at ``url`` with an in-memory keyring."""
    store = Store(url)
    store.migrate()
    return Tutela(parse_policy(POLICY), store=store, keyring=Keyring.generate(), actor="test")


def key(tutela: Tutela, name: str) -> str:
    """The subject key of ``<name>@example.org``."""
    from tutela.consent import subject_key_for

    return subject_key_for(tutela, "email", f"{name}@example.org")
