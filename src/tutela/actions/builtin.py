"""The built-in field actions. SQL behaviour for hash/generalize lives with each class."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tutela.actions.base import FieldAction, register


@register
class NullAction(FieldAction):
    """Erase the value: the column becomes NULL."""

    name = "null"

    def validate_column(self, column: Any) -> None:
        if not getattr(column, "nullable", True):
            raise ValueError(f"'null' cannot apply to NOT NULL column '{column.name}'")

    def sql_value(self, column: Any, context: Any) -> Any:
        return sa.null()


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
    """Replace the value by its keyed hash (HMAC-SHA-256 of the normalised identifier)."""

    name = "hash"


@register
class GeneralizeAction(FieldAction):
    """Replace the value by a coarser one: ``ip`` (/24 or /48), ``year``, ``month``,
    ``postcode`` (first 2 characters, or ``postcode:N``), ``age_band`` (decades)."""

    name = "generalize"
    takes_argument = True

    def validate_argument(self) -> None:
        super().validate_argument()
        rule, _, size = (self.argument or "").partition(":")
        if rule not in GENERALIZE_RULES:
            raise ValueError(
                f"'generalize:{self.argument}' has an unknown rule; use one of: {', '.join(GENERALIZE_RULES)}"
            )
        if size and not (rule == "postcode" and size.isdigit() and int(size) > 0):
            raise ValueError(f"'generalize:{self.argument}': only postcode takes a length, e.g. postcode:3")
