"""Results of build steps, and the report the orchestrator prints."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class StepResult:
    """What one step did to one database."""

    step: str
    database: str
    created: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line each: what and why
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        parts = [f"{len(self.created)} created", f"{len(self.present)} present"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return ", ".join(parts)


@contextmanager
def timed(result: StepResult) -> Iterator[StepResult]:
    started = time.perf_counter()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - started


def render_report(results: list[StepResult]) -> str:
    """A plain-text table: step, database, created, present, failed, seconds."""
    header = (
        f"{'step':<16} {'database':<14} {'created':>8} {'present':>8} {'failed':>7} {'time':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.step:<16} {r.database:<14} {len(r.created):>8} {len(r.present):>8} "
            f"{len(r.failed):>7} {r.seconds:>7.2f}s"
        )
    problems = [f"  {r.step}/{r.database}: {line}" for r in results for line in r.failed]
    if problems:
        lines += ["", "Failures:", *problems]
    warnings = [f"  {r.step}/{r.database}: {line}" for r in results for line in r.warnings]
    if warnings:
        lines += ["", "Warnings:", *warnings]
    status = "SUCCESS" if all(r.ok for r in results) else "FAILED"
    total = sum(r.seconds for r in results)
    lines += ["", f"Build {status} in {total:.2f}s"]
    return "\n".join(lines)
