"""The consent branch migrates, is idempotent, and downgrades cleanly (triggers included)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from tutela.store import Store

TABLES = ["tutela_consent_ledger", "tutela_consent_notices", "tutela_consent_restrictions"]


def _consent_tables(store: Store) -> list[str]:
    return sorted(t for t in sa.inspect(store.engine).get_table_names() if t.startswith("tutela_consent"))


def test_upgrade_twice_downgrade_and_upgrade_again(db_url):
    store = Store(db_url)
    store.migrate()
    store.migrate()
    assert _consent_tables(store) == TABLES
    config = store.alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "consent@base")
    assert _consent_tables(store) == []
    store.migrate()
    assert _consent_tables(store) == TABLES
    store.dispose()
