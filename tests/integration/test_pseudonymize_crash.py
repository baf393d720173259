"""Kill -9 a real bulk pseudonymisation at random points; a re-run finishes the work.

After every kill: no row is half-processed (each target row is either untouched or fully
pseudonymised), every pseudonymised identifier is already on the suppression list, and no other
row changed. After the final re-run every target row is processed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parents[1] / "subjects"))

from world import checksum, create_schema, ledger, newsletter_contacts, policy_text  # noqa: E402

from tutela.crypto.hashing import is_keyed_hash  # noqa: E402
from tutela.crypto.keyring import Keyring  # noqa: E402
from tutela.engine import Tutela  # noqa: E402
from tutela.erasure.tables import suppression  # noqa: E402

ROWS = 6000
TRIALS = 5
CHILD = """
import sys
from tutela.engine import Tutela
from tutela.erasure.pseudonymize import pseudonymize

with Tutela.open(sys.argv[1], actor="crash-test") as tutela:
    def progress(n):
        print("batch", n, flush=True)
    pseudonymize(tutela, "newsletter_contacts", "status=unsubscribed,bounced", actor="crash-test",
                 batch_size=200, progress=progress)
print("done", flush=True)
"""


def _populate(engine: sa.Engine) -> None:
    statuses = ("subscribed", "unsubscribed", "bounced")
    with engine.begin() as conn:
        conn.execute(newsletter_contacts.insert(), [
            dict(id=i, email=f"Person{i}@Example.org", first_name=f"Name{i}", country="fr-IDF",
                 status=statuses[i % 3]) for i in range(1, ROWS + 1)])
        conn.execute(ledger.insert(), [dict(id=n, memo=f"memo {n}") for n in range(1, 4)])


def _state(engine: sa.Engine) -> tuple[int, int]:
    """(fully processed, untouched) target rows; fails on any half-processed row."""
    targets = newsletter_contacts.c.status.in_(["unsubscribed", "bounced"])
    done = untouched = 0
    with engine.connect() as conn:
        for row in conn.execute(sa.select(newsletter_contacts).where(targets)):
            processed = (is_keyed_hash(row.email), row.first_name is None, row.country == "FR")
            if all(processed):
                done += 1
            elif not any(processed):
                untouched += 1
            else:
                raise AssertionError(f"row {row.id} is half-processed: {processed}")
    return done, untouched


@pytest.mark.slow
def test_kill_nine_during_bulk_run_then_rerun(db_url, tmp_path):
    engine = create_schema(db_url)
    _populate(engine)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    Keyring.create(tmp_path / "tutela.key")
    policy = tmp_path / "tutela.yaml"
    policy.write_text(policy_text(db_url, store_url).replace("keyring: unused.key", "keyring: tutela.key"))
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    tutela = Tutela.open(policy)
    tutela.migrate()
    others = newsletter_contacts.c.status == "subscribed"
    before_others = checksum(engine, newsletter_contacts, others)
    before_ledger = checksum(engine, ledger)
    rng = random.Random(int(os.environ.get("TUTELA_CRASH_SEED", "7")))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    killed = 0
    try:
        for _ in range(TRIALS):
            child = subprocess.Popen([sys.executable, str(script), str(policy)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
            wait_batches = rng.randint(0, 12)  # of 20; the kill lands mid-run however fast
            for _ in range(wait_batches):
                if not child.stdout.readline():
                    break
            time.sleep(rng.uniform(0, 0.005))
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
                killed += 1
            child.communicate(timeout=60)
            done, _untouched = _state(engine)
            with tutela.store.engine.connect() as conn:
                listed = set(conn.execute(sa.select(suppression.c.hash)).scalars())
            with engine.connect() as conn:
                hashed = set(conn.execute(sa.select(newsletter_contacts.c.email)
                                          .where(newsletter_contacts.c.email.like("t1:%"))).scalars())
            assert len(hashed) == done and hashed <= listed  # every pseudonymised contact is suppressed
            assert checksum(engine, newsletter_contacts, others) == before_others
        assert killed >= 3
        final = subprocess.run([sys.executable, str(script), str(policy)], capture_output=True, text=True,
                               env=env, timeout=300)
        assert final.returncode == 0, final.stderr
        assert _state(engine) == (ROWS * 2 // 3, 0)
        assert checksum(engine, newsletter_contacts, others) == before_others
        assert checksum(engine, ledger) == before_ledger
        with tutela.store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(suppression)).scalar() == ROWS * 2 // 3
    finally:
        tutela.close()
        engine.dispose()
