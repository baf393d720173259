"""The keyring: master key generations and the purpose keys derived from them.

A keyring holds one or more *generations* of a 32-byte master secret. Each generation has a short
id (6 lowercase hex characters, derived from the secret) and a creation time; one is current.
Purpose keys are derived with HKDF-SHA-256 under distinct ``info`` strings, so the key for keyed
hashing never equals the key for encryption or for signing:

* hashing    — HMAC-SHA-256 key for pseudonyms (``t1:<key id>:<hex>``)
* encryption — AES-256-GCM key
* signing    — Ed25519 private key (receipts, the audit head)

Rotation adds a generation and makes it current; the old generations stay, so hashes, ciphertexts
and signatures made with them can still be looked up, read and checked.

The keyring lives in a JSON file created with mode 0600, or in an environment variable
(``env:VAR``) holding the base64 master secret (or a whole keyring document). Errors never contain
a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tutela.errors import ConfigurationError, NotFound

FORMAT = "tutela-keyring"
VERSION = 1
SECRET_BYTES = 32
PURPOSES = ("hashing", "encryption", "signing")
_INFO = {purpose: f"tutela/v1/{purpose}".encode() for purpose in PURPOSES}
_INFO_KEY_ID = b"tutela/v1/key-id"


def _derive(secret: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)


def _key_id(secret: bytes) -> str:
    return _derive(secret, _INFO_KEY_ID, 3).hex()


def _fingerprint(material: bytes) -> str:
    return hashlib.sha256(material).hexdigest()[:16]


@dataclass
class Generation:
    """One master key generation. ``secret`` never leaves this object except to the keyring file."""

    id: str
    created: datetime | None
    secret: bytes = field(repr=False)
    _derived: dict[str, bytes] = field(default_factory=dict, repr=False)

    def key(self, purpose: str) -> bytes:
        """The 32-byte purpose key of this generation (cached)."""
        if purpose not in self._derived:
            self._derived[purpose] = _derive(self.secret, _INFO[purpose])
        return self._derived[purpose]

    @cached_property
    def signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.key("signing"))

    @cached_property
    def verify_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    def fingerprints(self) -> dict[str, str]:
        """SHA-256 fingerprints (16 hex) of the derived keys; the signing one is of the public key."""
        public = self.verify_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {
            "hashing": _fingerprint(self.key("hashing")),
            "encryption": _fingerprint(self.key("encryption")),
            "signing": _fingerprint(public),
        }

    @classmethod
    def new(cls) -> Generation:
        secret = secrets.token_bytes(SECRET_BYTES)
        return cls(_key_id(secret), datetime.now(UTC).replace(microsecond=0), secret)


class Keyring:
    """Master key generations and their HKDF-derived purpose keys.

    Open one with :meth:`load` (file path or ``env:VAR``), :meth:`create` (new file) or
    :meth:`generate` (in memory, for tests).
    """

    def __init__(self, generations: list[Generation], current: str, *, path: Path | None = None,
                 source: str = "memory"):
        if not generations:
            raise ConfigurationError("the keyring holds no keys")
        self._generations = {g.id: g for g in generations}
        if current not in self._generations:
            raise ConfigurationError(f"the keyring's current key '{current}' is not among its keys")
        self._current = current
        self.path = path
        self.source = source

    # --- opening ---------------------------------------------------------------------------
    @classmethod
    def generate(cls) -> Keyring:
        """A fresh keyring held in memory only (tests, throwaway demos)."""
        generation = Generation.new()
        return cls([generation], generation.id)

    @classmethod
    def create(cls, path: str | os.PathLike) -> Keyring:
        """Create a new keyring file with mode 0600; refuse to overwrite an existing file."""
        path = Path(path)
        keyring = cls.generate()
        keyring.path = path
        keyring.source = str(path)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise ConfigurationError(f"a keyring already exists at {path}; it was not overwritten "
                                     "(losing it would make every pseudonym unmatchable)") from None
        except OSError as exc:
            raise ConfigurationError(f"cannot create the keyring at {path}: {exc.strerror}") from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(keyring._document())
        os.chmod(path, 0o600)
        return keyring

    @classmethod
    def load(cls, location: str, base_dir: str | os.PathLike | None = None) -> Keyring:
        """Open the keyring at ``location``: a file path (relative to ``base_dir``) or ``env:VAR``."""
        if location.startswith("env:"):
            return cls._from_env(location[4:])
        path = Path(location)
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise ConfigurationError(f"no keyring at {path}; create one with `tutela init` "
                                     "(or `tutela keys create`)") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(
                f"the keyring {path} can be read by other users (mode {stat.S_IMODE(mode):04o}); "
                f"restrict it with `chmod 600 {path}`")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot read the keyring {path}: {exc.strerror}") from None
        return cls._parse(text, source=str(path), path=path)

    @classmethod
    def _from_env(cls, variable: str) -> Keyring:
        value = os.environ.get(variable)
        if not value:
            raise ConfigurationError(f"the environment variable {variable} that should hold the keyring "
                                     "is not set or empty")
        value = value.strip()
        if value.startswith("{"):
            return cls._parse(value, source=f"env:{variable}")
        secret = _decode_secret(value, f"the environment variable {variable}")
        generation = Generation(_key_id(secret), None, secret)
        return cls([generation], generation.id, source=f"env:{variable}")

    @classmethod
    def _parse(cls, text: str, *, source: str, path: Path | None = None) -> Keyring:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"the keyring {source} is not valid JSON (line {exc.lineno})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ConfigurationError(f"the keyring {source} is not a Tutela keyring (no \"format\": "
                                     f"\"{FORMAT}\")")
        if doc.get("version") != VERSION:
            raise ConfigurationError(f"the keyring {source} has version {doc.get('version')!r}; this Tutela "
                                     f"reads version {VERSION}")
        entries = doc.get("keys")
        if not isinstance(entries, list) or not entries:
            raise ConfigurationError(f"the keyring {source} holds no keys")
        generations = []
        for number, entry in enumerate(entries, 1):
            if not isinstance(entry, dict) or "secret" not in entry:
                raise ConfigurationError(f"key {number} of the keyring {source} has no secret")
            secret = _decode_secret(str(entry["secret"]), f"key {number} of the keyring {source}")
            key_id = _key_id(secret)
            if entry.get("id") not in (None, key_id):
                raise ConfigurationError(f"key {number} of the keyring {source} does not match its id "
                                         f"'{entry.get('id')}' (the secret was changed)")
            generations.append(Generation(key_id, _parse_time(entry.get("created")), secret))
        current = doc.get("current", generations[-1].id)
        if current not in {g.id for g in generations}:
            raise ConfigurationError(f"the keyring {source} names current key '{current}', which it "
                                     "does not hold")
        return cls(generations, current, path=path, source=source)

    # --- the keys --------------------------------------------------------------------------
    @property
    def current_key_id(self) -> str:
        """Id of the current generation (used for new hashes, ciphertexts and signatures)."""
        return self._current

    @property
    def current_hash_key_id(self) -> str:
        return self._current

    @property
    def hash_key_ids(self) -> list[str]:
        """Every known key id, current first: try them all when looking a pseudonym up."""
        return [self._current] + [key_id for key_id in self._generations if key_id != self._current]

    @property
    def key_ids(self) -> list[str]:
        return self.hash_key_ids

    def generation(self, key_id: str | None = None) -> Generation:
        """The generation ``key_id`` (the current one by default); NotFound if unknown."""
        key_id = key_id or self._current
        try:
            return self._generations[key_id]
        except KeyError:
            raise NotFound(f"the keyring has no key '{key_id}' (was the keyring replaced?)") from None

    def hash_key(self, key_id: str | None = None) -> bytes:
        """The HMAC key for keyed hashing of generation ``key_id`` (current by default)."""
        return self.generation(key_id).key("hashing")

    @property
    def encryption_key(self) -> bytes:
        """The current 32-byte AES-256 key."""
        return self.generation().key("encryption")

    def encryption_key_for(self, key_id: str) -> bytes:
        """The AES-256 key of an older generation, to read what it encrypted."""
        return self.generation(key_id).key("encryption")

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        """The current Ed25519 signing key."""
        return self.generation().signing_key

    @property
    def verify_key(self) -> Ed25519PublicKey:
        """The public key of the current signing key."""
        return self.generation().verify_key

    def verify_key_for(self, key_id: str) -> Ed25519PublicKey:
        """The public key of generation ``key_id`` (NotFound if unknown)."""
        return self.generation(key_id).verify_key

    def fingerprints(self) -> dict[str, str]:
        """``"<key id>/<purpose>" -> fingerprint`` for every generation; never a secret."""
        return {f"{g.id}/{purpose}": value
                for g in self._generations.values() for purpose, value in g.fingerprints().items()}

    def describe(self) -> list[dict]:
        """One entry per generation (id, created, current, fingerprints), safe to print."""
        return [{"id": g.id, "created": g.created.isoformat() if g.created else None,
                 "current": g.id == self._current, "fingerprints": g.fingerprints()}
                for g in self._generations.values()]

    # --- rotation --------------------------------------------------------------------------
    def rotate(self) -> str:
        """Add a new master key generation, make it current, save the file; return the new id.

        Old generations stay, so earlier pseudonyms remain resolvable. A keyring from an
        environment variable cannot be saved: rotate the file or variable yourself.
        """
        if self.path is None and self.source.startswith("env:"):
            raise ConfigurationError(f"the keyring comes from {self.source} and cannot be rotated in "
                                     "place; put a keyring file in the policy's engine.keyring to rotate")
        generation = Generation.new()
        while generation.id in self._generations:
            generation = Generation.new()
        self._generations[generation.id] = generation
        previous, self._current = self._current, generation.id
        if self.path is not None:
            try:
                self._save()
            except BaseException:
                del self._generations[generation.id]
                self._current = previous
                raise
        return generation.id

    def _save(self) -> None:
        """Replace the file atomically (write a 0600 temporary file beside it, then rename)."""
        assert self.path is not None
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self._document())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise ConfigurationError(f"cannot save the keyring {self.path}: {exc.strerror}") from None

    def _document(self) -> str:
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "current": self._current,
            "keys": [{"id": g.id, "created": g.created.isoformat() if g.created else None,
                      "secret": base64.b64encode(g.secret).decode("ascii")}
                     for g in self._generations.values()],
        }
        return json.dumps(doc, indent=2) + "\n"

    def __repr__(self) -> str:
        return f"Keyring(source={self.source!r}, current={self._current!r}, keys={len(self._generations)})"


def _decode_secret(value: str, where: str) -> bytes:
    try:
        padded = value.strip() + "=" * (-len(value.strip()) % 4)
        secret = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{where} is not base64 text") from None
    if len(secret) < SECRET_BYTES:
        raise ConfigurationError(f"{where} holds {len(secret)} bytes; a master key needs at least "
                                 f"{SECRET_BYTES} random bytes")
    return secret


def _parse_time(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def new_secret_b64() -> str:
    """A fresh base64 master secret, e.g. for an ``env:VAR`` keyring."""
    return base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")
