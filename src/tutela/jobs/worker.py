"""`tutela worker`: a long-running loop that runs due retention jobs.

Each retention rule is one job (``retention:<system>.<table>``) due every ``every`` of the rule
(5 minutes by default). The worker claims one due job at a time (see :mod:`tutela.jobs.claims`),
runs its rule in batches, audits it, logs one line and releases it. :meth:`Worker.stop` (SIGTERM
in the CLI) lets the current batch finish, then the worker exits.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

import sqlalchemy as sa

from tutela.jobs.claims import LEASE, Claim, claim_next, finish, renew, sync_jobs
from tutela.retention.rules import BoundRule, bind_rules
from tutela.retention.run import RuleResult, record_result, run_rule

log = logging.getLogger("tutela.worker")


def job_name(rule: BoundRule) -> str:
    """The job that runs a retention rule."""
    return f"retention:{rule.name}"


class Worker:
    """Runs due jobs until stopped. Create one per process; ``run(once=True)`` for cron-style use."""

    def __init__(self, tutela: Any, *, worker_id: str | None = None, poll_seconds: float = 30.0):
        self.tutela = tutela
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask the worker to finish its current batch and return (safe from a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, *, once: bool = False) -> int:
        """Run due jobs; with ``once``, every due job once and return. Returns the number of runs.

        Raises :class:`PolicyError` before anything runs when a rule does not fit its table.
        """
        rules = {job_name(rule): rule for rule in bind_rules(self.tutela)}
        self.tutela.store.migrate()
        sync_jobs(self.tutela.store, {name: _seconds(rule) for name, rule in rules.items()})
        log.info("worker %s started: %d retention job(s)", self.id, len(rules))
        runs = 0
        while not self.stopping:
            try:
                runs += self.run_due(rules)
            except sa.exc.OperationalError as exc:
                if once:
                    raise
                log.warning("worker %s: the engine store is unreachable (%s); retrying in %.0f s", self.id,
                            type(exc.orig).__name__, self.poll_seconds)
            if once:
                break
            self._stop.wait(self.poll_seconds)
        log.info("worker %s stopped after %d run(s)", self.id, runs)
        return runs

    def run_due(self, rules: dict[str, BoundRule]) -> int:
        """Claim and run due jobs one after another until none is due; the number run."""
        runs = 0
        while not self.stopping:
            claim = claim_next(self.tutela.store, self.id)
            if claim is None:
                break
            rule = rules.get(claim.name)
            if rule is None:  # a job of a rule this worker's policy does not know
                finish(self.tutela.store, claim, status="failed", rows=0,
                       error="no such retention rule in this worker's policy")
                continue
            self._run(claim, rule)
            runs += 1
        return runs

    def _run(self, claim: Claim, rule: BoundRule) -> RuleResult:
        keeper = _LeaseKeeper(self.tutela.store, claim)
        result = run_rule(self.tutela, rule, should_stop=lambda: self.stopping or keeper.lost,
                          observer=keeper)
        if keeper.lost and result.status == "stopped":
            result.status, result.error = "failed", "the job's lease ran out and another worker took it"
        record_result(self.tutela, result, actor=f"worker:{self.id}")
        finish(self.tutela.store, claim, status=result.status, rows=result.rows, error=result.error)
        log.info("worker %s ran %s: %s, %d rows in %d batches (%.2f s, longest batch %.0f ms, %d over "
                 "200 ms)%s", self.id, claim.name, result.status, result.rows, result.batches, result.seconds,
                 result.longest_batch_ms, result.slow_batches, f": {result.error}" if result.error else "")
        return result


class _LeaseKeeper:
    """Renews the claim's lease as batches complete, and notices when it was lost."""

    def __init__(self, store: Any, claim: Claim):
        self.store = store
        self.claim = claim
        self.lost = False
        self._renewed = time.monotonic()

    def rule_started(self, rule: BoundRule) -> None:
        pass

    def batch_done(self, rule: BoundRule, rows: int) -> None:
        if time.monotonic() - self._renewed > LEASE.total_seconds() / 3:
            self.lost = not renew(self.store, self.claim)
            self._renewed = time.monotonic()

    def rule_finished(self, rule: BoundRule, result: RuleResult) -> None:
        pass


def _seconds(rule: BoundRule) -> int:
    every = rule.rule.every
    if every.is_calendar:
        return int(every.approx_days() * 86400)
    return max(1, int(every.as_timedelta().total_seconds()))
