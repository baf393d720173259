"""Retention rules of the policy, bound to the live schema of their table.

A rule in the policy names columns; binding it (:func:`bind_rules`) matches every name against
the reflected table and compiles the condition to a bound-parameter expression, so nothing from
the policy ever reaches SQL text. A rule that does not fit its table is a :class:`PolicyError`
naming the policy file and line, raised before any rule runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from tutela.actions.context import ActionContext
from tutela.erasure.apply import TableWork
from tutela.errors import PolicyError, PolicyProblem
from tutela.policy.conditions import compile_condition
from tutela.policy.model import Path, Policy, RetentionRule, Table


@dataclass
class BoundRule:
    """A retention rule matched against its reflected table, ready to plan or run."""

    system: str
    table_name: str
    rule: RetentionRule
    table: sa.Table
    path: Path
    #: the database kind of the system (sqlite, postgresql, mysql)
    dialect: str = ""
    #: for ``erase_fields``: each field's erasure action (the same code erasure requests use)
    work: TableWork | None = None

    @property
    def name(self) -> str:
        """``system.table``: how plans, runs, jobs and audit events name the rule."""
        return f"{self.system}.{self.table_name}"

    @property
    def action(self) -> str:
        return self.rule.action

    @property
    def from_column(self) -> sa.Column:
        return self.table.c[self.rule.from_]

    def cutoff(self, now: datetime | None = None) -> datetime | date:
        """Rows whose ``from`` column is before this moment are due (calendar-correct)."""
        now = now or datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        moment = self.rule.after.before(now.astimezone(UTC))
        column_type = self.from_column.type
        if isinstance(column_type, sa.DateTime):
            # Naive columns hold UTC by convention (documented in docs/retention.md).
            return moment if column_type.timezone else moment.replace(tzinfo=None)
        return moment.date()

    def due(self, cutoff: datetime | date, context: ActionContext | None = None) -> sa.ColumnElement[bool]:
        """The WHERE clause of the rows this rule applies to at ``cutoff``.

        For ``erase_fields`` it also leaves out rows whose fields are all erased already, so a
        re-run touches nothing twice and a plan counts only the rows still to do.
        """
        clauses = [self.from_column < cutoff]
        if self.rule.where is not None:
            clauses.append(compile_condition(self.rule.where, self.table))
        if self.work is not None:
            clauses.append(self.work.pending(context or reading_context(self.dialect)))
        return sa.and_(*clauses)


def reading_context(dialect: str) -> ActionContext:
    """An action context for reading only (which rows are pending): no key, no SQL functions."""
    return ActionContext(dialect, b"", "")


def rule_problems(policy: Policy, system: str, table_name: str, table: Table,
                  live: sa.Table | None, *, missing_from: bool = True) -> list[PolicyProblem]:
    """Everything wrong with one table's retention rule against the live table, located in the file.

    ``missing_from=False`` leaves out a missing ``from`` column (the schema check reports it).
    """
    rule = table.retention
    if rule is None:
        return []
    here: Path = ("systems", system, "tables", table_name, "retention")
    if live is None:
        return [policy.problem(("systems", system, "tables", table_name),
                               f"table '{table_name}' has a retention rule but does not exist in system "
                               f"'{system}'")]
    problems = []
    column = live.c.get(rule.from_)
    if column is None and missing_from:
        problems.append(policy.problem(here + ("from",), f"column '{rule.from_}' does not exist in table "
                                       f"'{table_name}'"))
    elif column is not None and not isinstance(column.type, (sa.Date, sa.DateTime)):
        problems.append(policy.problem(here + ("from",), f"column '{rule.from_}' is {column.type}, not a "
                                       "date or timestamp, so a row's age cannot be measured from it"))
    if rule.where is not None:
        missing = sorted(c for c in rule.where.columns() if c not in live.c)
        for name in missing:
            problems.append(policy.problem(here + ("where",), f"the condition names column '{name}', which "
                                           f"does not exist in table '{table_name}'"))
    if not list(live.primary_key.columns):
        problems.append(policy.problem(here, f"table '{table_name}' has no primary key; retention runs in "
                                       "batches ordered by the primary key"))
    if rule.action == "erase_fields":
        problems.extend(_erase_problems(policy, here, table_name, table, live))
        if len(live.primary_key.columns) > 1:
            problems.append(policy.problem(here + ("action",), f"erase_fields needs a single-column primary "
                                           f"key; table '{table_name}' has a composite one"))
    return problems


def _erase_problems(policy: Policy, here: Path, table_name: str, table: Table,
                    live: sa.Table) -> list[PolicyProblem]:
    problems = []
    fields_path = here[:-1] + ("fields",)
    for name, personal in table.fields.items():
        action = policy.field_action(table, personal)
        if name not in live.c:
            problems.append(policy.problem(fields_path + (name,), f"column '{name}' does not exist in table "
                                           f"'{table_name}'"))
        elif action.deletes_row:
            problems.append(policy.problem(here + ("action",), f"erase_fields cannot apply '{action.spec}' to "
                                           f"field '{name}'; use action: delete_rows to remove whole rows"))
        elif not action.keeps_value:
            try:
                action.validate_column(live.c[name])
            except ValueError as exc:
                problems.append(policy.problem(fields_path + (name, "on_erasure"), str(exc)))
    if not any(not policy.field_action(table, f).keeps_value for f in table.fields.values()):
        problems.append(policy.problem(here + ("action",), "erase_fields has nothing to erase: every field "
                                       "of the table is kept"))
    return problems


def check_rules(tutela: Any, report: Any) -> None:
    """`tutela check` hook: report every retention rule that does not fit its live table.

    Missing tables and a missing ``from`` column are reported by the schema check itself.
    """
    for system, table_name, table in tutela.policy.iter_tables():
        if table.retention is None or system not in report.systems_checked:
            continue
        live = tutela.schema(system).tables.get(table_name)
        if live is None:
            continue
        report.errors.extend(rule_problems(tutela.policy, system, table_name, table, live, missing_from=False))


def bind_rules(tutela: Any, only: str | None = None) -> list[BoundRule]:
    """Every retention rule of the policy (or the one named ``table`` / ``system.table``), bound.

    Raises :class:`PolicyError` listing every rule that does not fit its live table, so that
    nothing runs while any rule is wrong; :class:`NotFound` when ``only`` names no rule.
    """
    from tutela.errors import NotFound

    policy: Policy = tutela.policy
    chosen = [(s, n, t) for s, n, t in policy.iter_tables()
              if t.retention is not None and (only is None or only in (n, f"{s}.{n}"))]
    if only is not None and not chosen:
        names = ", ".join(f"{s}.{n}" for s, n, t in policy.iter_tables() if t.retention) or "none"
        raise NotFound(f"no retention rule for '{only}' in the policy (rules: {names})")
    problems: list[PolicyProblem] = []
    bound: list[BoundRule] = []
    for system, table_name, table in chosen:
        metadata = tutela.schema(system)
        live = metadata.tables.get(table_name)
        found = rule_problems(policy, system, table_name, table, live)
        if found:
            problems.extend(found)
            continue
        work = (TableWork.from_policy(tutela, system, table_name, live)
                if table.retention.action == "erase_fields" else None)
        bound.append(BoundRule(system, table_name, table.retention, live,
                               ("systems", system, "tables", table_name, "retention"),
                               tutela.system_engine(system).dialect.name, work))
    if problems:
        raise PolicyError(problems)
    return bound
