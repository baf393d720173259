"""The docs stay true to the code: every CLI verb has --help and is in the README's CLI reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tutela.cli.main import app

ROOT = Path(__file__).resolve().parents[1]


def all_commands() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(command, path: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", None)  # a group (Typer vendors its own click)
        if subcommands is not None:
            for name, sub in subcommands.items():
                walk(sub, path + (name,))
        else:
            found.append(path)

    walk(root, ())
    return found


COMMANDS = all_commands()


def test_there_are_commands():
    assert ("check",) in COMMANDS and ("ropa",) in COMMANDS and ("init",) in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_every_verb_has_help(path):
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_every_verb_is_in_the_readme(path):
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"`tutela " + re.escape(" ".join(path)) + r"\b", readme), \
        f"`tutela {' '.join(path)}` is not documented in README.md"


def test_readme_quick_start_has_exactly_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", section, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert commands == ["scripts/demo", "scripts/test"]
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_readme_policy_example_loads_and_is_the_sample_the_tests_use():
    import yaml

    from tutela.policy import parse_policy

    from support import SAMPLE_POLICY

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Policy reference", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    policy = parse_policy(example, "README.md")
    assert set(policy.systems["app"].tables) == {"end_users", "bookings", "system_logs"}
    assert yaml.safe_load(example) == yaml.safe_load(SAMPLE_POLICY.read_text())
