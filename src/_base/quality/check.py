"""Run a quality task's rules for a date in PostgreSQL and report them in the task log."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from src._base.quality.rules import Rule
from src.config import ConnectionSettings
from src.utils.connections import connect_raw
from src.utils.errors import MedallionError

log = logging.getLogger(__name__)


class QualityCheckFailed(MedallionError):
    """A rule of severity ``fail`` found violations: the run must stop here."""


@dataclass(frozen=True)
class RuleResult:
    rule: str
    severity: str
    failing: int
    samples: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.failing == 0

    def line(self) -> str:
        if self.passed:
            return f"PASS {self.rule}"
        shown = ", ".join(self.samples)
        return f"{self.severity.upper()} {self.rule}: {self.failing} failing (e.g. {shown})"


def run_rules(conn: ConnectionSettings, rules: Sequence[Rule], day: date) -> list[RuleResult]:
    """Evaluate every rule (read-only, one transaction) and log one line per rule."""
    params = {"day": day, "prev": day - timedelta(days=1)}
    results = []
    raw = connect_raw(conn)
    try:
        raw.set_session(readonly=True)
        with raw.cursor() as cur:
            for rule in rules:
                cur.execute(rule.sql(), params)
                failing, samples = cur.fetchone()
                result = RuleResult(rule.rule, rule.severity, int(failing), tuple(samples or ()))
                log.log(logging.INFO if result.passed else logging.WARNING, "%s", result.line())
                results.append(result)
    finally:
        raw.close()
    return results


def enforce(task: str, day: date, results: Sequence[RuleResult]) -> None:
    """Raise when a ``fail`` rule failed; its message names every such rule and count."""
    failed = [r for r in results if not r.passed and r.severity == "fail"]
    if failed:
        lines = "; ".join(r.line() for r in failed)
        raise QualityCheckFailed(f"{task} for {day}: {len(failed)} rule(s) failed: {lines}")
