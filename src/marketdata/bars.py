"""The canonical OHLCV bar (``schema_version`` 1) and timeframes.

Bars travel in columns: a page of bars is an Arrow table of :data:`FRAME_SCHEMA`, so
parsing, validating and landing cost microseconds a bar, not tens. Prices and volumes
are exact decimals (``decimal128(38, 18)``), as vendors send them (Binance as strings,
Alpaca's JSON numbers read as decimals); ``time`` is the bar's open, in UTC; ``vwap`` is
a derived average, a double. :class:`Bar` is one row of it, for rejects and tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import pyarrow as pa

SCHEMA_VERSION = 1


class Timeframe(StrEnum):
    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    D1 = "1d"

    @property
    def length(self) -> timedelta:
        return _LENGTHS[self.value]


_LENGTHS = {"1m": timedelta(minutes=1), "5m": timedelta(minutes=5),
            "15m": timedelta(minutes=15), "1h": timedelta(hours=1),
            "1d": timedelta(days=1)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Bar:
    symbol: str
    time: datetime  # the bar's open, UTC
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trade_count: int | None = None
    vwap: float | None = None


EXACT = pa.decimal128(38, 18)
UTC_US = pa.timestamp("us", tz="UTC")
FRAME_SCHEMA = pa.schema(
    [
        ("symbol", pa.string()),
        ("time", UTC_US),
        ("open", EXACT),
        ("high", EXACT),
        ("low", EXACT),
        ("close", EXACT),
        ("volume", EXACT),
        ("trade_count", pa.int64()),
        ("vwap", pa.float64()),
    ]
)
EXACT_COLUMNS = ("open", "high", "low", "close", "volume")


def frame_of(bars: Sequence[Bar]) -> pa.Table:
    """Bars as a frame (in the order given)."""
    columns = {name: [getattr(b, name) for b in bars] for name in FRAME_SCHEMA.names}
    columns["vwap"] = [None if v is None else float(v) for v in columns["vwap"]]
    return pa.table(columns, schema=FRAME_SCHEMA)


def bars_of(frame: pa.Table) -> list[Bar]:
    """A frame's rows as bars (decimals without the column's trailing zeros)."""
    bars = []
    for row in frame.select(FRAME_SCHEMA.names).to_pylist():
        row["time"] = row["time"].astimezone(UTC)
        for name in EXACT_COLUMNS:
            row[name] = _plain(row[name])
        bars.append(Bar(**row))
    return bars


def _plain(value: Decimal | None) -> Decimal | None:
    """``1084.800000000000000000`` → ``1084.8``, ``1000.0...`` → ``1000`` (not ``1E+3``)."""
    return None if value is None else Decimal(format(value.normalize(), "f"))


def frame_from_text(symbol: str, columns: dict[str, Sequence]) -> pa.Table:
    """A frame from a vendor's columns: ``time`` in epoch milliseconds, prices and volume
    as decimal text (or numbers), ``trade_count``, ``vwap`` (numbers, or None). A value
    that is not a number, or has more than 18 decimals, raises ``ValueError``."""
    size = len(columns["time"])
    try:
        arrays = {
            "symbol": pa.array([symbol] * size, pa.string()),
            "time": pa.array(columns["time"], pa.int64())
            .cast(pa.timestamp("ms", tz="UTC"))
            .cast(UTC_US),
            **{name: pa.array(columns[name], pa.string()).cast(EXACT) for name in EXACT_COLUMNS},
            "trade_count": pa.array(columns["trade_count"], pa.int64()),
            "vwap": _doubles(columns["vwap"]),
        }
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise ValueError(str(exc)) from None
    return pa.table(arrays, schema=FRAME_SCHEMA)


def utc_from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def ms_of(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _doubles(values: Sequence | pa.Array) -> pa.Array:
    if isinstance(values, pa.Array):
        return values.cast(pa.float64())
    return pa.array(values, pa.float64())
