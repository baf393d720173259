"""What a field action needs to know about where it runs: the database, the hashing key, the field.

Hashing happens inside the database where it can: on SQLite through Python functions registered on
the connection (``tutela_hash``, ``tutela_generalize``), on PostgreSQL through ``pgcrypto``'s
``hmac()`` when that extension is available. Elsewhere, and for values the SQL form cannot
normalise exactly like Python (phones, non-ASCII text), the action computes the value in Python
(:meth:`FieldAction.python_value`) and the executor writes the batch with one statement.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import unicodedata
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from tutela.crypto.hashing import is_keyed_hash, normalise_identity
from tutela.errors import InvalidInput


@dataclass(frozen=True)
class ActionContext:
    """The database dialect, the current hashing key, and the identity kind of the field at hand."""

    dialect: str
    hash_key: bytes
    hash_key_id: str
    #: PostgreSQL only: ``pgcrypto``'s ``hmac()`` can be called
    sql_hmac: bool = False
    #: the identity kind of the field being set (email, phone …) or None for other text
    kind: str | None = None
    #: SQLite only: when set, ``sink(kind)`` gives a callable that ``tutela_hash`` hands every
    #: pseudonym of that identity kind, so a bulk run learns them without reading them back
    sink: Callable[[str], Callable[[str], None]] | None = field(default=None, compare=False)

    def for_kind(self, kind: str | None) -> ActionContext:
        return replace(self, kind=kind)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    def hash_value(self, value: Any) -> Any:
        """The keyed hash of a stored value; a value already hashed (or NULL) is returned as it is.

        Equal to :func:`tutela.crypto.hashing.keyed_hash_normalised` of the normalised value; the
        keyed HMAC state is prepared once and copied per value, which is several times faster than
        keying a new HMAC for each of millions of rows.
        """
        if value is None or is_keyed_hash(value):
            return value
        mac = _keyed_state(self.hash_key).copy()
        mac.update(stored_normalised(self.kind, value).encode("utf-8"))
        return f"t1:{self.hash_key_id}:{mac.hexdigest()}"

    def hasher(self, record: Callable[[str], None] | None = None) -> Callable[[Any], Any]:
        """:meth:`hash_value` for this field's kind, made for millions of calls.

        Plain ASCII e-mails (nearly all of a bulk run) take a short path with the HMAC state and
        the prefix bound once; every other value goes through :meth:`hash_value`. Both give the
        same result for every input. ``record``, when given, is called with every hash made
        (not with NULL).
        """
        general = self.hash_value
        if self.kind != "email":
            if record is None:
                return general

            def hash_recorded(value: Any) -> Any:
                hashed = general(value)
                if hashed is not None:
                    record(hashed)
                return hashed
            return hash_recorded
        state = _keyed_state(self.hash_key)
        # hmac.HMAC wraps OpenSSL's state; copying that directly skips a Python-level layer
        state = getattr(state, "_hmac", state)
        prefix = f"t1:{self.hash_key_id}:"
        keep = record or (lambda _hashed: None)

        def hash_email(value: Any) -> Any:
            if type(value) is str and value.isascii() and not value.startswith("t1:"):
                mac = state.copy()
                mac.update(value.strip().lower().encode())
                hashed = prefix + mac.hexdigest()
            else:
                hashed = general(value)
                if hashed is None:
                    return None
            keep(hashed)
            return hashed
        return hash_email

    @classmethod
    def for_connection(cls, connection: sa.Connection, keyring,
                       sink: Callable[[str], Callable[[str], None]] | None = None) -> ActionContext:
        """Prepare ``connection`` (SQL functions, extensions) and describe it."""
        key_id = keyring.current_hash_key_id
        context = cls(connection.dialect.name, keyring.hash_key(key_id), key_id, sink=sink)
        if context.is_sqlite:
            register_sqlite_functions(connection, context)
        elif context.is_postgresql:
            context = replace(context, sql_hmac=_pgcrypto_available(connection))
        return context


@lru_cache(maxsize=8)
def _keyed_state(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


def stored_normalised(kind: str | None, value: Any) -> str:
    """A stored identifier normalised for hashing, even when it is malformed.

    A stored value that is not a valid e-mail or phone is still personal data and must be hashed;
    it is then normalised the simple way (NFC, trimmed; e-mails also lower-cased), which is exactly
    what the SQL forms do for printable ASCII.
    """
    text = value if isinstance(value, str) else str(value)
    if kind == "email" and text.isascii():
        # For ASCII, NFC changes nothing and a valid address normalises to strip().lower() — the
        # same as the fallback below; this fast path keeps bulk hashing cheap.
        return text.strip().lower()
    if kind in ("email", "phone"):
        try:
            return normalise_identity(kind, text)
        except InvalidInput:
            pass
    text = unicodedata.normalize("NFC", text).strip()
    return text.lower() if kind == "email" else text


def generalize_ip(value: Any) -> str | None:
    """IPv4 → its /24 network address, IPv6 → its /48; an unreadable address becomes NULL."""
    if value is None:
        return None
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def register_sqlite_functions(connection: sa.Connection, context: ActionContext) -> None:
    """``tutela_hash(kind, value)`` and ``tutela_generalize(rule, value)`` on this SQLite connection."""
    raw = connection.connection.driver_connection
    hashers: dict[str, Callable[[Any], Any]] = {}
    sink = context.sink

    def tutela_hash(kind, value):
        if value is None:
            return None
        hasher = hashers.get(kind)
        if hasher is None:
            record = sink(kind) if sink is not None and kind else None
            hasher = hashers[kind] = context.for_kind(kind or None).hasher(record)
        return hasher(value)

    def tutela_generalize(rule, value):
        if rule == "ip":
            return generalize_ip(value)
        raise ValueError(f"unknown rule {rule}")

    raw.create_function("tutela_hash", 2, tutela_hash, deterministic=True)
    raw.create_function("tutela_generalize", 2, tutela_generalize, deterministic=True)


def _pgcrypto_available(connection: sa.Connection) -> bool:
    """True when ``hmac()`` of pgcrypto works here; tries once to create the extension.

    The extension is created on a separate autocommit connection, so it outlives the caller's
    transaction and never holds a lock that another connection of the same run would wait for.
    """
    engine = connection.engine
    if engine in _PGCRYPTO_SEEN:
        return True
    probe = sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pgcrypto'")
    if connection.execute(probe).first():
        _PGCRYPTO_SEEN.add(engine)
        return True
    try:
        with connection.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
            admin.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pgcrypto")
    except sa.exc.DBAPIError:
        return False
    _PGCRYPTO_SEEN.add(engine)
    return True


#: engines whose database was seen to have pgcrypto (a yes is remembered, a no is asked again)
_PGCRYPTO_SEEN: weakref.WeakSet = weakref.WeakSet()
