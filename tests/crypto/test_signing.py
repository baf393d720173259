import json
from datetime import UTC, datetime

from tutela.crypto.keyring import Keyring
from tutela.crypto.signing import sign_document, verify_document


def test_a_signed_document_verifies_with_the_keyring_and_the_public_key():
    keyring = Keyring.generate()
    doc = sign_document(keyring, {"subject": "t1:abcdef:" + "0" * 64, "rows": 3,
                                  "at": datetime(2026, 1, 1, tzinfo=UTC)})
    assert doc["signature"]["alg"] == "Ed25519"
    assert doc["signature"]["key_id"] == keyring.current_key_id
    assert doc["at"] == "2026-01-01T00:00:00+00:00"
    assert verify_document(doc, keyring)
    assert verify_document(doc, keyring.verify_key)


def test_the_signature_survives_a_json_round_trip():
    keyring = Keyring.generate()
    doc = sign_document(keyring, {"b": [1, 2], "a": {"z": "ü", "y": None}})
    assert verify_document(json.loads(json.dumps(doc)), keyring)


def test_any_change_breaks_the_signature():
    keyring = Keyring.generate()
    doc = sign_document(keyring, {"rows": 3, "tables": ["users"]})
    for changed in ({**doc, "rows": 4}, {**doc, "tables": ["users", "x"]}, {**doc, "extra": 1},
                    {k: v for k, v in doc.items() if k != "rows"}):
        assert not verify_document(changed, keyring)


def test_other_keys_missing_or_garbled_signatures_do_not_verify():
    keyring = Keyring.generate()
    doc = sign_document(keyring, {"rows": 3})
    assert not verify_document(doc, Keyring.generate())
    assert not verify_document({"rows": 3}, keyring)
    assert not verify_document({**doc, "signature": {**doc["signature"], "value": "%%%"}}, keyring)
    assert not verify_document({**doc, "signature": {**doc["signature"], "alg": "none"}}, keyring)


def test_documents_signed_before_a_rotation_still_verify():
    keyring = Keyring.generate()
    doc = sign_document(keyring, {"rows": 3})
    keyring.rotate()
    assert verify_document(doc, keyring)
    assert sign_document(keyring, {"rows": 3})["signature"]["key_id"] == keyring.current_key_id
