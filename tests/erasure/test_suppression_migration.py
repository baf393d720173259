"""erasure_0002: the suppression list becomes narrow entries plus batch rows, and back, keeping
every entry's hash, kind, key id, reason, tenant, source and time."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import command

from tutela.erasure.tables import entries_select, suppression, suppression_batch
from tutela.store import Store

WIDE = ("hash", "kind", "key_id", "reason", "tenant", "source", "created_at")


def _hash(i: int) -> str:
    return f"t1:abcdef:{i:064x}"


def _wide_rows(conn) -> list[tuple]:
    rows = conn.execute(sa.text(f"SELECT {', '.join(WIDE)} FROM tutela_suppression ORDER BY hash"))  # noqa: S608
    # SQLite hands a raw SELECT's times back as text
    return [r[:6] + (r[6] if isinstance(r[6], datetime) else datetime.fromisoformat(r[6]),) for r in rows]


def _migrate(store: Store, verb, revision: str) -> None:
    config = store.alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        verb(config, revision)


def test_entries_survive_upgrade_and_downgrade(db_url):
    store = Store(db_url)
    try:
        _migrate(store, command.upgrade, "erasure_0001")
        wide = [(_hash(i), "phone" if i == 4 else "email", "abcdef", ("bounce", "erasure")[i % 2],
                 None if i < 3 else "acme", "app.contacts" if i != 2 else None, datetime(2026, 1, 1 + i % 2, 9, 30))
                for i in range(6)]
        with store.engine.begin() as conn:
            insert = sa.text(f"INSERT INTO tutela_suppression ({', '.join(WIDE)}) "  # noqa: S608
                             f"VALUES ({', '.join(':' + c for c in WIDE)})")
            conn.execute(insert, [dict(zip(WIDE, r, strict=True)) for r in wide])
        store.migrate()
        with store.engine.connect() as conn:
            assert sorted(tuple(r) for r in conn.execute(entries_select())) == wide
            # one batch row per distinct (reason, tenant, source, time), NULLs matched as equal
            shared = {(r[3], r[4], r[5], r[6]) for r in wide}
            assert conn.execute(sa.select(sa.func.count()).select_from(suppression_batch)).scalar() == len(shared)
            columns = {c["name"] for c in sa.inspect(conn).get_columns("tutela_suppression")}
            assert columns == {c.name for c in suppression.columns} == {"hash", "kind", "batch"}
        _migrate(store, command.downgrade, "erasure_0001")
        with store.engine.connect() as conn:
            assert _wide_rows(conn) == wide
            assert "tutela_suppression_batch" not in sa.inspect(conn).get_table_names()
        store.migrate()  # and up again
        with store.engine.connect() as conn:
            assert sorted(tuple(r) for r in conn.execute(entries_select())) == wide
    finally:
        store.dispose()
