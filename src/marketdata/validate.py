"""Check bars against the canonical schema (``schema_version`` 1) before landing.

Every bar is either kept or rejected with the rule it broke, never dropped silently:

- ``ohlc``: prices positive, and ``low <= open, close <= high``;
- ``volume``: volume and trade count not negative;
- ``vwap``: a VWAP outside ``[low, high]``;
- ``alignment``: the open time not on the timeframe's grid (whole minutes for ``1m``,
  midnight UTC for ``1d``);
- ``duplicate``: a second bar for the same symbol and time (the first is kept);
- ``future``: a bar that has not closed yet at ``now``.

Gaps (missing intervals between a symbol's consecutive bars of one UTC day) are
reported, not invented: a gap is a fact about the source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from src.marketdata.bars import SCHEMA_VERSION, Bar, Timeframe

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
RULES = ("ohlc", "volume", "vwap", "alignment", "duplicate", "future")


@dataclass(frozen=True)
class Rejected:
    bar: Bar
    rule: str
    detail: str


@dataclass
class Checked:
    good: list[Bar] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    # (symbol, day) -> [(first missing open, last missing open)]
    gaps: dict[tuple[str, date], list[tuple[datetime, datetime]]] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def rejects_by_rule(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for reject in self.rejected:
            counts[reject.rule] += 1
        return dict(counts)


def _broken_rule(bar: Bar, step: timedelta, now: datetime) -> tuple[str, str] | None:
    if min(bar.open, bar.high, bar.low, bar.close) <= 0:
        return "ohlc", "a price is not positive"
    if not bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high:
        return "ohlc", f"low {bar.low} / open {bar.open} / close {bar.close} / high {bar.high}"
    if bar.volume < 0 or (bar.trade_count is not None and bar.trade_count < 0):
        return "volume", f"volume {bar.volume}, trades {bar.trade_count}"
    if bar.vwap is not None and bar.volume > 0 and not bar.low <= bar.vwap <= bar.high:
        return "vwap", f"vwap {bar.vwap} outside [{bar.low}, {bar.high}]"
    if bar.time.timestamp() % step.total_seconds():
        return "alignment", f"{bar.time.isoformat()} is not on the grid of {step}"
    if bar.time + step > now:
        return "future", f"{bar.time.isoformat()} has not closed at {now.isoformat()}"
    return None


def check_bars(bars: Iterable[Bar], timeframe: Timeframe, now: datetime) -> Checked:
    """Sort ``bars`` into kept and rejected, and report each symbol-day's gaps."""
    checked = Checked()
    seen: set[tuple[str, datetime]] = set()
    step = timeframe.length
    for bar in sorted(bars, key=lambda b: (b.symbol, b.time)):
        broken = _broken_rule(bar, step, now)
        if broken is None and (bar.symbol, bar.time) in seen:
            broken = ("duplicate", f"{bar.symbol} at {bar.time.isoformat()} came twice")
        if broken is not None:
            checked.rejected.append(Rejected(bar, *broken))
            continue
        seen.add((bar.symbol, bar.time))
        checked.good.append(bar)
    by_day: dict[tuple[str, date], list[int]] = defaultdict(list)
    for bar in checked.good:
        by_day[(bar.symbol, bar.time.date())].append((bar.time - EPOCH) // ONE_US)
    for key, micros in by_day.items():
        if gaps := gaps_of(micros, step):
            checked.gaps[key] = gaps
    return checked


def gaps_of(micros: Sequence[int] | np.ndarray, step: timedelta) -> list[tuple[datetime, datetime]]:
    """The missing intervals between sorted bar opens (microseconds since the epoch, UTC),
    each as (first missing open, last missing open)."""
    opens = np.asarray(micros, dtype=np.int64)
    step_us = step // timedelta(microseconds=1)
    holes = np.flatnonzero(np.diff(opens) > step_us)
    return [(_utc(opens[i] + step_us), _utc(opens[i + 1] - step_us)) for i in holes]


def _utc(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(micros))
