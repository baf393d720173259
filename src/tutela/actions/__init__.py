"""Field actions applied on erasure, pseudonymisation and retention: one small class each.

``parse_action("generalize:ip")`` turns the name used in a policy into an action object;
``validate()`` runs when the policy loads (syntax) and when the schema is known (column type).
"""

from tutela.actions.base import ACTIONS, FieldAction, parse_action, register

__all__ = ["ACTIONS", "FieldAction", "parse_action", "register"]
