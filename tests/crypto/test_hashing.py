import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutela.crypto.hashing import (
    is_keyed_hash,
    keyed_hash,
    keyed_hash_normalised,
    keyed_hashes,
    md5_compat,
    normalise_email,
    normalise_identity,
    normalise_phone,
    pseudonym,
)
from tutela.crypto.keyring import Keyring
from tutela.errors import InvalidInput


@pytest.fixture(scope="module")
def keyring():
    return Keyring.generate()


def test_email_is_trimmed_and_lower_cased():
    assert normalise_email("  Anna.Schmidt@Example.DE \n") == "anna.schmidt@example.de"


@pytest.mark.parametrize("bad", ["", "   ", "anna", "anna@", "@example.de", "an na@example.de",
                                 "a@b@c.de", "anna@example..de", "anna@.example.de"])
def test_malformed_emails_are_invalid_input(bad):
    with pytest.raises(InvalidInput):
        normalise_email(bad)


def test_every_spelling_of_one_email_gives_one_hash(keyring):
    spellings = ["anna@example.de", "ANNA@EXAMPLE.DE", " Anna@Example.de ", "\tanna@example.DE\n"]
    assert len({keyed_hash(keyring, "email", s) for s in spellings}) == 1


@pytest.mark.parametrize("spelling, region", [
    ("+49 30 1234567", None), ("+49301234567", None), ("+49 (30) 123-4567", None),
    ("030 1234567", "DE"), ("030/123 45 67", "de"), ("0049 30 1234567", "DE"),
])
def test_phone_numbers_are_normalised_to_e164(spelling, region):
    assert normalise_phone(spelling, region) == "+49301234567"


def test_several_formats_of_one_phone_number_give_one_hash(keyring):
    spellings = ["+49 30 1234567", "+49301234567", "+49 (30) 123-4567", "+49-30-123 45 67"]
    assert len({keyed_hash(keyring, "phone", s) for s in spellings}) == 1


@pytest.mark.parametrize("bad, region", [("12", None), ("phone me", None), ("030 1234567", None),
                                         ("+49 1", None), ("", "DE"), ("+999 1234567", None)])
def test_malformed_phone_numbers_are_invalid_input(bad, region):
    with pytest.raises(InvalidInput):
        normalise_phone(bad, region)


def test_error_messages_do_not_repeat_the_identifier():
    with pytest.raises(InvalidInput) as caught:
        normalise_email("secret person@example.de")
    assert "secret person" not in str(caught.value)
    with pytest.raises(InvalidInput) as caught:
        normalise_phone("555 0199 777")
    assert "555" not in str(caught.value)


def test_other_identity_kinds_are_trimmed_and_empty_values_refused():
    assert normalise_identity("customer_no", "  K-123 ") == "K-123"
    with pytest.raises(InvalidInput):
        normalise_identity("customer_no", "   ")


def test_keyed_hash_format_names_the_key_and_is_an_hmac_of_the_normalised_value(keyring):
    value = keyed_hash(keyring, "email", " Anna@Example.DE")
    scheme, key_id, digest = value.split(":")
    assert scheme == "t1" and key_id == keyring.current_hash_key_id
    expected = hmac.new(keyring.hash_key(), b"anna@example.de", hashlib.sha256).hexdigest()
    assert digest == expected
    assert keyed_hash_normalised(keyring.hash_key(), key_id, "anna@example.de") == value
    assert pseudonym(keyring, "email", "anna@example.de") == value


def test_hashes_are_stable_across_runs_and_versions(monkeypatch):
    # A fixed master key must always give this pseudonym: stored hashes stay matchable after upgrades.
    monkeypatch.setenv("TUTELA_TEST_KEY", base64.b64encode(bytes(range(32))).decode())
    keyring = Keyring.load("env:TUTELA_TEST_KEY")
    assert keyed_hash(keyring, "email", "Anna@Example.de") == (
        "t1:6f0f94:64922d5a1165910dd7e492dae4eecf6dbcf227f1b799d2b1d1d036b6af3d9a45")
    assert keyed_hash(Keyring.load("env:TUTELA_TEST_KEY"), "email", "anna@example.de ") == (
        keyed_hash(keyring, "email", "Anna@Example.de"))


def test_different_keys_give_unlinkable_hashes(keyring):
    other = Keyring.generate()
    a = keyed_hash(keyring, "email", "anna@example.de").split(":")[2]
    b = keyed_hash(other, "email", "anna@example.de").split(":")[2]
    assert a != b


def test_after_rotation_old_hashes_are_still_found_under_the_old_key():
    keyring = Keyring.generate()
    old = keyed_hash(keyring, "email", "anna@example.de")
    keyring.rotate()
    assert keyed_hash(keyring, "email", "anna@example.de") != old
    assert old in keyed_hashes(keyring, "email", "Anna@example.de")
    assert keyed_hash(keyring, "email", "anna@example.de", key_id=old.split(":")[1]) == old


def test_is_keyed_hash_accepts_only_the_exact_format(keyring):
    value = keyed_hash(keyring, "email", "anna@example.de")
    assert is_keyed_hash(value)
    for other in ["anna@example.de", value.upper(), value + "\n", value[:-1], "t1:abcdef:" + "g" * 64,
                  "t2" + value[2:], "t1:abcdef:" + "0" * 63 + "@", None, 42]:
        assert not is_keyed_hash(other)


@given(st.emails())
def test_no_email_is_ever_mistaken_for_a_keyed_hash(email):
    assert not is_keyed_hash(email)
    assert not is_keyed_hash(email.lower())


@given(st.emails())
def test_email_normalisation_is_idempotent(email):
    once = normalise_email(email)
    assert normalise_email(once) == once


def test_md5_compat_matches_plain_md5_of_the_normalised_value():
    assert md5_compat("email", " Anna@Example.DE ") == hashlib.md5(b"anna@example.de").hexdigest()
    assert md5_compat("phone", "+49 30 1234567") == hashlib.md5(b"+49301234567").hexdigest()
