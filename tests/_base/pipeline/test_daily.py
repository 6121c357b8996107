"""Running a day's transforms: each after its inputs, side by side on the postgres engine."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from src._base.pipeline.catalogue import TransformEntry
from src._base.pipeline.daily import check_workers, default_workers, run_transforms
from src._base.pipeline.result import TransformResult
from src._base.pipeline.run_config import RunConfig
from src.config import ConnectionSettings
from src.utils.errors import PipelineError

NOWHERE = ConnectionSettings(host="127.0.0.1", port=1, user="nobody", database="none")
CFG = RunConfig(date(2026, 11, 20), NOWHERE, NOWHERE, Path("landing"), engine="postgres")


@dataclass
class Timeline:
    """When each fake transform started and ended, on one clock."""

    events: list[tuple[str, str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, what: str, name: str) -> None:
        with self.lock:
            self.events.append((what, name, time.perf_counter()))

    def at(self, what: str, name: str) -> float:
        return next(t for w, n, t in self.events if (w, n) == (what, name))

    def started(self) -> set[str]:
        return {n for w, n, _ in self.events if w == "start"}


@dataclass(frozen=True)
class FakeEntry(TransformEntry):
    """A transform that sleeps (or fails) instead of loading anything."""

    needs: tuple[str, ...] = ()
    seconds: float = 0.0
    fails: bool = False
    timeline: Timeline | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.needs

    def run(self, spark, cfg: RunConfig) -> TransformResult:
        assert self.timeline is not None
        self.timeline.note("start", self.name)
        time.sleep(self.seconds)
        self.timeline.note("end", self.name)
        if self.fails:
            raise PipelineError(f"{self.name} failed")
        return TransformResult(self.name, self.layer)


def fake(timeline: Timeline, name: str, *needs: str, seconds: float = 0.0, fails=False):
    return FakeEntry("demo", name, "silver", Path(f"{name}.py"), None, needs, seconds, fails,
                     timeline)  # fmt: skip


def test_transforms_run_side_by_side_each_after_its_inputs() -> None:
    timeline = Timeline()
    entries = [
        fake(timeline, "trades", seconds=0.3),
        fake(timeline, "trades_silver", "trades"),
        fake(timeline, "bars", seconds=0.1),
        fake(timeline, "bars_silver", "bars"),
    ]
    results = run_transforms(None, CFG, entries, workers=2)
    assert [r.job for r in results] == ["trades", "trades_silver", "bars", "bars_silver"]
    assert timeline.at("start", "trades_silver") >= timeline.at("end", "trades")
    assert timeline.at("start", "bars_silver") >= timeline.at("end", "bars")
    # the bars did not wait for the trades
    assert timeline.at("end", "bars_silver") < timeline.at("end", "trades")


def test_one_worker_runs_them_in_the_order_given() -> None:
    timeline = Timeline()
    entries = [fake(timeline, "a", seconds=0.05), fake(timeline, "b"), fake(timeline, "c")]
    run_transforms(None, CFG, entries, workers=1)
    assert [n for w, n, _ in timeline.events if w == "start"] == ["a", "b", "c"]


def test_a_failure_lets_the_running_finish_starts_nothing_new_and_is_raised() -> None:
    timeline = Timeline()
    entries = [
        fake(timeline, "broken", fails=True),
        fake(timeline, "after_broken", "broken"),
        fake(timeline, "slow", seconds=0.3),
        fake(timeline, "after_slow", "slow"),
    ]
    with pytest.raises(PipelineError, match="broken failed"):
        run_transforms(None, CFG, entries, workers=2)
    assert timeline.started() == {"broken", "slow"}
    assert ("end", "slow") in {(w, n) for w, n, _ in timeline.events}


def test_spark_runs_one_transform_at_a_time() -> None:
    assert default_workers("spark") == 1
    assert default_workers("postgres") >= 1
    with pytest.raises(PipelineError, match=r"--workers 2 with the spark engine.*--workers 1"):
        check_workers("spark", 2)
    with pytest.raises(PipelineError, match="--workers 0: give 1 or more"):
        check_workers("postgres", 0)
