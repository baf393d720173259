"""Conditions in policies and commands: a small structured form, never raw SQL.

    where: {column: status, op: eq, value: completed}
    where: {any: [{column: status, op: eq, value: unsubscribed},
                  {column: status, op: eq, value: bounced}]}

Compiled to SQLAlchemy expressions with bound parameters by :func:`compile_condition`, only after
every column was matched against the reflected table.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, model_validator

Operator = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "is_null", "not_null", "like"]


class Comparison(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str
    op: Operator = "eq"
    value: Any = None

    @model_validator(mode="after")
    def _value_fits(self) -> Comparison:
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"operator '{self.op}' needs a list value")
        if self.op in ("is_null", "not_null") and self.value is not None:
            raise ValueError(f"operator '{self.op}' takes no value")
        if self.op not in ("is_null", "not_null", "in", "not_in") and (
            self.value is None or isinstance(self.value, (list, dict))
        ):
            raise ValueError(f"operator '{self.op}' needs one value")
        return self

    def columns(self) -> set[str]:
        return {self.column}


class AllOf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    all: list[Condition]

    def columns(self) -> set[str]:
        return set().union(*(c.columns() for c in self.all))


class AnyOf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    any: list[Condition]

    def columns(self) -> set[str]:
        return set().union(*(c.columns() for c in self.any))


Condition = Comparison | AllOf | AnyOf
AllOf.model_rebuild()
AnyOf.model_rebuild()


def compile_condition(condition: Condition, table: sa.Table) -> sa.ColumnElement[bool]:
    """Turn a condition into a bound-parameter SQL expression over ``table`` (a reflected table).

    Raises KeyError naming the column when the table has no such column.
    """
    if isinstance(condition, AllOf):
        return sa.and_(*(compile_condition(c, table) for c in condition.all))
    if isinstance(condition, AnyOf):
        return sa.or_(*(compile_condition(c, table) for c in condition.any))
    if condition.column not in table.c:
        raise KeyError(condition.column)
    col = table.c[condition.column]
    op, value = condition.op, condition.value
    if op == "is_null":
        return col.is_(None)
    if op == "not_null":
        return col.is_not(None)
    if op == "in":
        return col.in_(value)
    if op == "not_in":
        return col.not_in(value)
    if op == "like":
        return col.like(value)
    return {
        "eq": col.__eq__, "ne": col.__ne__, "lt": col.__lt__,
        "le": col.__le__, "gt": col.__gt__, "ge": col.__ge__,
    }[op](value)


def parse_where(text: str) -> Condition:
    """Parse the CLI shorthand ``status=unsubscribed,bounced;country!=DE`` into a condition.

    ``;`` joins comparisons with AND; ``a,b`` after ``=``/``!=`` is IN/NOT IN; operators
    ``= != < <= > >=``; ``col=null`` / ``col!=null`` test for NULL. Raises ValueError.
    """
    import re

    parts = [p.strip() for p in text.split(";") if p.strip()]
    if not parts:
        raise ValueError("an empty condition; write e.g. status=unsubscribed,bounced")
    comparisons: list[Condition] = []
    for part in parts:
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*(!=|<=|>=|=|<|>)\s*(.*)", part)
        if not m:
            raise ValueError(f"'{part}' is not a comparison; write column=value, column!=value, column<value …")
        column, symbol, raw = m.group(1), m.group(2), m.group(3).strip()
        if raw.lower() == "null" and symbol in ("=", "!="):
            comparisons.append(Comparison(column=column, op="is_null" if symbol == "=" else "not_null"))
        elif "," in raw and symbol in ("=", "!="):
            values = [v.strip() for v in raw.split(",")]
            comparisons.append(Comparison(column=column, op="in" if symbol == "=" else "not_in", value=values))
        else:
            op = {"=": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[symbol]
            comparisons.append(Comparison(column=column, op=op, value=raw))
    return comparisons[0] if len(comparisons) == 1 else AllOf(all=comparisons)
