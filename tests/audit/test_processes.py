"""Several processes (worker, server, CLI) appending at once keep one valid chain."""

from __future__ import annotations

import multiprocessing

import pytest

from tutela.audit import AuditEvent, AuditLog
from tutela.crypto.keyring import Keyring
from tutela.store import Store


def _append(url: str, key_path: str, name: str, rounds: int) -> None:
    store = Store(url)
    log = AuditLog(store, Keyring.load(key_path))
    for i in range(rounds):
        if i % 5 == 0:
            log.append_many([AuditEvent("retention.run", name, details={"i": i, "k": k}) for k in range(10)])
        else:
            log.record("request.created", actor=name, i=i)
    store.dispose()


@pytest.mark.slow
def test_concurrent_processes_keep_a_valid_chain(db_url, tmp_path):
    Store(db_url).migrate()
    key_path = str(tmp_path / "tutela.key")
    keyring = Keyring.create(key_path)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append, args=(db_url, key_path, f"p{n}", 30)) for n in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    log = AuditLog(Store(db_url), keyring)
    expected = 3 * (6 * 10 + 24)
    assert log.count() == expected
    result = log.verify()
    assert result.ok and result.checked == expected
    assert {e.actor for e in log.query()} == {"p0", "p1", "p2"}
    log.store.dispose()
