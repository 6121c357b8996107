"""Binance spot klines (public): ``GET /api/v3/klines``.

The body is an array of 12-element arrays ``[openTime ms, open, high, low, close,
volume, closeTime, quoteVolume, trades, takerBuyBase, takerBuyQuote, "0"]`` with prices
and volumes as strings. There is no page token: the next page starts at the last open
time + 1 ms. Every response says the weight used this minute
(``X-MBX-USED-WEIGHT-1M``; 6000 allowed, a klines request weighs 2). 429 and 418 (an IP
ban) carry ``Retry-After``; a 5xx means the outcome is unknown; other errors are
``{"code": -1121, "msg": "Invalid symbol."}``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import httpx
import pyarrow as pa
import pyarrow.compute as pc

from src.marketdata.bars import UTC_US, Timeframe, frame_from_text, ms_of
from src.marketdata.providers.base import (
    Page,
    Provider,
    Query,
    Transient,
)

INTERVALS = {Timeframe.M1: "1m", Timeframe.M5: "5m", Timeframe.M15: "15m",
             Timeframe.H1: "1h", Timeframe.D1: "1d"}  # fmt: skip
WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"


@dataclass
class Binance(Provider):
    name: str = "binance"
    path: str = "/api/v3/klines"
    page_limit: int = 1000
    weight_limit: int = 6000  # per minute
    request_weight: int = 2

    def params(self, query: Query, cursor: str | None) -> dict[str, str]:
        if len(query.symbols) != 1:
            raise ValueError("Binance klines are asked one symbol at a time")
        start = int(cursor) if cursor else ms_of(query.start)
        return {
            "symbol": query.symbols[0],
            "interval": INTERVALS[query.timeframe],
            "startTime": str(start),
            "endTime": str(ms_of(query.end) - 1),
            "limit": str(self.page_limit),
        }

    def parse(self, response: httpx.Response, query: Query) -> Page:
        symbol = query.symbols[0]
        try:
            rows = response.json()
            if not isinstance(rows, list) or any(len(row) < 9 for row in rows):
                raise ValueError("not an array of klines")
            frame = _frame(symbol, rows)
        except (ValueError, TypeError) as exc:
            raise Transient(
                f"{self.name} {symbol}: a malformed klines body ({str(exc)[:200]}): "
                f"{response.text[:120]!r}",
                kind="malformed",
            ) from None
        end = ms_of(query.end)
        last = int(rows[-1][0]) if rows else None
        kept = frame.filter(pc.less(frame["time"], pa.scalar(query.end, UTC_US)))
        more = len(rows) >= self.page_limit and last is not None and last + 1 < end
        return Page(kept, str(last + 1) if more else None, raw_rows=len(rows))

    def terminal_hint(self, status: int, retry_after: float | None) -> str:
        if status != 418:
            return ""
        banned = f" for {retry_after:.0f} s" if retry_after else ""
        return (
            f". Binance banned this IP address{banned} for ignoring 429s: wait it out, then "
            "ingest with fewer workers."
        )

    def wait_after(self, response: httpx.Response) -> float:
        """Until the next minute when this minute's weight would be exceeded."""
        try:
            used = int(response.headers.get(WEIGHT_HEADER, "0"))
        except ValueError:
            return 0.0
        if used + self.request_weight <= self.weight_limit:
            return 0.0
        return 60.0 - time.time() % 60.0 + 0.05

    def price_params(self, symbol: str) -> tuple[str, dict[str, str]]:
        """The ticker price request: ``GET /api/v3/ticker/price?symbol=``."""
        return "/api/v3/ticker/price", {"symbol": symbol}

    def parse_price(self, response: httpx.Response) -> tuple[str, Decimal]:
        try:
            body = response.json()
            return str(body["symbol"]), Decimal(str(body["price"]))
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            message = f"{self.name}: a malformed ticker body ({exc})"
            raise Transient(message, kind="malformed") from None


def _frame(symbol: str, rows: list[list]) -> pa.Table:
    """Klines as a frame; VWAP is the quote volume over the volume (none without trades)."""
    columns = list(zip(*rows, strict=False)) if rows else [()] * 12
    volume = pa.array(columns[5], pa.string()).cast(pa.float64())
    quote = pa.array(columns[7], pa.string()).cast(pa.float64())
    vwap = pc.if_else(pc.equal(volume, 0.0), None, pc.divide(quote, volume))
    return frame_from_text(
        symbol,
        {"time": columns[0], "open": columns[1], "high": columns[2], "low": columns[3],
         "close": columns[4], "volume": columns[5], "trade_count": columns[8],
         "vwap": vwap},
    )  # fmt: skip
