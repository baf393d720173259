"""Signed erasure receipts: what an erasure run did, provable later, never holding the erased values.

A receipt names the operation, the subject's pseudonym (or the tenant), and per system and table
the actions per field and the rows changed, the hashing key id used and the signing key id; it is
signed with the keyring's Ed25519 signing key (:func:`tutela.crypto.signing.sign_document`) and
written as JSON into the ``receipts`` folder next to the engine store.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from tutela.crypto.signing import sign_document, verify_document
from tutela.errors import InvalidInput, NotFound

RECEIPT_TYPE = "tutela.erasure-receipt"


def receipts_dir(tutela) -> Path:
    """``receipts/`` beside the SQLite store file, else beside the policy file."""
    return _receipts_dir(tutela.store.url, tutela.base_dir, os.getcwd())


@functools.lru_cache(maxsize=64)
def _receipts_dir(store_url: str, base_dir: str, cwd: str) -> Path:
    # Parsing the URL and resolving the path cost more than writing a receipt; ``cwd`` is part of
    # the key because a relative store path resolves against it.
    url = sa.make_url(store_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        base = Path(cwd, url.database).resolve().parent
    else:
        base = Path(base_dir)
    return base / "receipts"


def make_receipt(tutela, *, operation: str, tables: list[dict], subject: str | None = None,
                 subject_type: str | None = None, reason: str | None = None, tenant: str | None = None,
                 actor: str, extra: dict | None = None) -> dict:
    """Build and sign a receipt. ``tables``: [{system, table, action, fields, rows}] (no values)."""
    keyring = tutela.keyring
    doc = {
        "type": RECEIPT_TYPE,
        "version": 1,
        "id": str(uuid.uuid4()),
        "operation": operation,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "controller": tutela.policy.controller.name,
        "actor": actor,
        "subject_type": subject_type,
        "subject": subject,
        "tenant": tenant,
        "reason": reason,
        "hash_key_id": keyring.current_hash_key_id,
        "tables": tables,
        "rows_total": sum(int(t.get("rows", 0)) for t in tables),
    }
    if extra:
        doc.update(extra)
    return sign_document(keyring, doc)


def write_receipt(tutela, receipt: dict) -> Path:
    """Write the signed receipt as ``<date>-<operation>-<id>.json``; return its path."""
    folder = receipts_dir(tutela)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{receipt['created_at'][:10]}-{receipt['operation']}-{receipt['id']}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(receipt, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_receipt(path: str | os.PathLike) -> dict:
    """The receipt document in ``path``; NotFound / InvalidInput when it cannot be read as one."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        raise NotFound(f"cannot read the receipt '{path}'") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        raise InvalidInput(f"'{path}' is not JSON, so not a Tutela receipt") from None
    if not isinstance(doc, dict) or doc.get("type") != RECEIPT_TYPE:
        raise InvalidInput(f"'{path}' is not a Tutela erasure receipt")
    return doc


def verify_receipt(tutela, path: str | os.PathLike) -> bool:
    """True when the receipt in ``path`` carries a valid signature by a key of this keyring."""
    return verify_document(read_receipt(path), tutela.keyring)
