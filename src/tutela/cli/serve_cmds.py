"""`tutela serve` and `tutela apikey …`: the web service and its API keys (thin wrappers)."""

from __future__ import annotations

from typing import Annotated

import typer

from tutela.cli.common import console, handle_errors, log_to_stderr, open_tutela

apikey_app = typer.Typer(help="API keys for the service: create (shown once), list, revoke.",
                         no_args_is_help=True)


@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    certfile: Annotated[str | None, typer.Option(help="PEM certificate: serve HTTPS (TLS 1.2+ only).")] = None,
    keyfile: Annotated[str | None, typer.Option(help="PEM private key of --certfile.")] = None,
    with_worker: Annotated[bool, typer.Option("--with-worker",
                                              help="Also run the background worker in this process.")] = False,
) -> None:
    """Serve the REST API (OpenAPI at /openapi.json), the dashboard and the privacy center."""
    from tutela.api import create_app
    from tutela.api.serve import run_server, start_callback_sweeper, uvicorn_config
    from tutela.api.settings import ServiceSettings

    log_to_stderr()
    tutela = open_tutela(actor="service")
    tutela.migrate()
    settings = ServiceSettings.from_env(secure_cookies=bool(certfile))
    config = uvicorn_config(create_app(tutela, settings), host=host, port=port, certfile=certfile,
                            keyfile=keyfile)
    scheme = "https" if certfile else "http"
    console.print(f"Tutela serving on {scheme}://{host}:{port}/ (dashboard /dashboard, API /api/v1, "
                  "OpenAPI /openapi.json). Ctrl-C stops.")
    stop_worker = _start_worker(tutela) if with_worker else None
    stop_callbacks = start_callback_sweeper(tutela, settings.callback_sweep_seconds)
    try:
        run_server(config)
    finally:
        stop_callbacks()
        if stop_worker is not None:
            stop_worker()
        tutela.close()


def _start_worker(tutela):
    """Run the worker loop in a thread; returns a function that stops it."""
    import threading

    from tutela.jobs.worker import Worker

    worker = Worker(tutela)
    thread = threading.Thread(target=worker.run, name="tutela-worker", daemon=True)
    thread.start()

    def stop() -> None:
        worker.stop()
        thread.join(timeout=30)

    return stop


@apikey_app.command("create")
@handle_errors
def apikey_create(
    role: Annotated[str, typer.Option(help="admin | dpo | operator | auditor")],
    tenant: Annotated[str | None, typer.Option(help="Bind the key to one tenant (customer).")] = None,
    label: Annotated[str, typer.Option(help="A note on who or what uses the key.")] = "",
) -> None:
    """Create an API key. The key is printed once; only its hash is stored."""
    from tutela.auth import create_key

    with open_tutela() as tutela:
        tutela.migrate()
        key_id, key = create_key(tutela, role, tenant=tenant, label=label)
    console.print(f"key id {key_id} ({role}{', tenant ' + tenant if tenant else ''}). "
                  "Store this key now; it is not shown again:", highlight=False)
    typer.echo(key)


@apikey_app.command("list")
@handle_errors
def apikey_list(
    tenant: Annotated[str | None, typer.Option(help="Only keys of this tenant.")] = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked keys.")] = False,
) -> None:
    """List API keys (never their secrets)."""
    from rich.table import Table

    from tutela.auth import list_keys

    with open_tutela() as tutela:
        tutela.migrate()
        keys = list_keys(tutela, tenant=tenant, include_revoked=revoked)
    table = Table("key id", "role", "tenant", "label", "created", "revoked")
    for k in keys:
        table.add_row(k.key_id, k.role, k.tenant or "—", k.label, k.created_at.strftime("%Y-%m-%d %H:%M"),
                      k.revoked_at.strftime("%Y-%m-%d %H:%M") if k.revoked_at else "")
    console.print(table)


@apikey_app.command("revoke")
@handle_errors
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="The key id shown by `apikey list`.")]) -> None:
    """Revoke an API key at once."""
    from tutela.auth import revoke_key

    with open_tutela() as tutela:
        tutela.migrate()
        revoke_key(tutela, key_id)
    console.print(f"key {key_id} revoked")


def register(app: typer.Typer) -> None:
    """Add `serve` and `apikey` to the root app."""
    app.command("serve")(serve)
    app.add_typer(apikey_app, name="apikey")
