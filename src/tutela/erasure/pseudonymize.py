"""Bulk pseudonymisation (R6): every row of a table matching a condition, in resumable batches.

Typical use: every newsletter contact whose status is unsubscribed or bounced. The table's
declared fields get their erasure actions, hashing inside the database where it can (see
:mod:`tutela.actions.context`).

Each batch is the next ``batch_size`` rows still pending, by primary key (keyset pagination, no
OFFSET; the batch's last key is found by the database), and runs in one transaction of the target
database:

1. the batch's fields are set with one set-based UPDATE (plus one write-back statement for values
   only Python can compute),
2. the batch's pseudonyms are written to the suppression list in the engine store by a
   :class:`~tutela.erasure.suppression.SuppressionWriter` — committed BEFORE the target batch,
   idempotently (the hash is the key), so a crash never leaves a pseudonymised contact
   unsuppressed. The pseudonyms come from the SQLite hash function itself while the UPDATE runs,
   from ``UPDATE … RETURNING``, from a read-back (MariaDB), or — on PostgreSQL — from a second
   connection that computes them while the UPDATE runs in a worker thread (the batch's rows are
   locked first, ``FOR UPDATE``, so the second connection sees exactly the values the UPDATE
   hashes),
3. the target transaction commits.

A kill at any point leaves every row either untouched or fully processed; rows done are
recognisably hashed, so a re-run skips them and finishes the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa

from tutela.actions.builtin import KEYED_HASH_LIKE, KEYED_HASH_PREFIX, HashAction
from tutela.actions.context import ActionContext
from tutela.crypto.hashing import is_keyed_hash
from tutela.erasure.apply import TableWork, apply_work, apply_work_returning, finish_in_python
from tutela.erasure.receipts import make_receipt, write_receipt
from tutela.erasure.result import ErasureResult
from tutela.erasure.suppression import SuppressionWriter, check_reason
from tutela.errors import InvalidInput, NotFound
from tutela.policy.conditions import Condition, compile_condition, parse_where
from tutela.store.bulk import BatchSizer, bulk_writes

#: target databases whose UPDATE overlaps the suppression writes (chosen by measurement, see
#: docs/erasure.md); on SQLite both compete for the same Python interpreter, so it runs in turn
OVERLAP_DIALECTS = {"postgresql"}

#: Without a batch size given (``--batch-size``, or ``engine.batch_size`` written in the policy), a
#: bulk run sizes its batches so each transaction takes about this long, starting at the policy's
#: default size. Every batch commit rewrites the index pages it touched (the table's own indexes and
#: the suppression list's), so fewer, larger batches cost less in total: measured on 1,000,000
#: contacts, 20,000-row batches cost about 2x one plain UPDATE, 100,000-row batches about 1.1-1.3x.
#: The price is how long a batch holds its locks: on SQLite the database's write lock (1 s), on
#: PostgreSQL and MariaDB only the batch's own rows (2 s). See docs/erasure.md.
TARGET_SECONDS = {"sqlite": 1.0}
DEFAULT_TARGET_SECONDS = 2.0
#: an adaptive batch may triple from one batch to the next (or halve)
GROWTH = (0.5, 3.0)


@dataclass
class BulkPlan:
    """What a bulk run would touch: the table, its actions, the condition and the counts."""

    system: str
    name: str
    work: TableWork
    condition: sa.ColumnElement[bool]
    where_text: str
    matching: int = 0
    pending: int = 0


def find_table(tutela, table_ref: str) -> tuple[str, str]:
    """(system, table) for ``table`` or ``system.table``; NotFound/InvalidInput when unclear."""
    system, _, name = table_ref.rpartition(".")
    candidates = [(s, t) for s, t, _ in tutela.policy.iter_tables() if t == name and (not system or s == system)]
    if not candidates:
        raise NotFound(f"table '{table_ref}' is not declared in the policy")
    if len(candidates) > 1:
        raise InvalidInput(f"table '{name}' is declared in several systems; write it as system.table")
    return candidates[0]


def plan_bulk(tutela, table_ref: str, where: str | Condition, *, count: bool = True) -> BulkPlan:
    """Check the table, its actions and the condition against the live schema, and count rows.

    ``count=False`` skips the counting (a scan of the matching rows) when only the checks are wanted.
    """
    system, name = find_table(tutela, table_ref)
    work = TableWork.from_policy(tutela, system, name)
    if isinstance(where, str):
        try:
            condition = parse_where(where)
        except ValueError as exc:
            raise InvalidInput(f"the condition cannot be read: {exc}") from None
    else:
        condition = where
    try:
        clause = compile_condition(condition, work.table)
    except KeyError as exc:
        raise InvalidInput(f"the condition names column '{exc.args[0]}', which table '{name}' does not have; "
                           f"its columns: {', '.join(c.name for c in work.table.columns)}") from None
    work.primary_key()
    plan = BulkPlan(system, name, work, clause, str(where))
    if not count:
        return plan
    with tutela.system_engine(system).connect() as conn:
        context = ActionContext.for_connection(conn, tutela.keyring)
        pending = sa.func.coalesce(sa.func.sum(sa.case((work.pending(context), 1), else_=0)), 0)
        counts = conn.execute(sa.select(sa.func.count(), pending).select_from(work.table).where(clause)).one()
        plan.matching, plan.pending = int(counts[0]), int(counts[1])
        conn.rollback()
    return plan


def pseudonymize(tutela, table_ref: str, where: str | Condition, *, actor: str, reason: str = "unsubscribe",
                 batch_size: int | None = None, dry_run: bool = False,
                 progress: Callable[[int], None] | None = None, plan: BulkPlan | None = None) -> ErasureResult:
    """Apply the table's erasure actions to every row matching ``where``, in resumable batches.

    With ``dry_run`` only the counts are returned (``counts`` = rows that would change). Bad
    tables, conditions or actions raise before any row changes.
    """
    check_reason(reason)
    plan = plan or plan_bulk(tutela, table_ref, where, count=dry_run)
    key = f"{plan.system}.{plan.name}"
    if dry_run:
        return ErasureResult("pseudonymize", {key: plan.pending}, dry_run=True)
    engine = tutela.system_engine(plan.system)
    sizer = _batch_sizer(tutela, batch_size, TARGET_SECONDS.get(engine.dialect.name, DEFAULT_TARGET_SECONDS))
    work = plan.work
    pk = work.primary_key()
    identity = [f for f in work.fields if f.kind]
    hashed = [f for f in identity if isinstance(f.action, HashAction)]
    computed = [f for f in identity if not isinstance(f.action, HashAction)]
    same_store = engine.url.render_as_string(hide_password=False) == \
        tutela.store.engine.url.render_as_string(hide_password=False)
    # Overlap: the batch's UPDATE runs in a worker thread while this thread reads the same rows as
    # committed (a second connection; the UPDATE is not committed yet), hashes their identifiers
    # and writes the suppression entries to the engine store; the target commits after both.
    overlap = engine.dialect.name in OVERLAP_DIALECTS and not same_store and not work.deletes_rows
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tutela-pseudonymize") if overlap else None
    reader = engine.connect() if overlap else None
    reader_context = ActionContext.for_connection(reader, tutela.keyring) if overlap else None
    writer = SuppressionWriter(tutela, reason=reason, source=key, inline=same_store)
    changed = suppressed = 0
    last = None
    try:
        with engine.connect() as conn, bulk_writes(conn) as bulk:
            context = ActionContext.for_connection(conn, tutela.keyring, sink=writer.sink)
            conn.rollback()  # end what preparing the connection began: each batch is its own transaction
            while True:
                started = time.perf_counter()
                with conn.begin():
                    after = sa.true() if last is None else pk > last
                    # the batch's last key, found in the database (no list of keys comes back); by
                    # the condition alone: the UPDATE skips rows already done, and a fresh run's
                    # batches are the same size either way
                    keys = sa.select(pk).where(plan.condition, after).order_by(pk).limit(sizer.size)
                    if overlap:
                        # lock the batch's rows now: what the reader sees is then exactly what the
                        # UPDATE will hash (no concurrent change slips in between)
                        keys = keys.with_for_update()
                    end = conn.execute(sa.select(sa.func.max(keys.subquery().c[0]))).scalar()
                    if end is None:
                        break
                    in_batch = sa.and_(plan.condition, after, pk <= end)
                    try:
                        done, listed = _run_batch(conn, work, in_batch, context, writer, hashed, computed,
                                                  worker=worker, reader=reader, reader_context=reader_context)
                        # committed BEFORE the target batch: no pseudonym is ever left off the list
                        suppressed += listed + writer.commit(conn if same_store else None)
                    except BaseException:
                        writer.rollback()
                        raise
                sizer.record(done, time.perf_counter() - started)
                bulk.between_batches()
                changed += done
                last = end
                if progress:
                    progress(done)
    finally:
        writer.close()
        if worker is not None:
            worker.shutdown()
            reader.close()
    counts = {key: changed}
    tables = [{"system": plan.system, "table": plan.name, "where": plan.where_text,
               "action": "delete_row" if work.deletes_rows else "update", "fields": work.actions(),
               "rows": changed}]
    receipt = make_receipt(tutela, operation="pseudonymize", tables=tables, reason=reason, actor=actor,
                           extra={"suppressed": suppressed})
    path = write_receipt(tutela, receipt)
    tutela.audit.record("erasure.pseudonymize", actor=actor, table=key, where=plan.where_text, reason=reason,
                        rows=changed, suppressed=suppressed, receipt=receipt["id"])
    return ErasureResult("pseudonymize", counts, suppressed=suppressed, receipt=receipt, receipt_path=path)


def _batch_sizer(tutela, batch_size: int | None, target: float) -> BatchSizer:
    """Fixed batches of the size given (argument, else a size written in the policy), or batches
    sized to take ``target`` seconds each."""
    engine_settings = tutela.policy.engine
    if batch_size is None and "batch_size" in engine_settings.model_fields_set:
        batch_size = engine_settings.batch_size
    if batch_size is None:
        return BatchSizer(engine_settings.batch_size, target, growth=GROWTH)
    if batch_size < 1:
        raise InvalidInput("the batch size must be 1 or more")
    return BatchSizer(batch_size, target, minimum=batch_size, maximum=batch_size)


def _run_batch(conn, work: TableWork, in_batch, context: ActionContext, writer: SuppressionWriter, hashed,
               computed, *, worker, reader, reader_context) -> tuple[int, int]:
    """One batch's UPDATE, with its pseudonyms handed to ``writer``.

    Returns the rows changed and the pseudonyms already committed to the list (only when the
    list is written while the UPDATE runs; otherwise the caller commits them).
    """
    _hash_before_update(conn, work, computed, in_batch, context, writer)
    if worker is not None:
        update = worker.submit(apply_work, conn, work, in_batch, context, finish=False)
        try:
            # The reader sees the rows as committed, i.e. before this batch's UPDATE.
            left_to_python = _hash_by_reader(reader, work, hashed, in_batch, reader_context, writer)
            listed = writer.commit()
        except BaseException:
            update.exception()  # let the UPDATE finish before its transaction rolls back
            raise
        done = update.result()
        if left_to_python:  # the reader met values the UPDATE's SQL cannot hash: Python writes them
            finish_in_python(conn, work, in_batch, context)
        return done, listed
    if context.is_sqlite and all(f.action.sql_complete(context.for_kind(f.kind)) for f in hashed):
        # tutela_hash hands every identifier it hashes to the writer, whose thread inserts them
        # while the UPDATE goes on: nothing is read back
        return apply_work(conn, work, in_batch, context), 0
    done, returned = apply_work_returning(conn, work, in_batch, context, tuple(f.column for f in hashed))
    for f in hashed:
        if returned is None:  # no UPDATE … RETURNING here (MariaDB): read the batch's hashes back
            column = work.table.c[f.column]
            values = conn.execute(sa.select(column).where(in_batch, column.like(KEYED_HASH_LIKE))).scalars()
        else:
            values = returned[f.column]
        writer.add(f.kind, (v for v in values if is_keyed_hash(v)))
    return done, 0


def _hash_by_reader(reader, work: TableWork, fields, in_batch, context: ActionContext,
                    writer: SuppressionWriter) -> bool:
    """Hand the writer the pseudonyms the batch's UPDATE is writing right now.

    The reader computes the same hash expression as the UPDATE (inside the database where it can,
    so on PostgreSQL the hashing runs in a third process) over the rows as committed; values the
    SQL form leaves to Python are hashed here. Returns whether there were any: only then does the
    UPDATE's batch need :func:`~tutela.erasure.apply.finish_in_python` (its rows are locked, so
    the reader saw what the UPDATE hashes).
    """
    left_to_python = False
    for f in fields:
        column = work.table.c[f.column]
        field_context = context.for_kind(f.kind)
        expression = f.action.sql_value(column, field_context)
        query = sa.select(column if expression is None else expression).where(in_batch, f.action.pending(
            column, field_context))
        hash_value = field_context.hash_value  # a keyed hash comes back as it is
        values = reader.execute(query).scalars().all()
        # pending rows only: what is not a keyed hash now is what the SQL form could not hash
        left_to_python = left_to_python or not all(
            isinstance(v, str) and v.startswith(KEYED_HASH_PREFIX) for v in values)
        writer.add(f.kind, (hash_value(v) for v in values))
    reader.rollback()
    return left_to_python


def _hash_before_update(conn, work: TableWork, fields, in_batch, context: ActionContext,
                        writer: SuppressionWriter) -> None:
    """Hand the writer the pseudonyms of identity columns the UPDATE sets to something else
    (e.g. generalised): hashed here from the values read before the UPDATE changes them."""
    for f in fields:
        column = work.table.c[f.column]
        hash_value = context.for_kind(f.kind).hash_value
        values = conn.execute(sa.select(column).where(in_batch, column.is_not(None))).scalars()
        writer.add(f.kind, (hash_value(v) for v in values))
