"""Every bar is kept or rejected with its rule; gaps are reported, not filled."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from src.marketdata.bars import Bar, Timeframe
from src.marketdata.validate import check_bars

T0 = datetime(2021, 10, 22, 9, 30, tzinfo=UTC)
NOW = datetime(2021, 10, 23, tzinfo=UTC)


def bar(minute: int, symbol: str = "BTCUSDT", **changes) -> Bar:
    prices = [Decimal(p) for p in ("10", "11", "9", "10.5", "3.25")]
    base = Bar(symbol, T0 + timedelta(minutes=minute), *prices, 7, 10.2)
    return replace(base, **changes)


def test_each_rule_rejects_its_bar_and_nothing_is_dropped() -> None:
    bars = [
        bar(0),
        bar(1, high=Decimal("9.5")),  # ohlc: close above high
        bar(2, low=Decimal("0")),  # ohlc: not positive
        bar(3, volume=Decimal("-1")),
        bar(4, vwap=12.0),
        bar(5, time=T0 + timedelta(minutes=5, seconds=30)),  # alignment
        bar(6),
        bar(6, close=Decimal("10.4")),  # duplicate of minute 6: the first is kept
        bar(0, time=NOW),  # future: opens at NOW, not closed yet
    ]
    checked = check_bars(bars, Timeframe.M1, NOW)
    assert len(checked.good) + len(checked.rejected) == len(bars)
    assert [b.time.minute for b in checked.good_bars()] == [30, 36]
    assert checked.rejects_by_rule() == {
        "ohlc": 2, "volume": 1, "vwap": 1, "alignment": 1, "duplicate": 1, "future": 1
    }  # fmt: skip
    duplicate = next(r for r in checked.rejected if r.rule == "duplicate")
    assert duplicate.bar.close == Decimal("10.4")


def test_gaps_are_reported_per_symbol_and_day() -> None:
    bars = [bar(m) for m in (0, 1, 2, 6, 7, 20)] + [bar(m, "ETHUSDT") for m in (0, 1)]
    checked = check_bars(bars, Timeframe.M1, NOW)
    assert checked.gaps == {
        ("BTCUSDT", T0.date()): [
            (T0 + timedelta(minutes=3), T0 + timedelta(minutes=5)),
            (T0 + timedelta(minutes=8), T0 + timedelta(minutes=19)),
        ]
    }


def test_daily_bars_sit_on_midnight() -> None:
    day = datetime(2021, 10, 20, tzinfo=UTC)
    good = bar(0, time=day)
    off = bar(0, time=day + timedelta(hours=1))
    checked = check_bars([good, off], Timeframe.D1, NOW)
    assert checked.good_bars() == [good] and checked.rejected[0].rule == "alignment"
