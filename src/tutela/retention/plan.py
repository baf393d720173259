"""The retention plan (a dry run): per rule, how many rows are due now and how old the oldest is.

Read-only: one ``SELECT count(*), min(from)`` per rule with the same WHERE clause the run uses,
so the plan's counts are what a run started at the same moment removes or anonymises.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from tutela.retention.rules import BoundRule, bind_rules


@dataclass
class RulePlan:
    """What one rule would do now."""

    rule: str
    action: str
    after: str
    cutoff: datetime | date
    rows: int
    oldest: datetime | date | None
    oldest_age_days: float | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["cutoff"] = self.cutoff.isoformat()
        data["oldest"] = self.oldest.isoformat() if self.oldest is not None else None
        return data


def plan_rule(tutela: Any, bound: BoundRule, now: datetime) -> RulePlan:
    """Count the rows ``bound`` applies to at ``now``."""
    cutoff = bound.cutoff(now)
    query = sa.select(sa.func.count(), sa.func.min(bound.from_column)).where(bound.due(cutoff))
    with tutela.system_engine(bound.system).connect() as conn:
        rows, oldest = conn.execute(query).one()
    return RulePlan(bound.name, bound.action, str(bound.rule.after), cutoff, int(rows), oldest,
                    _age_days(oldest, now))


def plan_retention(tutela: Any, *, now: datetime | None = None, only: str | None = None) -> list[RulePlan]:
    """The plan of every retention rule (or the one named): counts, cutoff, age of the oldest row.

    Raises :class:`PolicyError` (file:line) when a rule does not fit its live table.
    """
    now = now or datetime.now(UTC)
    return [plan_rule(tutela, bound, now) for bound in bind_rules(tutela, only)]


def _age_days(oldest: Any, now: datetime) -> float | None:
    if oldest is None:
        return None
    if isinstance(oldest, str):  # SQLite returns min() of a DATETIME column as text
        try:
            oldest = datetime.fromisoformat(oldest)
        except ValueError:
            return None
    if isinstance(oldest, datetime):
        moment = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        return round((now - moment).total_seconds() / 86400, 2)
    if isinstance(oldest, date):
        return float((now.date() - oldest).days)
    return None
