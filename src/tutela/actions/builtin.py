"""The built-in field actions: null, keep, delete_row, hash, generalize:<rule>.

Each class validates itself against a reflected column (``validate_column``, run by
``tutela check`` and before any erasure) and gives the SQL its column is set to on each database
(``sql_value``), or a Python form where SQL cannot compute it exactly (``python_value``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tutela.actions.base import FieldAction, register
from tutela.actions.context import ActionContext, generalize_ip
from tutela.crypto.hashing import is_keyed_hash

#: ``t1:`` + 6 hex key id + ``:`` + 64 hex
KEYED_HASH_LENGTH = 74
#: how a keyed hash starts, and what it looks like to SQL (``is_keyed_hash`` checks the full shape)
KEYED_HASH_PREFIX = "t1:"
KEYED_HASH_LIKE = KEYED_HASH_PREFIX + "%"
#: values whose SQL normalisation (trim, lower) equals Python's (NFC, strip, lower)
PRINTABLE_ASCII = "^[ -~]*$"


def _is_text(column: Any) -> bool:
    return isinstance(column.type, sa.String) and not isinstance(column.type, sa.Enum)


def _describe(column: Any) -> str:
    table = getattr(getattr(column, "table", None), "name", None)
    return f"'{table}.{column.name}'" if table else f"'{column.name}'"


def _not_key(action: FieldAction, column: Any) -> None:
    if getattr(column, "primary_key", False):
        raise ValueError(f"'{action.spec}' cannot apply to primary key column {_describe(column)}; "
                         "use delete_row to remove the row")


@register
class NullAction(FieldAction):
    """Erase the value: the column becomes NULL."""

    name = "null"

    def validate_column(self, column: Any) -> None:
        _not_key(self, column)
        if not getattr(column, "nullable", True):
            raise ValueError(f"'null' cannot apply to NOT NULL column {_describe(column)}; use hash, "
                             "generalize or delete_row, or allow NULL")

    def sql_value(self, column: Any, context: Any) -> Any:
        return sa.null()

    def pending(self, column: Any, context: Any) -> Any:
        return column.is_not(None)


@register
class KeepAction(FieldAction):
    """Keep the value as it is (statistics, legal obligation)."""

    name = "keep"
    keeps_value = True

    def sql_value(self, column: Any, context: Any) -> Any:
        return column


@register
class DeleteRowAction(FieldAction):
    """Delete the whole row that holds the field."""

    name = "delete_row"
    deletes_row = True

    def sql_value(self, column: Any, context: Any) -> Any:
        raise TypeError("delete_row removes rows; it has no value")


GENERALIZE_RULES = ("ip", "year", "month", "postcode", "age_band", "country")


@register
class HashAction(FieldAction):
    """Replace the value by its keyed hash (HMAC-SHA-256 of the normalised identifier).

    Values already hashed are left alone, so running twice never hashes a hash.
    """

    name = "hash"

    def validate_column(self, column: Any) -> None:
        _not_key(self, column)
        if not _is_text(column):
            raise ValueError(f"'hash' needs a text column; {_describe(column)} is {column.type}")
        length = getattr(column.type, "length", None)
        if length is not None and length < KEYED_HASH_LENGTH:
            raise ValueError(f"'hash' needs room for {KEYED_HASH_LENGTH} characters; {_describe(column)} "
                             f"holds {length} (widen it, or use null or generalize)")

    def _pg_sql(self, context: ActionContext) -> bool:
        return context.is_postgresql and context.sql_hmac and context.kind != "phone"

    def sql_value(self, column: Any, context: ActionContext) -> Any:
        if context.is_sqlite:
            return sa.func.tutela_hash(context.kind or "", column, type_=column.type)
        if self._pg_sql(context):
            # Python normalises with NFC + strip (+ lower for e-mails); for printable ASCII that is
            # exactly trim()/lower(), so those rows are hashed in SQL and the rest in Python.
            text = sa.func.trim(column)
            if context.kind == "email":
                text = sa.func.lower(text)
            digest = sa.func.encode(sa.func.hmac(sa.func.convert_to(text, "UTF8"),
                                                 sa.literal(context.hash_key, sa.LargeBinary), "sha256"), "hex")
            hashed = sa.literal(f"t1:{context.hash_key_id}:") + digest
            return sa.case((column.like(KEYED_HASH_LIKE), column),
                           (column.regexp_match(PRINTABLE_ASCII), hashed), else_=column)
        return None

    def sql_complete(self, context: ActionContext) -> bool:
        return context.is_sqlite

    def python_value(self, value: Any, context: ActionContext) -> Any:
        return context.hash_value(value)

    def python_rows(self, column: Any, context: ActionContext) -> Any:
        return sa.not_(column.regexp_match(PRINTABLE_ASCII)) if self._pg_sql(context) else None

    def needs_python(self, value: Any, context: ActionContext) -> bool:
        if value is None or is_keyed_hash(value):
            return False
        if self._pg_sql(context):
            return not (isinstance(value, str) and all(" " <= ch <= "~" for ch in value))
        return True

    def pending(self, column: Any, context: Any) -> Any:
        return sa.and_(column.is_not(None), column.not_like(KEYED_HASH_LIKE))


@register
class GeneralizeAction(FieldAction):
    """Replace the value by a coarser one: ``ip`` (/24 or /48), ``year``, ``month``,
    ``postcode`` (first 2 characters, or ``postcode:N``), ``age_band`` (decades: 37 → 30),
    ``country`` (first two letters, upper-cased: ``de-BY`` → ``DE``)."""

    name = "generalize"
    takes_argument = True

    @property
    def rule(self) -> str:
        return (self.argument or "").partition(":")[0]

    @property
    def size(self) -> int:
        size = (self.argument or "").partition(":")[2]
        return int(size) if size else 2

    def validate_argument(self) -> None:
        super().validate_argument()
        rule, _, size = (self.argument or "").partition(":")
        if rule not in GENERALIZE_RULES:
            raise ValueError(
                f"'generalize:{self.argument}' has an unknown rule; use one of: {', '.join(GENERALIZE_RULES)}"
            )
        if size and not (rule == "postcode" and size.isdigit() and int(size) > 0):
            raise ValueError(f"'generalize:{self.argument}': only postcode takes a length, e.g. postcode:3")

    def validate_column(self, column: Any) -> None:
        _not_key(self, column)
        rule = self.rule
        if rule in ("year", "month") and not isinstance(column.type, (sa.Date, sa.DateTime)):
            raise ValueError(f"'generalize:{rule}' needs a date or date-time column; {_describe(column)} "
                             f"is {column.type}")
        if rule == "age_band" and not isinstance(column.type, sa.Integer):
            raise ValueError(f"'generalize:age_band' needs a whole-number column; {_describe(column)} "
                             f"is {column.type}")
        if rule in ("ip", "postcode", "country") and not _is_text(column):
            raise ValueError(f"'generalize:{rule}' needs a text column; {_describe(column)} is {column.type}")

    def sql_value(self, column: Any, context: ActionContext) -> Any:
        rule = self.rule
        if rule == "ip":
            return sa.func.tutela_generalize("ip", column, type_=column.type) if context.is_sqlite else None
        if rule in ("year", "month"):
            return _truncate_date(column, rule, context.dialect)
        if rule == "postcode":
            return sa.func.substr(column, 1, self.size)
        if rule == "country":
            return sa.func.upper(sa.func.substr(column, 1, 2))
        return (column // 10) * 10  # age_band

    def sql_complete(self, context: ActionContext) -> bool:
        return self.rule != "ip" or context.is_sqlite

    def python_value(self, value: Any, context: ActionContext) -> Any:
        return generalize_ip(value)

    def needs_python(self, value: Any, context: ActionContext) -> bool:
        return value is not None and generalize_ip(value) != value

    def pending(self, column: Any, context: ActionContext) -> Any:
        if self.rule == "ip":
            # A generalised IPv4 ends in .0 (an address ending in .0 generalises to itself);
            # a generalised IPv6 ends in ::.
            return sa.and_(column.is_not(None), sa.not_(sa.or_(column.like("%.0"), column.like("%::"))))
        return column != self.sql_value(column, context)


def _truncate_date(column: Any, rule: str, dialect: str) -> Any:
    is_datetime = isinstance(column.type, sa.DateTime)
    if dialect == "sqlite":
        # SQLAlchemy stores dates as 'YYYY-MM-DD' and date-times as 'YYYY-MM-DD HH:MM:SS.ffffff'.
        day = "%Y-01-01" if rule == "year" else "%Y-%m-01"
        return sa.func.strftime(day + (" 00:00:00.000000" if is_datetime else ""), column, type_=column.type)
    if dialect == "postgresql":
        return sa.cast(sa.func.date_trunc(rule, column), column.type)
    day = "%Y-01-01" if rule == "year" else "%Y-%m-01"
    value = sa.func.str_to_date(sa.func.date_format(column, day), "%Y-%m-%d")
    return sa.cast(value, sa.DateTime) if is_datetime else value
