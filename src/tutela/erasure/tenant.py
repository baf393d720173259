"""Tenant erasure (R16): every row of one customer (tenant) in every table of every system.

A table takes part when it has the tenant column (the table's ``tenant_column`` in the policy, or
its system's). Tables are emptied children before parents (reflected foreign keys), in batches of
``batch_size`` rows — one ``DELETE … WHERE pk IN (…)`` per batch and transaction — so a re-run
after a crash simply deletes what is left. Counts come first (:func:`tenant_counts`); the run
ends with a signed receipt and an ``erasure.tenant`` audit event.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from tutela.erasure.receipts import make_receipt, write_receipt
from tutela.erasure.result import ErasureResult
from tutela.errors import InvalidInput


def tenant_tables(tutela) -> list[tuple[str, sa.Table, str]]:
    """(system, table, tenant column) of every table holding tenant rows, children first."""
    policy = tutela.policy
    found = []
    for system_name, system in policy.systems.items():
        metadata = tutela.schema(system_name)
        for table in reversed(metadata.sorted_tables):
            if table.name.startswith(("tutela_", "alembic_")):
                continue  # the engine store's own tables, when it shares the database
            if table.name in system.tables:
                column = policy.tenant_column(system_name, table.name)
            else:
                column = system.tenant_column
            if column and column in table.c:
                found.append((system_name, table, column))
    return found


def tenant_counts(tutela, tenant: str) -> dict[str, int]:
    """``system.table`` → rows of ``tenant`` (tables with none are left out)."""
    _check(tenant)
    counts: dict[str, int] = {}
    for system, table, column in tenant_tables(tutela):
        with tutela.system_engine(system).connect() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c[column] == tenant)).scalar()
        if n:
            counts[f"{system}.{table.name}"] = int(n)
    return counts


def erase_tenant(tutela, tenant: str, *, actor: str, batch_size: int | None = None,
                 progress: Callable[[int], None] | None = None) -> ErasureResult:
    """Delete every row of ``tenant`` in every system; return counts and the signed receipt."""
    _check(tenant)
    batch_size = batch_size or tutela.policy.engine.batch_size
    counts: dict[str, int] = {}
    for system, table, column in tenant_tables(tutela):
        deleted = _delete_in_batches(tutela.system_engine(system), table, table.c[column] == tenant,
                                     batch_size, progress)
        if deleted:
            counts[f"{system}.{table.name}"] = deleted
    tables = [{"system": key.split(".", 1)[0], "table": key.split(".", 1)[1], "action": "delete_row",
               "rows": n} for key, n in counts.items()]
    receipt = make_receipt(tutela, operation="tenant", tables=tables, tenant=tenant, reason="tenant", actor=actor)
    path = write_receipt(tutela, receipt)
    tutela.audit.record("erasure.tenant", actor=actor, tenant=tenant, rows=sum(counts.values()), tables=counts,
                        receipt=receipt["id"])
    return ErasureResult("tenant", counts, receipt=receipt, receipt_path=path)


def _delete_in_batches(engine: sa.Engine, table: sa.Table, where, batch_size: int, progress) -> int:
    pk = list(table.primary_key.columns)
    total = 0
    while True:
        with engine.begin() as conn:
            if len(pk) == 1:
                keys = conn.execute(sa.select(pk[0]).where(where).limit(batch_size)).scalars().all()
                if not keys:
                    return total
                done = conn.execute(sa.delete(table).where(pk[0].in_(keys))).rowcount
            else:
                done = conn.execute(sa.delete(table).where(where)).rowcount
        total += done
        if progress:
            progress(done)
        if len(pk) != 1 or not done:
            return total


def _check(tenant: str) -> None:
    if not isinstance(tenant, str) or not tenant.strip():
        raise InvalidInput("a tenant id is needed")
