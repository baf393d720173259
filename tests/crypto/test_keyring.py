import base64
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization

from tutela.crypto.keyring import Keyring, new_secret_b64
from tutela.errors import ConfigurationError, NotFound


def _secrets_of(path) -> list[str]:
    return [entry["secret"] for entry in json.loads(path.read_text())["keys"]]


def test_create_writes_a_0600_file_that_loads_back_with_the_same_keys(tmp_path):
    path = tmp_path / "tutela.key"
    created = Keyring.create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = Keyring.load("tutela.key", tmp_path)
    assert loaded.current_hash_key_id == created.current_hash_key_id
    assert loaded.hash_key() == created.hash_key()
    assert loaded.encryption_key == created.encryption_key


def test_create_refuses_to_overwrite_and_leaves_the_file_unchanged(tmp_path):
    path = tmp_path / "tutela.key"
    Keyring.create(path)
    before = path.read_bytes()
    with pytest.raises(ConfigurationError, match="already exists"):
        Keyring.create(path)
    assert path.read_bytes() == before


def test_key_ids_are_six_lowercase_hex_characters():
    key_id = Keyring.generate().current_hash_key_id
    assert len(key_id) == 6 and all(c in "0123456789abcdef" for c in key_id)


def test_env_form_holds_a_base64_master_key(monkeypatch):
    secret = new_secret_b64()
    monkeypatch.setenv("TUTELA_TEST_KEY", secret)
    first = Keyring.load("env:TUTELA_TEST_KEY")
    second = Keyring.load("env:TUTELA_TEST_KEY")
    assert first.hash_key() == second.hash_key()
    assert first.current_hash_key_id == second.current_hash_key_id
    assert first.source == "env:TUTELA_TEST_KEY"


def test_env_form_may_hold_a_whole_keyring_document(tmp_path, monkeypatch):
    path = tmp_path / "k"
    original = Keyring.create(path)
    original.rotate()
    monkeypatch.setenv("TUTELA_TEST_KEYRING", path.read_text())
    loaded = Keyring.load("env:TUTELA_TEST_KEYRING")
    assert loaded.hash_key_ids == original.hash_key_ids


@pytest.mark.parametrize("value, message", [
    (None, "is not set"),
    ("", "is not set"),
    ("not base64 !!", "not base64"),
    (base64.b64encode(b"short").decode(), "at least 32"),
])
def test_env_form_errors_are_configuration_errors(monkeypatch, value, message):
    if value is None:
        monkeypatch.delenv("TUTELA_TEST_KEY", raising=False)
    else:
        monkeypatch.setenv("TUTELA_TEST_KEY", value)
    with pytest.raises(ConfigurationError, match=message):
        Keyring.load("env:TUTELA_TEST_KEY")


def test_missing_file_is_a_configuration_error_that_says_how_to_create_one(tmp_path):
    with pytest.raises(ConfigurationError, match="no keyring at .*tutela init"):
        Keyring.load("absent.key", tmp_path)


def test_a_keyring_readable_by_others_is_refused_without_showing_the_secret(tmp_path):
    path = tmp_path / "tutela.key"
    Keyring.create(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600") as caught:
        Keyring.load(str(path))
    for secret in _secrets_of(path):
        assert secret not in str(caught.value)


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ('{"format": "other"}', "not a Tutela keyring"),
    ('{"format": "tutela-keyring", "version": 9, "keys": []}', "version 9"),
    ('{"format": "tutela-keyring", "version": 1, "keys": []}', "holds no keys"),
])
def test_malformed_keyring_files_are_configuration_errors(tmp_path, text, message):
    path = tmp_path / "bad.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, text.encode())
    os.close(fd)
    with pytest.raises(ConfigurationError, match=message):
        Keyring.load(str(path))


def test_a_secret_that_no_longer_matches_its_id_is_refused_without_showing_it(tmp_path):
    path = tmp_path / "tutela.key"
    Keyring.create(path)
    doc = json.loads(path.read_text())
    doc["keys"][0]["secret"] = new_secret_b64()
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigurationError, match="does not match its id") as caught:
        Keyring.load(str(path))
    assert doc["keys"][0]["secret"] not in str(caught.value)


def test_rotation_adds_a_current_key_and_keeps_the_old_ones_resolvable(tmp_path):
    path = tmp_path / "tutela.key"
    keyring = Keyring.create(path)
    old_id, old_hash_key = keyring.current_hash_key_id, keyring.hash_key()
    new_id = keyring.rotate()
    assert new_id != old_id
    assert keyring.current_hash_key_id == new_id
    assert keyring.hash_key_ids == [new_id, old_id]
    assert keyring.hash_key(old_id) == old_hash_key
    assert keyring.hash_key() != old_hash_key
    reloaded = Keyring.load(str(path))
    assert reloaded.current_hash_key_id == new_id
    assert reloaded.hash_key(old_id) == old_hash_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["tutela.key"]


def test_an_env_keyring_cannot_be_rotated_in_place(monkeypatch):
    monkeypatch.setenv("TUTELA_TEST_KEY", new_secret_b64())
    keyring = Keyring.load("env:TUTELA_TEST_KEY")
    with pytest.raises(ConfigurationError, match="cannot be rotated"):
        keyring.rotate()
    assert len(keyring.hash_key_ids) == 1


def test_unknown_key_id_is_not_found():
    with pytest.raises(NotFound):
        Keyring.generate().hash_key("abcdef")


def test_purpose_keys_differ_from_each_other_and_between_keyrings():
    keyring = Keyring.generate()
    signing_bytes = keyring.signing_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    keys = {keyring.hash_key(), keyring.encryption_key, signing_bytes}
    assert len(keys) == 3 and all(len(k) == 32 for k in keys)
    assert Keyring.generate().hash_key() != keyring.hash_key()


def test_fingerprints_never_contain_a_secret_or_a_derived_key(tmp_path):
    path = tmp_path / "tutela.key"
    keyring = Keyring.create(path)
    keyring.rotate()
    shown = json.dumps(keyring.fingerprints()) + json.dumps(keyring.describe()) + repr(keyring)
    for secret in _secrets_of(path):
        assert secret not in shown
        assert base64.b64decode(secret).hex()[:16] not in shown
    for key_id in keyring.hash_key_ids:
        assert keyring.hash_key(key_id).hex()[:16] not in shown
        assert keyring.encryption_key_for(key_id).hex()[:16] not in shown
    assert set(keyring.fingerprints()) == {f"{k}/{p}" for k in keyring.hash_key_ids
                                           for p in ("hashing", "encryption", "signing")}
