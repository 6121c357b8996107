"""The canonical OHLCV bar (``schema_version`` 1) and timeframes.

Prices and volumes are exact decimals, as vendors send them (Binance as strings,
Alpaca's JSON numbers parsed as decimals); ``time`` is the bar's open, in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

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
    vwap: Decimal | None = None


def utc_from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def ms_of(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
