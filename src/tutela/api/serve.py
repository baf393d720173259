"""Running the app under uvicorn: loopback by default, TLS 1.2+ only when given a certificate."""

from __future__ import annotations

import ssl
from pathlib import Path

from tutela.errors import ConfigurationError


def tls_context(certfile: str | Path, keyfile: str | Path) -> ssl.SSLContext:
    """A server context that refuses anything older than TLS 1.2 (R28)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    try:
        context.load_cert_chain(str(certfile), str(keyfile))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot load the TLS certificate or key: {exc.strerror or exc}") from None
    return context


def uvicorn_config(app, *, host: str = "127.0.0.1", port: int = 8000, certfile: str | None = None,
                   keyfile: str | None = None, log_level: str = "info"):
    """A uvicorn Config for ``app``; TLS when both files are given. Uvicorn's own access log is off:
    Tutela's logs method, path and status only (never query strings, headers or bodies)."""
    import uvicorn

    if bool(certfile) != bool(keyfile):
        raise ConfigurationError("TLS needs both --certfile and --keyfile")
    factory = None
    if certfile and keyfile:
        context = tls_context(certfile, keyfile)  # fails early, before the port is bound

        def factory(_config, _default):
            return context

    return uvicorn.Config(app, host=host, port=port, access_log=False, log_level=log_level, lifespan="off",
                          server_header=False, proxy_headers=False, ssl_context_factory=factory)


def run_server(config) -> None:
    """Serve until Ctrl-C or SIGTERM; a stop is a normal end, not an error."""
    import uvicorn

    try:
        uvicorn.Server(config).run()
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the captured Ctrl-C after a clean shutdown


def serve_until_interrupted(tutela, *, host: str = "127.0.0.1", port: int = 8000, announce=None) -> None:
    """Serve ``tutela`` on ``host`` (the first free port from ``port``) until Ctrl-C.

    ``announce(url)`` is called with the base URL before serving starts.
    """
    import socket

    from tutela.api import create_app

    for candidate in range(port, port + 50):
        with socket.socket() as probe:
            if probe.connect_ex((host, candidate)) != 0:
                port = candidate
                break
    if announce is not None:
        announce(f"http://{host}:{port}")
    run_server(uvicorn_config(create_app(tutela), host=host, port=port, log_level="warning"))


def start_callback_sweeper(tutela, every: float = 10.0):
    """Deliver OpenDSR status callbacks every ``every`` seconds in a thread; returns ``stop()``."""
    import logging
    import threading

    from tutela.opendsr import deliver_due

    log = logging.getLogger("tutela.opendsr")
    stopping = threading.Event()

    def loop() -> None:
        while not stopping.wait(every):
            try:
                deliver_due(tutela)
            except Exception as exc:  # noqa: BLE001 - the sweeper must outlive a bad round
                log.error("status callback round failed: %s", type(exc).__name__)

    thread = threading.Thread(target=loop, name="tutela-callbacks", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=10)

    return stop
