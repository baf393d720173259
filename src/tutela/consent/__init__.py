"""Consent (R17–R19): notices, the append-only ledger, ``may_process``, restriction/objection, forms.

The Python API an application calls::

    from tutela.consent import may_process, subject_key_for
    key = subject_key_for(tutela, "email", "ada@example.org")
    if may_process(tutela, key, "newsletter"):
        ...
"""

from tutela.consent.children import ParentalConsent
from tutela.consent.decisions import Decision, may_process, may_process_identity, may_process_many
from tutela.consent.ledger import (
    ConsentEvent,
    consent_history,
    give_consent,
    record_events,
    subject_key_for,
    withdraw_consent,
)
from tutela.consent.notices import Notice, create_notice, get_notice, list_notices
from tutela.consent.restrictions import has_objected, is_restricted, lift, restrict

__all__ = [
    "ConsentEvent", "Decision", "Notice", "ParentalConsent", "consent_history", "create_notice", "get_notice",
    "give_consent", "has_objected", "is_restricted", "lift", "list_notices", "may_process", "may_process_identity",
    "may_process_many", "record_events", "restrict", "subject_key_for", "withdraw_consent",
]
