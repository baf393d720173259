"""The values under which one identifier may be stored: as given, normalised, or pseudonymised.

A subject's e-mail can sit in a table as typed (``" Alice@Example.org"``), normalised
(``"alice@example.org"``), as a keyed hash made with the current or an older hashing key
(``t1:<key id>:<hex>``), or as a plain MD5 made by an older tool. Matching a column against every
form with one ``IN (…)`` keeps the lookup on the column's index and finds a subject again after
its row was pseudonymised (so a second erasure run is a no-op instead of "no data found").
"""

from __future__ import annotations

from tutela.errors import InvalidInput

#: identity kinds with a normaliser in :mod:`tutela.crypto.hashing`
NORMALISED_KINDS = ("email", "phone")


def normalised(kind: str, value: str) -> str:
    """The normalised identifier; :class:`InvalidInput` when it is malformed."""
    from tutela.crypto.hashing import normalise_identity

    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"an empty {kind} was given")
    if kind in NORMALISED_KINDS:
        return normalise_identity(kind, value)
    return value.strip()


def identity_variants(keyring, kind: str, value: str, *, include_plain: bool = True) -> list[str]:
    """Every stored form of ``value``: plain forms (optional), keyed hashes under every key, MD5."""
    from tutela.crypto.hashing import keyed_hash_normalised, md5_compat

    norm = normalised(kind, value)
    forms: list[str] = []
    if include_plain:
        forms += [value, value.strip(), norm]
    forms += [keyed_hash_normalised(keyring.hash_key(key_id), key_id, norm) for key_id in keyring.hash_key_ids]
    if kind in NORMALISED_KINDS:
        forms.append(md5_compat(kind, value))
    return list(dict.fromkeys(forms))

