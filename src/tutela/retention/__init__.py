"""Retention (R4, R5): policy rules → plans (dry runs with counts) → batched, crash-safe runs.

    from tutela.retention import plan_retention, run_retention
    for plan in plan_retention(tutela):
        print(plan.rule, plan.rows)
    results = run_retention(tutela, actor="cli")
"""

from tutela.retention.plan import RulePlan, plan_retention
from tutela.retention.rules import BoundRule, bind_rules, check_rules
from tutela.retention.run import RuleResult, run_retention, run_rule

__all__ = ["BoundRule", "RulePlan", "RuleResult", "bind_rules", "check_rules", "plan_retention", "run_retention",
           "run_rule"]
