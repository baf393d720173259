"""Helpers for the service tests (API, web, browser): an engine on a fresh store, keys, a live server."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from tutela.engine import Tutela
from tutela.policy import parse_policy
from tutela.store import Store

SAMPLE = Path(__file__).resolve().parent / "policy" / "sample.yaml"


def make_tutela(store_url: str, base_dir: Path, policy_text: str | None = None) -> Tutela:
    """A migrated engine on ``store_url`` with an in-memory keyring and the sample policy."""
    from tutela.crypto.keyring import Keyring

    policy = parse_policy(policy_text or SAMPLE.read_text(), str(SAMPLE), base_dir=str(base_dir))
    tutela = Tutela(policy, store=Store(store_url), keyring=Keyring.generate(), actor="test")
    tutela.migrate()
    return tutela


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """Uvicorn serving ``app`` in a background thread on 127.0.0.1 (optionally with TLS)."""

    def __init__(self, app, *, certfile: str | None = None, keyfile: str | None = None):
        import uvicorn

        from tutela.api.serve import uvicorn_config

        self.port = free_port()
        config = uvicorn_config(app, port=self.port, certfile=certfile, keyfile=keyfile, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.scheme = "https" if certfile else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
