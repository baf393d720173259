"""`tutela keys show|rotate|create`: the keyring (fingerprints only, never a secret)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tutela.cli.common import console, handle_errors, open_tutela

keys_app = typer.Typer(help="The keyring: master key generations and their derived keys.",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `keys show`, `keys rotate` and `keys create` to the root app."""
    app.add_typer(keys_app, name="keys")


@keys_app.command("show")
@handle_errors
def show(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """List the key generations with SHA-256 fingerprints of their derived keys (never the secrets)."""
    with open_tutela() as tutela:
        keyring = tutela.keyring
        entries = keyring.describe()
    if as_json:
        console.print_json(json.dumps({"source": keyring.source, "current": keyring.current_key_id,
                                       "keys": entries}))
        return
    typer.echo(f"keyring {keyring.source}; fingerprints are SHA-256 of the derived keys (signing: of "
               "the public key)")
    for entry in entries:
        fp = entry["fingerprints"]
        typer.echo(f"{entry['id']}  {'current' if entry['current'] else 'old    '}  "
                   f"created {(entry['created'] or '-')[:10]}  hashing {fp['hashing']}  "
                   f"encryption {fp['encryption']}  signing {fp['signing']}")


@keys_app.command("rotate")
@handle_errors
def rotate() -> None:
    """Add a new master key generation and make it current; old ones stay for lookups."""
    with open_tutela() as tutela:
        tutela.migrate()
        previous = tutela.keyring.current_key_id
        new_id = tutela.keyring.rotate()
        tutela.audit.record("keys.rotate", actor=tutela.actor, previous_key_id=previous, key_id=new_id)
    console.print(f"new current key {new_id} (previous {previous} is kept: pseudonyms made with it still "
                  "match); back the keyring file up now", highlight=False)


@keys_app.command("create")
@handle_errors
def create(path: Annotated[Path | None, typer.Argument(
        help="Where to write it (default: the policy's engine.keyring).")] = None) -> None:
    """Create a new keyring file with mode 0600; never overwrites an existing one."""
    from tutela.crypto.keyring import Keyring

    if path is None:
        with open_tutela() as tutela:
            location = tutela.policy.engine.keyring
            if location.startswith("env:"):
                raise typer.BadParameter(f"the policy takes the keyring from {location}; give a file path")
            path = Path(tutela.base_dir) / location
    keyring = Keyring.create(path)
    console.print(f"created keyring {path} (mode 0600) with key {keyring.current_key_id}; back it up: "
                  "it cannot be recreated", highlight=False)
