"""The data map: the policy model, its loader (file:line errors), schema check and Art. 30 record."""

from tutela.policy.loader import load_policy, parse_policy
from tutela.policy.model import Policy

__all__ = ["Policy", "load_policy", "parse_policy"]
