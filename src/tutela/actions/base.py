"""The field-action interface and the registry that maps policy names to classes."""

from __future__ import annotations

from typing import Any, ClassVar

ACTIONS: dict[str, type[FieldAction]] = {}


def register(cls: type[FieldAction]) -> type[FieldAction]:
    """Class decorator: make an action available under its ``name`` in policies."""
    ACTIONS[cls.name] = cls
    return cls


class FieldAction:
    """What happens to one field of one row when its subject is erased or pseudonymised.

    Subclasses set ``name`` and implement :meth:`validate_argument`, :meth:`validate_column`
    and :meth:`sql_value`. ``argument`` is the part after the colon (``generalize:ip`` → ``ip``).
    """

    name: ClassVar[str]
    takes_argument: ClassVar[bool] = False
    #: True when the action removes the whole row instead of setting a value.
    deletes_row: ClassVar[bool] = False
    #: True when the action leaves the value as it is.
    keeps_value: ClassVar[bool] = False

    def __init__(self, argument: str | None = None):
        self.argument = argument

    @property
    def spec(self) -> str:
        return f"{self.name}:{self.argument}" if self.argument else self.name

    def validate_argument(self) -> None:
        """Raise ValueError with a readable sentence when the argument is wrong (policy load)."""
        if self.takes_argument and not self.argument:
            raise ValueError(f"'{self.name}' needs an argument, e.g. {self.name}:<rule>")
        if not self.takes_argument and self.argument:
            raise ValueError(f"'{self.name}' takes no argument (got '{self.argument}')")

    def validate_column(self, column: Any) -> None:
        """Raise ValueError when the action cannot apply to this reflected column (schema check)."""

    def sql_value(self, column: Any, context: Any) -> Any:
        """The SQLAlchemy expression the column is set to (``UPDATE … SET col = <this>``).

        None means this database cannot compute it: the executor reads the values and writes
        :meth:`python_value` of each, one statement per batch.
        """
        raise NotImplementedError

    def sql_complete(self, context: Any) -> bool:
        """False when :meth:`sql_value` leaves some values for :meth:`python_value` to finish."""
        return True

    def python_value(self, value: Any, context: Any) -> Any:
        """The new value computed in Python (where :meth:`sql_value` is None or incomplete)."""
        raise NotImplementedError(f"'{self.spec}' has no Python form")

    def python_rows(self, column: Any, context: Any) -> Any:
        """For an incomplete SQL form: a WHERE clause narrowing the rows Python must finish."""
        return None

    def needs_python(self, value: Any, context: Any) -> bool:
        """True when a value read back still has to be set by :meth:`python_value`."""
        return True

    def pending(self, column: Any, context: Any) -> Any:
        """A WHERE clause true for rows whose value is not yet in its final state; None if never.

        Re-runs skip rows already processed, which makes every run idempotent and resumable.
        """
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldAction) and other.spec == self.spec

    def __hash__(self) -> int:
        return hash(self.spec)


def parse_action(spec: str) -> FieldAction:
    """``"hash"`` → HashAction(); ``"generalize:ip"`` → GeneralizeAction("ip"). ValueError if unknown."""
    # Import the built-in actions so they are registered before lookup.
    from tutela.actions import builtin  # noqa: F401

    name, _, argument = str(spec).partition(":")
    cls = ACTIONS.get(name.strip())
    if cls is None:
        known = ", ".join(sorted(ACTIONS))
        raise ValueError(f"'{spec}' is not an erasure action; use one of: {known}")
    action = cls(argument.strip() or None)
    action.validate_argument()
    return action
