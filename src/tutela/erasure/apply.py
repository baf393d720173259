"""Applying a table's field actions to a set of rows, set-based.

:class:`TableWork` is what the policy says for one table (each declared field's action and
identity kind, or "delete the row"). :func:`apply_work` applies it to the rows matched by a WHERE
clause, inside the caller's transaction:

* ``delete_row`` → one ``DELETE``;
* otherwise one ``UPDATE`` setting every field that SQL can compute, restricted to rows not yet
  in their final state (so re-runs change nothing), then — only for fields this database cannot
  compute in SQL (phones, IP addresses off SQLite, hashing without pgcrypto) — the values are read
  once and written back with one statement per chunk (``UPDATE … FROM (VALUES …)`` on
  PostgreSQL, ``executemany`` elsewhere). Both run in the same transaction, so a row is never left
  half-processed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tutela.actions import FieldAction
from tutela.actions.context import ActionContext
from tutela.errors import SchemaMismatch

#: rows per statement when values computed in Python are written back
WRITE_CHUNK = 2000


@dataclass(frozen=True)
class FieldWork:
    column: str
    action: FieldAction
    #: identity kind (email, phone …) the column holds, for hashing with that kind's normalisation
    kind: str | None = None


@dataclass
class TableWork:
    """The policy's actions for one table of one system."""

    system: str
    name: str
    table: sa.Table
    fields: list[FieldWork] = field(default_factory=list)
    deletes_rows: bool = False
    #: every declared field → its action spec (keep included)
    declared: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_policy(cls, tutela, system: str, name: str, table: sa.Table | None = None) -> TableWork:
        """Read the actions of table ``name`` from the policy; validate them against the live columns."""
        policy = tutela.policy
        decl = policy.systems[system].tables[name]
        table = table if table is not None else tutela.table(system, name)
        kinds = {column: kind for kind, column in decl.identity.items()}
        for subject in policy.subjects.values():
            if (subject.system, subject.table) == (system, name):
                kinds.update({column: kind for kind, column in subject.identities.items()})
        work = cls(system, name, table)
        for field_name, personal in decl.fields.items():
            action = policy.field_action(decl, personal)
            if field_name not in table.c:
                raise SchemaMismatch(f"column '{field_name}' of table '{name}' is declared in the policy but "
                                     "does not exist in the database (run `tutela check`)")
            try:
                action.validate_column(table.c[field_name])
            except ValueError as exc:
                raise SchemaMismatch(f"systems.{system}.tables.{name}.fields.{field_name}: {exc}") from None
            work.declared[field_name] = action.spec
            if action.deletes_row:
                work.deletes_rows = True
            elif not action.keeps_value:
                work.fields.append(FieldWork(field_name, action, personal.identity or kinds.get(field_name)))
        return work

    @property
    def key(self) -> str:
        return f"{self.system}.{self.name}"

    @property
    def does_nothing(self) -> bool:
        return not self.deletes_rows and not self.fields

    def actions(self) -> dict[str, str]:
        """Every declared field → its action name, for receipts (never values)."""
        return dict(self.declared)

    def primary_key(self) -> sa.Column:
        columns = list(self.table.primary_key.columns)
        if len(columns) != 1:
            raise SchemaMismatch(f"table '{self.name}' needs a single-column primary key for this work")
        return columns[0]

    def pending(self, context: ActionContext) -> sa.ColumnElement[bool]:
        """Rows with at least one field not yet in its final state (all rows when rows are deleted)."""
        if self.deletes_rows:
            return sa.true()
        parts = [p for f in self.fields
                 if (p := f.action.pending(self.table.c[f.column], context.for_kind(f.kind))) is not None]
        return sa.or_(*parts) if parts else sa.false()


def apply_work(connection: sa.Connection, work: TableWork, where: sa.ColumnElement[bool],
               context: ActionContext, *, finish: bool = True) -> int:
    """Apply ``work`` to the rows matching ``where``; return how many rows were changed.

    ``finish=False`` leaves the values that only Python can compute (see :func:`finish_in_python`)
    to the caller, who knows whether there are any.
    """
    return apply_work_returning(connection, work, where, context, finish=finish)[0]


