"""Running retention rules: batched, crash-safe, audited.

The cutoff is computed once per rule and run (calendar-correct), then the rule's rows are
deleted (``delete_rows``) or their fields overwritten by each field's erasure action
(``erase_fields``) in keyset batches (:mod:`tutela.retention.batches`). One audit event
``retention.run`` per rule records the counts. A rule that fails is reported and the others
still run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, Protocol

import sqlalchemy as sa

from tutela.actions.context import ActionContext
from tutela.erasure.apply import apply_work
from tutela.errors import TutelaError
from tutela.retention.batches import LIMIT_SECONDS, run_batches
from tutela.retention.plan import plan_rule
from tutela.retention.rules import BoundRule, bind_rules

log = logging.getLogger("tutela.retention")

Status = Literal["done", "stopped", "failed", "planned"]


@dataclass
class RuleResult:
    """The outcome of one rule in one run. ``error`` is a short sentence without personal values."""

    rule: str
    action: str
    cutoff: datetime | date
    status: Status
    rows: int = 0
    batches: int = 0
    longest_batch_ms: float = 0.0
    #: batches whose transaction took longer than the 200 ms limit (a busy machine, a lock wait)
    slow_batches: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["cutoff"] = self.cutoff.isoformat()
        return data


class RunObserver(Protocol):
    """Told about progress (the CLI draws progress bars from it; the worker logs)."""

    def rule_started(self, rule: BoundRule) -> None: ...

    def batch_done(self, rule: BoundRule, rows: int) -> None: ...

    def rule_finished(self, rule: BoundRule, result: RuleResult) -> None: ...


class _Silent:
    def rule_started(self, rule: BoundRule) -> None:
        pass

    def batch_done(self, rule: BoundRule, rows: int) -> None:
        pass

    def rule_finished(self, rule: BoundRule, result: RuleResult) -> None:
        pass


def run_rule(tutela: Any, bound: BoundRule, *, now: datetime | None = None, batch_size: int | None = None,
             should_stop=lambda: False, observer: RunObserver | None = None) -> RuleResult:
    """Apply one bound rule in batches until nothing is due (or ``should_stop()``).

    Database failures and Tutela errors do not raise: they come back as a ``failed`` result with a
    short sentence (the driver's first line only — later lines may quote row values).
    """
    observer = observer or _Silent()
    now = now or datetime.now(UTC)
    cutoff = bound.cutoff(now)
    result = RuleResult(bound.name, bound.action, cutoff, "done")
    engine = tutela.system_engine(bound.system)
    started = time.perf_counter()
    observer.rule_started(bound)
    try:
        for batch in run_batches(engine, bound.table, bound.due(cutoff), _writer(tutela, bound),
                                 batch_size or tutela.policy.engine.batch_size, should_stop,
                                 order_column=bound.from_column, deletes=bound.work is None):
            result.rows += batch.rows
            result.batches += 1
            result.longest_batch_ms = max(result.longest_batch_ms, round(batch.seconds * 1000, 1))
            result.slow_batches += batch.seconds > LIMIT_SECONDS
            observer.batch_done(bound, batch.rows)
        if should_stop():
            result.status = "stopped"
    except sa.exc.SQLAlchemyError as exc:
        result.status = "failed"
        result.error = _short(exc)
    except TutelaError as exc:
        result.status = "failed"
        result.error = exc.message
    result.seconds = round(time.perf_counter() - started, 3)
    observer.rule_finished(bound, result)
    return result


def run_retention(tutela: Any, *, now: datetime | None = None, only: str | None = None,
                  dry_run: bool = False, actor: str | None = None, batch_size: int | None = None,
                  should_stop=lambda: False, observer: RunObserver | None = None) -> list[RuleResult]:
    """Run every retention rule (or the one named ``table`` / ``system.table``).

    Every rule is checked against its live table first: one bad rule is a :class:`PolicyError`
    (file:line) and nothing runs. ``dry_run`` returns the plan's counts as ``planned`` results
    and changes nothing. Each rule that ran is audited as ``retention.run``.
    """
    now = now or datetime.now(UTC)
    rules = bind_rules(tutela, only)
    if dry_run:
        results = []
        for bound in rules:
            planned = plan_rule(tutela, bound, now)
            results.append(RuleResult(bound.name, bound.action, planned.cutoff, "planned", rows=planned.rows))
        return results
    audit = tutela.audit  # opened before any row changes: a run that cannot be audited does not start
    results = []
    for bound in rules:
        if should_stop():
            break
        result = run_rule(tutela, bound, now=now, batch_size=batch_size, should_stop=should_stop,
                          observer=observer)
        record_result(tutela, result, actor=actor or tutela.actor, audit=audit)
        results.append(result)
    return results


def record_result(tutela: Any, result: RuleResult, *, actor: str, audit: Any = None) -> None:
    """Audit one rule's run (``retention.run`` with its counts) and log one line about it."""
    (audit or tutela.audit).record("retention.run", actor=actor, rule=result.rule, rule_action=result.action,
                                   cutoff=result.cutoff.isoformat(), status=result.status, rows=result.rows,
                                   batches=result.batches, longest_batch_ms=result.longest_batch_ms,
                                   slow_batches=result.slow_batches, error=result.error)
    log.debug("retention %s: %s %d rows in %d batches (%.2f s)%s", result.rule, _verb(result),
              result.rows, result.batches, result.seconds, f": {result.error}" if result.error else "")


def _writer(tutela: Any, bound: BoundRule):
    """The one statement of a batch: a DELETE, or the field actions' UPDATE (tutela.erasure.apply)."""
    table = bound.table
    if bound.work is None:
        return lambda conn, window: conn.execute(sa.delete(table).where(window)).rowcount
    contexts: dict[int, ActionContext] = {}

    def erase(conn: sa.Connection, window: sa.ColumnElement[bool]) -> int:
        if id(conn) not in contexts:  # registers SQL functions on this connection (SQLite)
            contexts[id(conn)] = ActionContext.for_connection(conn, tutela.keyring)
        return apply_work(conn, bound.work, window, contexts[id(conn)])

    return erase


def _verb(result: RuleResult) -> str:
    done = "deleted" if result.action == "delete_rows" else "erased fields of"
    return {"done": done, "stopped": f"stopped after it {done}", "failed": f"failed after it {done}"}.get(
        result.status, done)


def _short(exc: sa.exc.SQLAlchemyError) -> str:
    # The driver's first line names the failure; later lines (DETAIL …) may quote row values.
    origin = getattr(exc, "orig", None) or exc
    first = (str(origin).strip().splitlines() or [type(origin).__name__])[0]
    return f"{type(origin).__name__}: {first[:200]}"
