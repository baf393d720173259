"""The engine store: migrations to every area's head, idempotent; SQLite durability settings."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tutela.errors import ConfigurationError
from tutela.store import Store
from tutela.store.database import make_engine


def test_migrate_reaches_every_area_head_and_is_idempotent(db_url):
    store = Store(db_url)
    store.migrate()
    first = store.current_revisions()
    store.migrate()
    assert store.current_revisions() == first
    heads = {script.revision for script in _script(store).get_revisions("heads")}
    assert first == heads and len(heads) >= 6  # one branch per area
    with store.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert {"tutela_meta", "tutela_audit", "tutela_requests", "tutela_suppression"} <= tables
    store.dispose()


def _script(store: Store):
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(store.alembic_config())


def test_sqlite_store_uses_wal_with_normal_sync_but_application_databases_keep_their_modes(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    store.dispose()
    app = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    with app.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"  # the file's own mode
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL, SQLite's default
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    app.dispose()


def test_malformed_url_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="malformed"):
        make_engine("not a url")
