"""Alpaca stock bars: ``GET /v2/stocks/bars?symbols=A,B&timeframe=1Min&...``.

Authenticated by the headers ``APCA-API-KEY-ID`` / ``APCA-API-SECRET-KEY`` (from the
environment, never argv). The body is ``{"bars": {"AAPL": [{"t", "o", "h", "l", "c",
"v", "n", "vw"}]}, "next_page_token": ... | null}``, ``t`` in RFC 3339 with up to
nanoseconds. Rate limits come as ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset``
(epoch seconds); errors are 429, 403 (bad keys) and 422 (a bad parameter).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import httpx
from pydantic import SecretStr

from src.marketdata.bars import Bar, Timeframe, frame_of
from src.marketdata.providers.base import (
    Page,
    Provider,
    Query,
    Transient,
    retry_after,
)
from src.utils.errors import ConfigError

TIMEFRAMES = {Timeframe.M1: "1Min", Timeframe.M5: "5Min", Timeframe.M15: "15Min",
              Timeframe.H1: "1Hour", Timeframe.D1: "1Day"}  # fmt: skip
_FRACTION = re.compile(r"\.(\d{6})\d+")  # nanoseconds: Python keeps microseconds


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(_FRACTION.sub(r".\1", text).replace("Z", "+00:00"))
    return moment.astimezone(UTC)


@dataclass
class Alpaca(Provider):
    key_id: SecretStr | None = None
    secret_key: SecretStr | None = None
    name: str = "alpaca"
    path: str = "/v2/stocks/bars"
    page_limit: int = 10000
    feed: str = "iex"

    def __post_init__(self) -> None:
        if self.key_id is None or self.secret_key is None:
            raise ConfigError(
                "alpaca: no API keys. Set MEDALLION_ALPACA_KEY_ID and "
                "MEDALLION_ALPACA_SECRET_KEY in the environment or .env."
            )
        self.headers = {
            **self.headers,
            "APCA-API-KEY-ID": self.key_id.get_secret_value(),
            "APCA-API-SECRET-KEY": self.secret_key.get_secret_value(),
        }

    def params(self, query: Query, cursor: str | None) -> dict[str, str]:
        params = {
            "symbols": ",".join(query.symbols),
            "timeframe": TIMEFRAMES[query.timeframe],
            "start": rfc3339(query.start),
            "end": rfc3339(query.end),
            "limit": str(self.page_limit),
            "feed": self.feed,
        }
        if cursor:
            params["page_token"] = cursor
        return params

    def parse(self, response: httpx.Response, query: Query) -> Page:
        try:
            body = json.loads(response.content, parse_float=Decimal)
            by_symbol = body.get("bars") or {}
            bars = [
                _bar(symbol, row)
                for symbol, rows in sorted(by_symbol.items())
                for row in rows or []
            ]
            token = body.get("next_page_token")
            frame = frame_of([b for b in bars if query.start <= b.time < query.end])
        except (ValueError, TypeError, KeyError, AttributeError, InvalidOperation) as exc:
            raise Transient(
                f"{self.name}: a malformed bars body ({exc}): {response.text[:120]!r}",
                kind="malformed",
            ) from None
        return Page(frame, token or None, raw_rows=len(bars))

    def rate_limited_wait(self, response: httpx.Response) -> float | None:
        return self._until_reset(response)

    def terminal_hint(self, status: int, retry_after: float | None) -> str:
        if status not in (401, 403):
            return ""
        return (
            ". Check MEDALLION_ALPACA_KEY_ID / MEDALLION_ALPACA_SECRET_KEY (and that the keys "
            "may read this feed)."
        )

    def wait_after(self, response: httpx.Response) -> float:
        if response.headers.get("X-RateLimit-Remaining") != "0":
            return 0.0
        return self._until_reset(response) or 0.0

    @staticmethod
    def _until_reset(response: httpx.Response) -> float | None:
        reset = response.headers.get("X-RateLimit-Reset")
        try:
            return max(float(reset) - time.time(), 0.0) if reset else retry_after(response)
        except ValueError:
            return retry_after(response)


def _bar(symbol: str, row: dict) -> Bar:
    def exact(value: object) -> Decimal:
        return value if isinstance(value, Decimal) else Decimal(str(value))

    return Bar(
        symbol=symbol,
        time=parse_time(row["t"]),
        open=exact(row["o"]),
        high=exact(row["h"]),
        low=exact(row["l"]),
        close=exact(row["c"]),
        volume=exact(row["v"]),
        trade_count=int(row["n"]) if row.get("n") is not None else None,
        vwap=float(row["vw"]) if row.get("vw") is not None else None,
    )
