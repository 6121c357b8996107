"""The simulated provider: the demo's bar generator behind the provider interface, so
the demo and tests ingest offline, through the same paging, validation and landing as a
real vendor.

It answers in-process (an ``httpx.MockTransport``, no socket) in a small wire format of
its own: ``GET /v1/bars?symbol=&start=&end=&limit=`` (times in epoch ms, ``[start,
end)``) returns ``{"bars": [[open ms, "o", "h", "l", "c", "v", trades, "vwap"], ...],
"next": <ms> | null}``. The bars are those :func:`src.demo.generator.minute_bars` makes
for the seed, anomalies included (a few bars break OHLC rules or have negative volume:
validation quarantines them, as it would a vendor's). Only 1-minute bars exist; an
unknown symbol is a 400, as a vendor's bad symbol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

import httpx

from src.marketdata.bars import Timeframe, frame_from_text, ms_of, utc_from_ms
from src.marketdata.providers.base import Page, Provider, Query, Transient

MINUTE_MS = 60_000


@dataclass
class Simulated(Provider):
    base_url: str = "http://simulated.invalid"
    name: str = "simulated"
    path: str = "/v1/bars"
    page_limit: int = 1000
    seed: int = 42
    instruments: int = 50

    def params(self, query: Query, cursor: str | None) -> dict[str, str]:
        if query.timeframe is not Timeframe.M1:
            raise ValueError("the simulated provider makes 1-minute bars only")
        return {
            "symbol": query.symbols[0],
            "start": cursor or str(ms_of(query.start)),
            "end": str(ms_of(query.end)),
            "limit": str(self.page_limit),
        }

    def parse(self, response: httpx.Response, query: Query) -> Page:
        try:
            body = response.json()
            rows = body["bars"]
            columns = list(zip(*rows, strict=True)) if rows else [()] * 8
            names = ("time", "open", "high", "low", "close", "volume", "trade_count", "vwap")
            frame = frame_from_text(query.symbols[0], dict(zip(names, columns, strict=True)))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise Transient(f"{self.name}: a malformed body ({exc})", kind="malformed") from None
        return Page(frame, None if body.get("next") is None else str(body["next"]), len(rows))

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(lambda request: _answer(self, request))


def _answer(provider: Simulated, request: httpx.Request) -> httpx.Response:
    args = request.url.params
    try:
        symbol, start, end = args["symbol"], int(args["start"]), int(args["end"])
        limit = min(int(args.get("limit", "1000")), 1000)
    except (KeyError, ValueError):
        return httpx.Response(400, json={"msg": "symbol, start and end are required"})
    if symbol not in _universe(provider.seed, provider.instruments):
        return httpx.Response(400, json={"msg": f"unknown symbol {symbol}"})
    rows: list[list] = []
    day = utc_from_ms(start).date()
    while len(rows) < limit and _day_start(day) < end:
        rows += [r for r in _day_rows(provider.seed, provider.instruments, symbol, day)
                 if start <= r[0] < end]  # fmt: skip
        day = date.fromordinal(day.toordinal() + 1)
    page, rest = rows[:limit], rows[limit:]
    return httpx.Response(200, json={"bars": page, "next": rest[0][0] if rest else None})


def _day_start(day: date) -> int:
    return ms_of(datetime(day.year, day.month, day.day, tzinfo=UTC))


@lru_cache(maxsize=4)
def _universe(seed: int, instruments: int) -> frozenset[str]:
    from src.demo.generator_bars import universe

    return frozenset(universe(seed, instruments).codes)


@lru_cache(maxsize=8)
def _day_bars(seed: int, instruments: int, day: date) -> dict[str, list[list]]:
    """Every listed symbol's rows of ``day``, as the generator made them."""
    from src.demo.generator import SourceSpec
    from src.demo.generator_bars import MINUTE_US, SESSION_OPEN_US, day_start_us, minute_bars

    bars = minute_bars(SourceSpec(seed=seed, instruments=instruments), day)
    first = (day_start_us(day) + SESSION_OPEN_US) // 1000
    step = MINUTE_US // 1000
    rows: dict[str, list[list]] = {}
    prices = ("open", "high", "low", "close")
    for index, symbol in enumerate(bars.symbols):
        c = {name: values[index].tolist() for name, values in bars.columns.items()}
        rows[symbol] = [
            [first + minute * step, *(repr(c[name][minute]) for name in prices),
             str(c["volume"][minute]), c["trade_count"][minute], c["vwap"][minute]]
            for minute in range(len(c["open"]))
            if bars.keep[index][minute]
        ]  # fmt: skip
    return rows


def _day_rows(seed: int, instruments: int, symbol: str, day: date) -> list[list]:
    return _day_bars(seed, instruments, day).get(symbol, [])
