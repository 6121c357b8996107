"""A local server speaking Binance's klines wire format, for ingestion tests and the
benchmark: every symbol has a bar each minute, priced from its open time, exactly."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from werkzeug import Request, Response

MINUTE_MS = 60_000


def day_start_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def kline(symbol: str, open_ms: int) -> list:
    """One kline: prices move with the minute, exact to the cent; 2.5 units traded.
    (Integer cents, not decimals: the benchmark's exchange must not be its bottleneck.)"""
    cents = (1000 + len(symbol)) * 100 + open_ms // MINUTE_MS % 10_000

    def text(c: int) -> str:
        return f"{c // 100}.{c % 100:02d}"

    quote = cents * 25  # price x 2.5, in thousandths
    return [open_ms, text(cents), text(cents + 500), text(cents - 500), text(cents + 100),
            "2.50000000", open_ms + 59_999, f"{quote // 1000}.{quote % 1000:03d}", 42, "1.0",
            "1.0", "0"]  # fmt: skip


class Exchange:
    """The handler: ``missing`` open times are not served (gaps), ``broken`` ones come with
    a high below the open; after ``fail_after`` requests every request gets a 503;
    ``latency`` seconds pass before each answer."""

    def __init__(
        self,
        *,
        missing: Iterable[int] = (),
        broken: Iterable[int] = (),
        fail_after: int | None = None,
        latency: float = 0.0,
        limit_status: int | None = None,
    ) -> None:
        self.missing, self.broken = set(missing), set(broken)
        self.fail_after, self.latency = fail_after, latency
        self.calls: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        args = dict(request.args)
        count = self.record(args)
        if self.latency:
            time.sleep(self.latency)
        if args["symbol"] == "NOPE":
            return _json({"code": -1121, "msg": "Invalid symbol."}, 400)
        if self.fail_after is not None and count > self.fail_after:
            return Response("upstream busy", status=503)
        return _json(self.rows(args), 200, {"X-MBX-USED-WEIGHT-1M": str(2 * count)})

    def record(self, args: dict[str, str]) -> int:
        """Keep a request's arguments; how many requests came so far."""
        with self._lock:
            self.calls.append(args)
            return len(self.calls)

    def rows(self, args: dict[str, str]) -> list[list]:
        start, end = int(args["startTime"]), int(args["endTime"])
        first = -(-start // MINUTE_MS) * MINUTE_MS
        rows = []
        for open_ms in range(first, end + 1, MINUTE_MS):
            if len(rows) == int(args["limit"]):
                break
            if open_ms in self.missing:
                continue
            row = kline(args["symbol"], open_ms)
            if open_ms in self.broken:
                row[2] = str(Decimal(row[1]) - 1)
            rows.append(row)
        return rows

    def expected(self, symbol: str, day: date) -> list[int]:
        """The open times a day's file must hold."""
        start = day_start_ms(day)
        return [t for t in range(start, start + 1440 * MINUTE_MS, MINUTE_MS)
                if t not in self.missing and t not in self.broken]  # fmt: skip


def _json(body: object, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    content_type="application/json")  # fmt: skip


def minute_of(day: date, minute: int) -> int:
    return day_start_ms(day) + minute * MINUTE_MS


def utc(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
