"""Batch erasure (seed 003): one erasure request per identity in a file, created, verified by the
operator with a recorded reason, and run. A bad line is reported with its number and skipped; it
never stops the batch. Raw identities are never put in the report, only line numbers and ids.

The file is a CSV. With a header naming identity kinds (``email``, ``phone`` …) each row may give
several identities of one subject; without one, each line's first field is an identity of
``kind`` (default ``email``). Blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tutela.errors import TutelaError
from tutela.requests.model import Identity, RequestType
from tutela.requests.service import RequestService


@dataclass
class BatchLine:
    """One usable line of a batch file."""

    number: int
    identities: list[Identity]


@dataclass
class BatchProblem:
    """A line that could not be carried out, and why (no personal values)."""

    line: int
    error: str


@dataclass
class BatchSummary:
    """What a batch did: request ids completed, rows changed, problems by line."""

    total: int = 0
    completed: list[str] = field(default_factory=list)
    rows_changed: int = 0
    no_data: int = 0
    problems: list[BatchProblem] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"total": self.total, "completed": len(self.completed), "rows_changed": self.rows_changed,
                "subjects_without_data": self.no_data,
                "problems": [{"line": p.line, "error": p.error} for p in self.problems],
                "request_ids": self.completed}


def read_lines(text: str, *, kind: str = "email", known_kinds: tuple[str, ...] = ("email", "phone")
               ) -> Iterator[BatchLine | BatchProblem]:
    """The identities of each line of a batch CSV (see the module docstring)."""
    rows = list(csv.reader(io.StringIO(text)))
    header: list[str] | None = None
    start = 0
    for index, row in enumerate(rows):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if all(c.lower() in known_kinds for c in cells if c):
            header = [c.lower() for c in cells]
            start = index + 1
        break
    for index in range(start, len(rows)):
        number = index + 1
        cells = [c.strip() for c in rows[index]]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if header is None:
            yield BatchLine(number, [Identity(kind, cells[0])])
            continue
        if len(cells) > len(header):
            yield BatchProblem(number, f"the line has {len(cells)} fields; the header names {len(header)}")
            continue
        identities = [Identity(k, v) for k, v in zip(header, cells, strict=False) if v]
        yield BatchLine(number, identities) if identities else BatchProblem(number, "the line gives no identity")


def batch_erasure(service: RequestService, source: str | Path, *, reason: str, kind: str = "email",
                  subject_type: str | None = None,
                  advance: Callable[[int], None] | None = None) -> BatchSummary:
    """Create, operator-verify and run one erasure request per line of ``source``.

    ``advance(n)`` is called after each line (for a progress bar). Re-running the same file is
    safe: subjects already erased are found by their hashes and nothing changes again.
    """
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        from tutela.errors import InvalidInput

        raise InvalidInput(f"cannot read the batch file {path}: {type(exc).__name__}") from None
    kinds = tuple(k for s in service.tutela.policy.subjects.values() for k in s.identities)
    summary = BatchSummary()
    for item in read_lines(text, kind=kind, known_kinds=kinds or ("email", "phone")):
        summary.total += 1
        if isinstance(item, BatchProblem):
            summary.problems.append(item)
        else:
            _one(service, item, reason, subject_type, summary)
        if advance:
            advance(1)
    return summary


def count_lines(source: str | Path) -> int:
    """An upper bound of the lines to process (for the progress bar's total)."""
    with open(source, encoding="utf-8-sig", errors="replace") as handle:
        return sum(1 for line in handle if line.strip() and not line.lstrip().startswith("#"))


def _one(service: RequestService, line: BatchLine, reason: str, subject_type: str | None,
         summary: BatchSummary) -> None:
    try:
        req = service.create(RequestType.ERASURE, line.identities, subject_type=subject_type, source="batch",
                             verified_reason=reason)
        done = service.run(req.id)
    except TutelaError as exc:
        summary.problems.append(BatchProblem(line.number, exc.message))
        return
    summary.completed.append(done.id)
    erasure = (done.result or {}).get("erasure", {})
    if erasure.get("receipt") is None:
        summary.no_data += 1
    summary.rows_changed += sum(erasure.get("counts", {}).values())
