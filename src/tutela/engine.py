"""The Tutela object: one policy, its engine store, keyring and audit log, and its systems.

Every interface (CLI, API, web, Python) opens one and calls into the area modules with it::

    t = Tutela.open("tutela.yaml")
    t.audit.verify()
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import TYPE_CHECKING

import sqlalchemy as sa

from tutela.errors import ConfigurationError, NotFound
from tutela.policy import Policy, load_policy
from tutela.policy.model import resolve_url
from tutela.store import Store
from tutela.store.database import make_engine

if TYPE_CHECKING:
    from tutela.audit import AuditLog
    from tutela.crypto.keyring import Keyring


class Tutela:
    """The engine for one policy. Cheap to create; connections and keys open on first use."""

    def __init__(self, policy: Policy, *, store: Store | None = None, keyring: Keyring | None = None,
                 actor: str = "system"):
        self.policy = policy
        self.actor = actor
        self._store = store
        self._keyring = keyring
        self._engines: dict[str, sa.Engine] = {}
        self._schemas: dict[str, sa.MetaData] = {}

    @classmethod
    def open(cls, policy_path: str | os.PathLike | None = None, **kwargs) -> Tutela:
        """Load the policy (``--policy``, ``$TUTELA_POLICY`` or ``./tutela.yaml``) and open the engine."""
        return cls(load_policy(policy_path), **kwargs)

    @property
    def base_dir(self) -> str:
        return self.policy.base_dir or os.getcwd()

    # --- engine state --------------------------------------------------------------------
    @property
    def store(self) -> Store:
        if self._store is None:
            url = os.environ.get("TUTELA_STORE_URL") or self.policy.engine.store
            self._store = Store(resolve_url(url, self.base_dir))
        return self._store

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            from tutela.crypto.keyring import Keyring

            self._keyring = Keyring.load(self.policy.engine.keyring, self.base_dir)
        return self._keyring

    @cached_property
    def audit(self) -> AuditLog:
        from tutela.audit import AuditLog

        return AuditLog(self.store, self.keyring)

    def migrate(self) -> None:
        self.store.migrate()

    # --- the application's systems ---------------------------------------------------------
    def system_engine(self, name: str) -> sa.Engine:
        """The SQLAlchemy engine of a system named in the policy."""
        if name not in self.policy.systems:
            raise NotFound(f"system '{name}' is not declared in the policy")
        if name not in self._engines:
            url = self.policy.systems[name].resolved_url(self.base_dir)
            self._engines[name] = make_engine(url)
        return self._engines[name]

    def schema(self, name: str, *, refresh: bool = False) -> sa.MetaData:
        """The reflected live schema of a system (tables, columns, foreign keys, indexes)."""
        if refresh or name not in self._schemas:
            metadata = sa.MetaData()
            try:
                metadata.reflect(self.system_engine(name))
            except sa.exc.OperationalError as exc:
                raise ConfigurationError(f"cannot connect to system '{name}': "
                                         f"{_first_line(exc.orig)}") from None
            self._schemas[name] = metadata
        return self._schemas[name]

    def table(self, system: str, table: str) -> sa.Table:
        """A reflected table that the policy declares; NotFound if the database lacks it."""
        metadata = self.schema(system)
        if table not in metadata.tables:
            raise NotFound(f"table '{table}' of system '{system}' does not exist in the database "
                           "(run `tutela check`)")
        return metadata.tables[table]

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        self._schemas.clear()
        if self._store is not None:
            self._store.dispose()

    def __enter__(self) -> Tutela:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _first_line(error: object) -> str:
    # Driver messages can carry the URL; keep only the first line and strip credentials-like parts.
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text
