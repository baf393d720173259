import pytest

from tutela.crypto.encryption import decrypt, encrypt
from tutela.crypto.keyring import Keyring
from tutela.errors import InvalidInput


@pytest.fixture
def key():
    return Keyring.generate().encryption_key


def test_round_trip_with_associated_data(key):
    sealed = encrypt(key, b"Anna Schmidt", b"users.name:7")
    assert b"Anna" not in sealed
    assert decrypt(key, sealed, b"users.name:7") == b"Anna Schmidt"


def test_each_encryption_uses_a_fresh_nonce(key):
    assert encrypt(key, b"same", None) != encrypt(key, b"same", None)


def test_wrong_key_wrong_aad_or_altered_bytes_fail(key):
    sealed = encrypt(key, b"Anna", b"users.name:7")
    with pytest.raises(InvalidInput):
        decrypt(Keyring.generate().encryption_key, sealed, b"users.name:7")
    with pytest.raises(InvalidInput):
        decrypt(key, sealed, b"users.name:8")
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(InvalidInput):
        decrypt(key, altered, b"users.name:7")
    with pytest.raises(InvalidInput):
        decrypt(key, b"\x01short", None)


def test_keys_must_be_32_bytes():
    with pytest.raises(InvalidInput):
        encrypt(b"short", b"x", None)
