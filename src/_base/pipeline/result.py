"""What one transform run reports: rows in and out, rejects by rule, time."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TransformResult:
    job: str
    layer: str
    rows_read: int = 0
    rows_written: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    skipped: str | None = None  # why nothing was done (e.g. the batch is already loaded)
    seconds: float = 0.0
    notes: dict[str, int] = field(default_factory=dict)  # other counts worth reporting
    timings: dict[str, float] = field(default_factory=dict)  # seconds of the slow steps
    output_types: dict[str, str] = field(default_factory=dict)  # "frame.column" -> staged type

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejected.values())

    def summary(self) -> str:
        if self.skipped:
            return f"skipped: {self.skipped}"
        text = f"{self.rows_read} read, {self.rows_written} written"
        if self.rejected:
            rules = ", ".join(f"{rule} {n}" for rule, n in sorted(self.rejected.items()))
            text += f", {self.rows_rejected} rejected ({rules})"
        if self.notes:
            text += ", " + ", ".join(f"{k} {v}" for k, v in sorted(self.notes.items()))
        if self.timings:
            text += " [" + ", ".join(f"{k} {v:.1f}s" for k, v in self.timings.items()) + "]"
        return text
