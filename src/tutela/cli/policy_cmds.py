"""`tutela init`, `tutela check`, `tutela ropa`: the data map (R1-R3)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from tutela.cli.common import console, err_console, fail, handle_errors, open_tutela, state


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("check")(check)
    app.command("ropa")(ropa)


@handle_errors
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the policy, keyring and store.")] = Path("."),
    force: Annotated[bool, typer.Option(help="Write the policy skeleton even if tutela.yaml exists.")] = False,
) -> None:
    """Write a commented policy skeleton, create the keyring and migrate the engine store."""
    from tutela.crypto.keyring import Keyring
    from tutela.engine import Tutela
    from tutela.policy import load_policy

    directory.mkdir(parents=True, exist_ok=True)
    policy_file = Path(state.policy) if state.policy else directory / "tutela.yaml"
    if policy_file.exists() and not force:
        console.print(f"policy {policy_file} exists; kept as it is")
    else:
        skeleton = resources.files("tutela.policy").joinpath("skeleton.yaml").read_text(encoding="utf-8")
        policy_file.write_text(skeleton, encoding="utf-8")
        console.print(f"wrote policy skeleton {policy_file}")
    policy = load_policy(policy_file)
    keyring_location = policy.engine.keyring
    if not keyring_location.startswith("env:"):
        key_path = Path(policy.base_dir or ".") / keyring_location
        if key_path.exists():
            console.print(f"keyring {key_path} exists; kept as it is")
        else:
            Keyring.create(key_path)
            console.print(f"created keyring {key_path} (mode 0600; back it up, it cannot be recreated)")
    tutela = Tutela(policy)
    tutela.migrate()
    console.print(f"engine store ready: {tutela.store.engine.url.render_as_string(hide_password=True)}")
    console.print("next: edit the policy to describe your application, then run `tutela check`")


@handle_errors
def check(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    system: Annotated[list[str] | None, typer.Option(help="Check only this system (repeatable).")] = None,
) -> None:
    """Compare the policy with the live database schemas: exit 1 when the policy names what is not there."""
    from tutela.policy.check import check_policy

    with open_tutela() as tutela:
        report = check_policy(tutela, systems=system)
    if as_json:
        console.print_json(json.dumps(report.to_dict()))
    else:
        for problem in report.errors:
            err_console.print(f"[red]error[/red]   {problem}", highlight=False)
        for problem in report.warnings:
            err_console.print(f"[yellow]warning[/yellow] {problem}", highlight=False)
        verdict = "[green]ok[/green]" if report.ok else "[red]failed[/red]"
        console.print(f"check {verdict}: {len(report.systems_checked)} system(s), {report.tables_checked} "
                      f"table(s), {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    if not report.ok:
        raise typer.Exit(1)


@handle_errors
def ropa(
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, html, csv or json.")] = "md",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """The record of processing activities (Art. 30(1)) generated from the policy."""
    from tutela.policy import load_policy
    from tutela.policy.ropa import FORMATS, render_ropa

    if fmt not in FORMATS:
        raise fail(f"unknown format '{fmt}'; use one of: {', '.join(FORMATS)}", 2)
    text = render_ropa(load_policy(state.policy), fmt)
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
    else:
        typer.echo(text, nl=False)

