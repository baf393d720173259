"""Art. 8: a child's consent needs the holder of parental responsibility.

The age of digital consent per country comes from :func:`tutela.legal.digital_consent_age`
(the EU member states' table, with the policy's ``engine.digital_consent_ages`` overrides). A
consent from a subject who declared an age (or a date of birth) below that age is accepted only
with a :class:`ParentalConsent` record; otherwise :class:`~tutela.errors.InvalidInput`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tutela.errors import InvalidInput
from tutela.legal import digital_consent_age

#: Art. 8(2) asks for "reasonable efforts" to verify; these are the ways Tutela records.
VERIFICATION_METHODS = ("email_confirmation", "signed_paper", "payment_card", "id_document",
                        "video_call", "declared_on_form", "other")
RELATIONSHIPS = ("parent", "legal_guardian", "other_holder")


@dataclass(frozen=True)
class ParentalConsent:
    """Who gave or authorised consent for a child (Art. 8(1)) and how it was verified (8(2))."""

    holder_name: str
    relationship: str = "parent"
    verification_method: str = "declared_on_form"

    def validate(self) -> None:
        """Raise :class:`InvalidInput` when a field is missing or not one of the known values."""
        if not self.holder_name or not self.holder_name.strip():
            raise InvalidInput("a parental consent needs the name of the holder of parental responsibility")
        if len(self.holder_name) > 200:
            raise InvalidInput("the parent's name is longer than 200 characters")
        if self.relationship not in RELATIONSHIPS:
            raise InvalidInput(f"parental relationship '{self.relationship}' is not one of "
                               f"{', '.join(RELATIONSHIPS)}")
        if self.verification_method not in VERIFICATION_METHODS:
            raise InvalidInput(f"verification method '{self.verification_method}' is not one of "
                               f"{', '.join(VERIFICATION_METHODS)}")


def age_on(birth_date: date, today: date) -> int:
    """Completed years between ``birth_date`` and ``today``."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


def normalise_country(country: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code in upper case, or None; InvalidInput when malformed."""
    if country is None or country.strip() == "":
        return None
    code = country.strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise InvalidInput(f"country '{country}' is not a two-letter code (ISO 3166-1)")
    return code


def check_child_consent(age: int | None, country: str | None, parent: ParentalConsent | None,
                        overrides: dict[str, int] | None = None) -> None:
    """Refuse a consent from a subject under the age of digital consent without a parent's record.

    ``age`` None means the subject declared no age: nothing to check. A parental record given for
    an adult is accepted (it is kept as the subject stated it).
    """
    if parent is not None:
        parent.validate()
    if age is None:
        return
    if age < 0 or age > 150:
        raise InvalidInput(f"declared age {age} is not plausible")
    threshold = digital_consent_age(country, overrides)
    if age < threshold and parent is None:
        where = f"in {country}" if country else "where no country is declared (the default)"
        raise InvalidInput(f"a subject aged {age} is under the age of digital consent {where}, which is "
                           f"{threshold} (GDPR Art. 8(1)); consent must be given or authorised by the "
                           "holder of parental responsibility")
