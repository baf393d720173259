"""Rectification (Art. 16): correct declared fields of a subject's rows.

New values are given as ``{"table.field": value}`` (or ``{"system.table.field": value}`` when
table names repeat across systems). They are checked against the policy when the request is
filed (the field is declared personal data of the subject's tables) and against the live column
type before anything is written. The audit holds keyed hashes of the old and new values, never
the values themselves.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tutela.errors import InvalidInput

if TYPE_CHECKING:
    from tutela.engine import Tutela
    from tutela.policy import Policy
    from tutela.subjects import SubjectGraph

MAX_VALUE_LENGTH = 10_000


def _target(policy: Policy, subject_type: str, name: str) -> tuple[str, str, str]:
    parts = str(name).split(".")
    if len(parts) == 2:
        matches = [(s, t) for s, t, _ in policy.iter_tables() if t == parts[0]]
        if len(matches) > 1:
            raise InvalidInput(f"table '{parts[0]}' exists in several systems; write system.table.field")
        if not matches:
            raise InvalidInput(f"'{name}': table '{parts[0]}' is not declared in the policy")
        (system, table), field = matches[0], parts[1]
    elif len(parts) == 3:
        system, table, field = parts
    else:
        raise InvalidInput(f"'{name}' does not name a field; write table.field")
    decl = policy.systems.get(system, None)
    if decl is None or table not in decl.tables:
        raise InvalidInput(f"'{name}': table '{table}' is not declared in the policy")
    tdecl = decl.tables[table]
    if field not in tdecl.fields:
        raise InvalidInput(f"'{name}': '{field}' is not a declared personal field of table '{table}'")
    owner = tdecl.subject
    if owner is None and tdecl.parent is not None:
        owner = decl.tables[tdecl.parent.table].subject
    if owner != subject_type:
        raise InvalidInput(f"'{name}': table '{table}' does not hold data of subject '{subject_type}'")
    return system, table, field


def validate_changes(policy: Policy, subject_type: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes keyed ``system.table.field``; InvalidInput on any undeclared field or bad value."""
    if not isinstance(changes, dict) or not changes:
        raise InvalidInput("a rectification names at least one field and its new value (table.field=value)")
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        system, table, field = _target(policy, subject_type, name)
        if value is not None and not isinstance(value, str | int | float | bool):
            raise InvalidInput(f"'{name}': a new value is text, a number, true/false or null")
        if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
            raise InvalidInput(f"'{name}': the new value is longer than {MAX_VALUE_LENGTH:,} characters")
        checked[f"{system}.{table}.{field}"] = value
    return checked


def coerce(column: sa.Column, value: Any, name: str) -> Any:
    """``value`` converted to the live column's type; InvalidInput naming the field when it does not fit."""
    if value is None:
        if not column.nullable:
            raise InvalidInput(f"'{name}' cannot be empty (the column is NOT NULL)")
        return None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    try:
        if python_type is str:
            text = str(value)
            length = getattr(column.type, "length", None)
            if length and len(text) > length:
                raise InvalidInput(f"'{name}' holds at most {length} characters")
            return text
        if python_type is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "1", "yes"):
                return True
            if str(value).lower() in ("false", "0", "no"):
                return False
            raise ValueError
        if python_type is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(str(value).strip()) if isinstance(value, str) else int(value)
        if python_type is float:
            return float(value)
        if python_type is Decimal:
            return Decimal(str(value))
        if python_type is datetime:
            return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if python_type is date:
            return value if isinstance(value, date) else date.fromisoformat(str(value))
    except (ValueError, TypeError, InvalidOperation):
        raise InvalidInput(f"'{name}' must be a {python_type.__name__}; the new value does not fit") from None
    return value


def value_hash(keyring, value: Any) -> str | None:
    """A keyed hash of a value for the audit (None stays None): provable, not readable."""
    from tutela.crypto.hashing import keyed_hash_normalised

    if value is None:
        return None
    text = value.isoformat() if isinstance(value, datetime | date) else str(value)
    key_id = keyring.current_hash_key_id
    return keyed_hash_normalised(keyring.hash_key(key_id), key_id, text)


def apply_changes(tutela: Tutela, graph: SubjectGraph, keys: list[Any], changes: dict[str, Any], *,
                  tenant: str | None = None) -> list[dict[str, Any]]:
    """Update the subject's rows: one UPDATE per table (all its changed fields), one transaction per
    system. Returns per field the rows changed and hashes of the distinct old values and the new one."""
    by_table: dict[tuple[str, str], dict[str, Any]] = {}
    for name, value in changes.items():
        system, table, field = name.split(".")
        by_table.setdefault((system, table), {})[field] = value
    report: list[dict[str, Any]] = []
    missing = [f"{s}.{t}" for s, t in by_table if f"{s}.{t}" not in graph.nodes]
    if missing:
        raise InvalidInput(f"table {missing[0]} is not reachable from the subject (run `tutela check`)")
    systems = sorted({system for system, _ in by_table})
    for system in systems:
        with tutela.system_engine(system).begin() as conn:
            # children first: a changed identity on the subject table must not hide rows tied by it
            for node in graph.nodes_children_first():
                if node.system != system or (system, node.name) not in by_table:
                    continue
                table, fields = node.name, by_table[(system, node.name)]
                where = node.row_filter(keys, tenant)
                values = {f: coerce(node.table.c[f], v, f"{table}.{f}") for f, v in fields.items()}
                old = conn.execute(sa.select(*[node.table.c[f] for f in values]).where(where)).all()
                done = conn.execute(node.table.update().where(where).values(**values))
                for index, (field, new) in enumerate(values.items()):
                    old_hashes = sorted({h for h in (value_hash(tutela.keyring, r[index]) for r in old) if h})
                    report.append({"system": system, "table": table, "field": field, "rows": done.rowcount,
                                   "old_value_hashes": old_hashes,
                                   "new_value_hash": value_hash(tutela.keyring, new)})
    return report