def apply_work_returning(connection: sa.Connection, work: TableWork, where: sa.ColumnElement[bool],
                         context: ActionContext, columns: tuple[str, ...] = (), *, finish: bool = True
                         ) -> tuple[int, dict[str, list] | None]:
    """Like :func:`apply_work`, also returning the new values of ``columns`` in the changed rows.

    The values come from ``UPDATE … RETURNING`` where the database has it (SQLite, PostgreSQL)
    and every field is set in SQL; otherwise the second element is None and the caller reads them.
    """
    table = work.table
    if work.deletes_rows:
        return connection.execute(sa.delete(table).where(where)).rowcount, None
    if not work.fields:
        return 0, {c: [] for c in columns}
    pending = sa.and_(where, work.pending(context))
    sql_sets: dict[str, Any] = {}
    in_python: list[FieldWork] = []  # no SQL form here: every pending value is computed in Python
    for f in work.fields:
        field_context = context.for_kind(f.kind)
        expression = f.action.sql_value(table.c[f.column], field_context)
        if expression is None:
            in_python.append(f)
            continue
        sql_sets[f.column] = expression  # where the SQL form is partial, finish_in_python does the rest
    collected: dict[str, list] | None = None
    if in_python:
        pk = work.primary_key()
        rows = connection.execute(sa.select(pk, *(table.c[f.column] for f in in_python)).where(pending)).all()
        changed = len(rows)
        if rows and sql_sets:
            keys = [row[0] for row in rows]
            for start in range(0, len(keys), WRITE_CHUNK):
                connection.execute(sa.update(table).where(pk.in_(keys[start:start + WRITE_CHUNK])).values(sql_sets))
        for index, f in enumerate(in_python, start=1):
            field_context = context.for_kind(f.kind)
            changes = [(row[0], f.action.python_value(row[index], field_context)) for row in rows
                       if f.action.needs_python(row[index], field_context)]
            _write_values(connection, table, pk, table.c[f.column], changes)
    elif columns and connection.dialect.update_returning:
        statement = sa.update(table).where(pending).values(sql_sets).returning(*(table.c[c] for c in columns))
        values = connection.execute(statement).all()
        changed = len(values)
        collected = {c: [row[i] for row in values] for i, c in enumerate(columns)}
    else:
        changed = connection.execute(sa.update(table).where(pending).values(sql_sets)).rowcount
    if finish:
        finish_in_python(connection, work, where, context, collected)
    if collected is None and columns:
        return changed, None
    return changed, collected or {c: [] for c in columns}


def finish_in_python(connection: sa.Connection, work: TableWork, where: sa.ColumnElement[bool],
                     context: ActionContext, collected: dict[str, list] | None = None) -> None:
    """After the UPDATE: the values its SQL form left to Python (e.g. non-ASCII e-mails hashed on
    PostgreSQL), read, computed and written back; their new values are added to ``collected``."""
    table = work.table
    for f in work.fields:
        field_context = context.for_kind(f.kind)
        column = table.c[f.column]
        if f.action.sql_value(column, field_context) is None or f.action.sql_complete(field_context):
            continue  # no SQL form (done in Python already), or the SQL form did every value
        left = f.action.python_rows(column, field_context)
        pk = work.primary_key()
        query = sa.select(pk, column).where(where, f.action.pending(column, field_context))
        rows = connection.execute(query.where(left) if left is not None else query).all()
        changes = [(k, f.action.python_value(v, field_context)) for k, v in rows
                   if f.action.needs_python(v, field_context)]
        _write_values(connection, table, pk, column, changes)
        if collected is not None and f.column in collected:
            collected[f.column] += [v for _, v in changes]


def _write_values(connection: sa.Connection, table: sa.Table, pk: sa.Column, column: sa.Column,
                  changes: list[tuple[Any, Any]]) -> None:
    """Set ``column`` per primary key, one statement per chunk of rows."""
    for start in range(0, len(changes), WRITE_CHUNK):
        chunk = changes[start:start + WRITE_CHUNK]
        if connection.dialect.name == "postgresql":
            values = sa.values(sa.column("k", pk.type), sa.column("v", column.type), name="tutela_v").data(chunk)
            connection.execute(sa.update(table).where(pk == values.c.k).values({column.name: values.c.v}))
        else:
            statement = sa.update(table).where(pk == sa.bindparam("_k")).values({column.name: sa.bindparam("_v")})
            connection.execute(statement, [{"_k": k, "_v": v} for k, v in chunk])
