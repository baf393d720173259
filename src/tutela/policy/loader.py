"""Load a policy file: YAML → plain data with a line for every path → validated :class:`Policy`.

Every problem is reported at once with file:line and a plain sentence (:class:`PolicyError`);
nothing is run on a policy that did not load.
"""

from __future__ import annotations

import os
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import ValidationError

from tutela.errors import PolicyError, PolicyProblem
from tutela.policy.model import Path, Policy

DEFAULT_POLICY = "tutela.yaml"
POLICY_ENV = "TUTELA_POLICY"


def policy_path(explicit: str | os.PathLike | None = None) -> FsPath:
    """The policy file to use: the explicit path, ``$TUTELA_POLICY``, or ``./tutela.yaml``."""
    return FsPath(explicit or os.environ.get(POLICY_ENV) or DEFAULT_POLICY)


def load_policy(path: str | os.PathLike | None = None) -> Policy:
    """Read and validate a policy file; raise :class:`PolicyError` listing every problem."""
    file = policy_path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError([PolicyProblem(str(file), None, "no such policy file (run `tutela init` to "
                                         "write one, or pass --policy)")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([PolicyProblem(str(file), None, f"cannot be read: {exc}")]) from None
    return parse_policy(text, str(file), base_dir=str(file.resolve().parent))


def parse_policy(text: str, filename: str = "<policy>", base_dir: str | None = None) -> Policy:
    """Validate policy text. ``filename`` is used in messages only."""
    data, lines, problems = _compose(text, filename)
    if data is None:
        raise PolicyError(problems)
    if not isinstance(data, dict):
        raise PolicyError([PolicyProblem(filename, 1, "a policy is a mapping with controller, purposes, "
                                         "systems …; this file holds something else")])
    locate = _Locator(filename, lines)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems += [locate(_loc_path(err["loc"]), _sentence(err)) for err in exc.errors()]
        raise PolicyError(sorted(problems, key=lambda p: p.line or 0)) from None
    problems += [locate(path, message) for path, message in policy.problems()]
    if problems:
        raise PolicyError(sorted(problems, key=lambda p: p.line or 0))
    policy.base_dir = base_dir
    policy._file = filename
    policy._lines = lines
    return policy


class _Locator:
    def __init__(self, filename: str, lines: dict[Path, int]):
        self.filename = filename
        self.lines = lines

    def __call__(self, path: Path, message: str) -> PolicyProblem:
        probe = tuple(path)
        while probe and probe not in self.lines:
            probe = probe[:-1]
        line = self.lines.get(probe, 1)
        where = ".".join(str(p) for p in path)
        return PolicyProblem(self.filename, line, f"{where}: {message}" if where else message)


def _loc_path(loc: tuple) -> Path:
    # Pydantic adds the union member's name for tagged alternatives (e.g. 'Comparison'); drop those,
    # and map the 'from_' alias back to what the user wrote.
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and part[:1].isupper():
            continue
        if isinstance(part, str) and "[" in part:  # function-after[...] and similar
            continue
        out.append("from" if part == "from_" else part)
    return tuple(out)


def _sentence(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    msg = err.get("msg", "")
    if kind == "extra_forbidden":
        return "unknown key (not part of the policy format; check its spelling)"
    if kind == "missing":
        return "required but missing"
    if kind == "literal_error" or kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        return f"'{err.get('input')}' is not allowed; expected {expected}"
    if msg.startswith("Value error, "):
        return msg[len("Value error, "):]
    if kind == "too_short":
        return "must not be empty"
    return msg[:1].lower() + msg[1:]


def _compose(text: str, filename: str) -> tuple[Any, dict[Path, int], list[PolicyProblem]]:
    """YAML text → (data, line of every path, problems such as duplicate keys or bad YAML)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        return None, {}, [PolicyProblem(filename, line, f"this is not valid YAML: {problem}")]
    if root is None:
        return None, {}, [PolicyProblem(filename, 1, "the policy file is empty")]
    lines: dict[Path, int] = {}
    problems: list[PolicyProblem] = []
    constructor = yaml.SafeLoader("")

    def build(node: yaml.Node, path: Path) -> Any:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    problems.append(PolicyProblem(filename, key_node.start_mark.line + 1,
                                                  "YAML merge keys (<<) are not supported in policies"))
                    continue
                key = constructor.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int)):
                    problems.append(PolicyProblem(filename, key_node.start_mark.line + 1,
                                                  f"keys must be plain names, not {type(key).__name__}"))
                    continue
                key = str(key)
                if key in result:
                    where = ".".join(str(p) for p in path + (key,))
                    problems.append(PolicyProblem(filename, key_node.start_mark.line + 1,
                                                  f"{where}: declared twice (first on line "
                                                  f"{lines[path + (key,)]})"))
                    continue
                lines[path + (key,)] = key_node.start_mark.line + 1
                result[key] = build(value_node, path + (key,))
                lines[path + (key,)] = key_node.start_mark.line + 1
            return result
        if isinstance(node, yaml.SequenceNode):
            return [build(item, path + (i,)) for i, item in enumerate(node.value)]
        return constructor.construct_object(node, deep=True)

    data = build(root, ())
    return data, lines, problems
