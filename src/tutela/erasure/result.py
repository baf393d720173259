"""What an erasure run reports back: counts per table, the signed receipt and where it was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ErasureResult:
    """Outcome of forget, bulk pseudonymisation or tenant erasure (no personal values)."""

    operation: str
    #: ``system.table`` → rows changed or deleted
    counts: dict[str, int] = field(default_factory=dict)
    subject: str | None = None
    suppressed: int = 0
    receipt: dict | None = None
    receipt_path: Path | None = None
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())
