"""Check bars against the canonical schema (``schema_version`` 1) before landing.

Every bar is either kept or rejected with the rule it broke, never dropped silently:

- ``ohlc``: prices positive, and ``low <= open, close <= high``;
- ``volume``: volume and trade count not negative;
- ``vwap``: a VWAP outside ``[low, high]`` (beyond a relative 1e-9: it is a double);
- ``alignment``: the open time not on the timeframe's grid (whole minutes for ``1m``,
  midnight UTC for ``1d``);
- ``future``: a bar that has not closed yet at ``now``;
- ``duplicate``: a second bar for the same symbol and time (the first is kept).

A bar that breaks several rules is rejected for the first in this order. The checks run
on whole columns (:data:`src.marketdata.bars.FRAME_SCHEMA`), with exact decimal
comparisons; only rejected bars become Python objects.

Gaps (missing intervals between a symbol's consecutive bars of one UTC day) are
reported, not invented: a gap is a fact about the source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from src.marketdata.bars import EXACT, SCHEMA_VERSION, Bar, Timeframe, bars_of, frame_of

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
DAY_US = 86_400_000_000
RULES = ("ohlc", "volume", "vwap", "alignment", "future", "duplicate")
VWAP_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Rejected:
    bar: Bar
    rule: str
    detail: str


@dataclass
class Checked:
    good: pa.Table  # the kept bars, sorted by symbol and time
    rejected: list[Rejected] = field(default_factory=list)
    # (symbol, day) -> [(first missing open, last missing open)]
    gaps: dict[tuple[str, date], list[tuple[datetime, datetime]]] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def good_bars(self) -> list[Bar]:
        return bars_of(self.good)

    def rejects_by_rule(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for reject in self.rejected:
            counts[reject.rule] += 1
        return dict(counts)


def check_bars(bars: Iterable[Bar], timeframe: Timeframe, now: datetime) -> Checked:
    """:func:`check_frame` for bars given one by one."""
    return check_frame(frame_of(list(bars)), timeframe, now)


def check_frame(frame: pa.Table, timeframe: Timeframe, now: datetime) -> Checked:
    """Sort a frame's bars into kept and rejected, and report each symbol-day's gaps."""
    frame = frame.sort_by([("symbol", "ascending"), ("time", "ascending")])
    step = timeframe.length
    broken = _broken(frame, step, now)
    first = np.where(broken.any(axis=0), broken.argmax(axis=0), -1)
    first[_duplicates(frame, first < 0)] = RULES.index("duplicate")
    kept = np.flatnonzero(first < 0)
    good = frame.take(kept)
    rejected_rows = np.flatnonzero(first >= 0)
    rejected = [
        Rejected(bar, RULES[first[i]], _detail(RULES[first[i]], bar, step, now))
        for i, bar in zip(rejected_rows, bars_of(frame.take(rejected_rows)), strict=True)
    ]
    return Checked(good, rejected, _gaps(good, step))


def _broken(frame: pa.Table, step: timedelta, now: datetime) -> np.ndarray:
    """A row per rule (but ``duplicate``), a column per bar: does the bar break it?"""
    o, h, lo, c, v = (frame[name] for name in ("open", "high", "low", "close", "volume"))
    zero = pa.scalar(Decimal(0), EXACT)
    not_positive = _any(pc.less_equal(x, zero) for x in (o, h, lo, c))
    outside = _any([pc.greater(lo, o), pc.greater(lo, c), pc.greater(o, h), pc.greater(c, h)])
    negative = _any([pc.less(v, zero), pc.fill_null(pc.less(frame["trade_count"], 0), False)])
    vwap = frame["vwap"]
    low_f, high_f = lo.cast(pa.float64()), h.cast(pa.float64())
    vwap_out = pc.and_(
        pc.greater(v, zero),
        pc.or_(
            pc.less(vwap, pc.multiply(low_f, 1 - VWAP_TOLERANCE)),
            pc.greater(vwap, pc.multiply(high_f, 1 + VWAP_TOLERANCE)),
        ),
    )
    micros = _micros(frame)
    step_us = step // ONE_US
    now_us = (now - EPOCH) // ONE_US
    return np.vstack(
        [
            _np(pc.or_(not_positive, outside)),
            _np(negative),
            _np(pc.fill_null(vwap_out, False)),
            micros % step_us != 0,
            micros + step_us > now_us,
        ]
    )


def _duplicates(frame: pa.Table, candidate: np.ndarray) -> np.ndarray:
    """Rows (of a frame sorted by symbol and time) repeating an earlier candidate's key."""
    rows = np.flatnonzero(candidate)
    if len(rows) < 2:
        return np.array([], dtype=np.int64)
    symbols = frame["symbol"].take(rows).to_numpy(zero_copy_only=False)
    micros = _micros(frame)[rows]
    repeat = (symbols[1:] == symbols[:-1]) & (micros[1:] == micros[:-1])
    return rows[1:][repeat]


def _gaps(good: pa.Table, step: timedelta) -> dict[tuple[str, date], list]:
    """Missing intervals per symbol and UTC day, between a sorted frame's bars."""
    if good.num_rows < 2:
        return {}
    micros = _micros(good)
    symbols = good["symbol"].to_numpy(zero_copy_only=False)
    days = micros // DAY_US
    same = (symbols[1:] == symbols[:-1]) & (days[1:] == days[:-1])
    gaps: dict[tuple[str, date], list] = {}
    step_us = step // ONE_US
    for i in np.flatnonzero(same & (np.diff(micros) > step_us)):
        key = (str(symbols[i]), _utc(micros[i]).date())
        gaps.setdefault(key, []).append((_utc(micros[i] + step_us), _utc(micros[i + 1] - step_us)))
    return gaps


def gaps_of(micros: Sequence[int] | np.ndarray, step: timedelta) -> list[tuple[datetime, datetime]]:
    """The missing intervals between one symbol-day's sorted bar opens (microseconds
    since the epoch, UTC), each as (first missing open, last missing open)."""
    opens = np.asarray(micros, dtype=np.int64)
    step_us = step // ONE_US
    holes = np.flatnonzero(np.diff(opens) > step_us)
    return [(_utc(opens[i] + step_us), _utc(opens[i + 1] - step_us)) for i in holes]


def _detail(rule: str, bar: Bar, step: timedelta, now: datetime) -> str:
    """Why ``bar`` broke ``rule``, in words and the bar's own numbers."""
    if rule == "ohlc" and min(bar.open, bar.high, bar.low, bar.close) <= 0:
        return "a price is not positive"
    return {
        "ohlc": lambda: f"low {bar.low} / open {bar.open} / close {bar.close} / high {bar.high}",
        "volume": lambda: f"volume {bar.volume}, trades {bar.trade_count}",
        "vwap": lambda: f"vwap {bar.vwap} outside [{bar.low}, {bar.high}]",
        "alignment": lambda: f"{bar.time.isoformat()} is not on the grid of {step}",
        "future": lambda: f"{bar.time.isoformat()} has not closed at {now.isoformat()}",
        "duplicate": lambda: f"{bar.symbol} at {bar.time.isoformat()} came twice",
    }[rule]()


def _any(conditions: Iterable[pa.ChunkedArray]) -> pa.ChunkedArray:
    result = None
    for condition in conditions:
        result = condition if result is None else pc.or_(result, condition)
    return result


def _np(values: pa.ChunkedArray) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False).astype(bool)


def _micros(frame: pa.Table) -> np.ndarray:
    return frame["time"].cast(pa.int64()).to_numpy()


def _utc(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(micros))
