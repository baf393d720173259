"""GDPR facts Tutela encodes, each once, with its article (Regulation (EU) 2016/679).

Month arithmetic follows Regulation (EEC, Euratom) No 1182/71 Art. 3 and EDPB Guidelines
01/2022: a period in months ends on the same date of the last month, or on that month's
last day where the date does not exist (31 January + 1 month = 28/29 February).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

# Art. 12(3): answer a data-subject request within one month of receipt ...
REQUEST_RESPONSE_MONTHS = 1
# ... extendable once by two further months, with reasons told to the subject.
REQUEST_EXTENSION_MONTHS = 2
# Art. 12(4): a refusal is also due within one month.
REQUEST_REFUSAL_MONTHS = 1
# Art. 33(1): notify the supervisory authority within 72 hours of becoming aware.
BREACH_AUTHORITY_DEADLINE = timedelta(hours=72)
# Seed 004 (Picflow): internal answer target of two weeks, inside the legal month.
DEFAULT_REQUEST_SLA = timedelta(days=14)
# Seed 004: customers are told of a breach within 24 hours (configurable SLA).
DEFAULT_BREACH_CUSTOMER_SLA = timedelta(hours=24)


class LawfulBasis(StrEnum):
    """Art. 6(1)(a)-(f)."""

    CONSENT = "consent"  # 6(1)(a)
    CONTRACT = "contract"  # 6(1)(b)
    LEGAL_OBLIGATION = "legal_obligation"  # 6(1)(c)
    VITAL_INTERESTS = "vital_interests"  # 6(1)(d)
    PUBLIC_TASK = "public_task"  # 6(1)(e)
    LEGITIMATE_INTERESTS = "legitimate_interests"  # 6(1)(f)

    @property
    def article(self) -> str:
        letter = "abcdef"[list(LawfulBasis).index(self)]
        return f"Art. 6(1)({letter})"


class SpecialCategory(StrEnum):
    """Art. 9(1) special categories, and Art. 10 criminal data."""

    RACIAL_OR_ETHNIC_ORIGIN = "racial_or_ethnic_origin"
    POLITICAL_OPINIONS = "political_opinions"
    RELIGIOUS_OR_PHILOSOPHICAL_BELIEFS = "religious_or_philosophical_beliefs"
    TRADE_UNION_MEMBERSHIP = "trade_union_membership"
    GENETIC = "genetic"
    BIOMETRIC = "biometric"
    HEALTH = "health"
    SEX_LIFE_OR_ORIENTATION = "sex_life_or_orientation"
    CRIMINAL = "criminal"  # Art. 10


class Right(StrEnum):
    """Chapter III rights that a data-subject request can exercise, with their articles."""

    ACCESS = "access"  # Art. 15
    RECTIFICATION = "rectification"  # Art. 16
    ERASURE = "erasure"  # Art. 17
    RESTRICTION = "restriction"  # Art. 18
    PORTABILITY = "portability"  # Art. 20
    OBJECTION = "objection"  # Art. 21

    @property
    def article(self) -> str:
        return {
            "access": "Art. 15",
            "rectification": "Art. 16",
            "erasure": "Art. 17",
            "restriction": "Art. 18",
            "portability": "Art. 20",
            "objection": "Art. 21",
        }[self.value]


# Art. 8(1): the age of digital consent is 16 unless a member state set a lower one (not below 13).
DEFAULT_DIGITAL_CONSENT_AGE = 16
MINIMUM_DIGITAL_CONSENT_AGE = 13
# Source: European Commission, SWD(2020) 115 (evaluation staff working document), and the
# Slovenian data protection act ZVOP-2 (2022). ISO 3166-1 alpha-2 codes. Overridable in the policy.
DIGITAL_CONSENT_AGE_BY_COUNTRY: dict[str, int] = {
    **dict.fromkeys(["BE", "DK", "EE", "FI", "LV", "MT", "PT", "SE"], 13),
    **dict.fromkeys(["AT", "BG", "CY", "IT", "LT", "ES"], 14),
    **dict.fromkeys(["CZ", "FR", "GR", "SI"], 15),
    **dict.fromkeys(["HR", "DE", "HU", "IE", "LU", "NL", "PL", "RO", "SK"], 16),
}


def digital_consent_age(country: str | None, overrides: dict[str, int] | None = None) -> int:
    """Art. 8(1): the age below which a holder of parental responsibility must consent."""
    code = (country or "").upper()
    if overrides and code in overrides:
        return overrides[code]
    return DIGITAL_CONSENT_AGE_BY_COUNTRY.get(code, DEFAULT_DIGITAL_CONSENT_AGE)


# Art. 30(1): what a record of processing activities must contain.
ROPA_FIELDS = (
    "controller",  # 30(1)(a) name and contact of controller, representative, DPO
    "purposes",  # 30(1)(b)
    "categories_of_subjects_and_data",  # 30(1)(c)
    "recipients",  # 30(1)(d) incl. third countries
    "third_country_transfers",  # 30(1)(e) and safeguards
    "retention",  # 30(1)(f) envisaged time limits for erasure
    "security_measures",  # 30(1)(g), Art. 32(1)
)

# Countries whose transfers need no Art. 46 safeguard: EU/EEA members.
EEA_COUNTRIES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO".split()
)
