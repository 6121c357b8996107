"""Provider clients against a local HTTP server speaking each vendor's wire format
(pytest-httpserver): paging, rate limits, retries, and the failures that must stop."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from src.marketdata.bars import ms_of
from src.marketdata.fetch import RetryPolicy, afetch_pages, fetch_pages
from src.marketdata.providers.alpaca import Alpaca
from src.marketdata.providers.base import Query, Terminal, Transient
from src.marketdata.providers.binance import Binance
from src.utils.errors import ConfigError

START = datetime(2021, 10, 22, tzinfo=UTC)
FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05)


def kline(minute: int) -> list:
    """One Binance kline, ``minute`` minutes after START, with exact string prices."""
    open_ms = ms_of(START) + minute * 60_000
    price = Decimal("60000.10") + minute
    return [
        open_ms,
        str(price),
        str(price + 5),
        str(price - 5),
        str(price + 1),
        "2.50000000",
        open_ms + 59_999,
        str(price * Decimal("2.5")),
        42,
        "1.0",
        "1.0",
        "0",
    ]


def klines_handler(calls: list[dict], *, total: int):
    """Serve ``total`` minutes of klines, paged by startTime/limit like Binance."""

    def handle(request: Request) -> Response:
        args = request.args
        calls.append(dict(args))
        start = -(-(int(args["startTime"]) - ms_of(START)) // 60_000)  # opens >= startTime
        end = (int(args["endTime"]) - ms_of(START)) // 60_000
        limit = int(args["limit"])
        rows = [kline(m) for m in range(start, min(end + 1, total, start + limit))]
        return Response(json.dumps(rows), headers={"X-MBX-USED-WEIGHT-1M": "12"},
                        content_type="application/json")  # fmt: skip

    return handle


def binance(server: HTTPServer, **kwargs) -> Binance:
    return Binance(base_url=server.url_for(""), **kwargs)


def pages(provider, query, *, sleeps=None, timeout=5.0):
    waits = sleeps if sleeps is not None else []
    with httpx.Client(base_url=provider.base_url, timeout=timeout) as client:
        return list(fetch_pages(client, provider, query, policy=FAST, sleep=waits.append))


def test_binance_pages_by_start_time_and_keeps_exact_prices(httpserver: HTTPServer) -> None:
    calls: list[dict] = []
    httpserver.expect_request("/api/v3/klines").respond_with_handler(
        klines_handler(calls, total=2500)
    )
    query = Query(("BTCUSDT",), START, START + timedelta(minutes=2500))
    found = pages(binance(httpserver), query)
    bars = [bar for page in found for bar in page.bars]
    assert len(bars) == 2500 and len(calls) == 3
    # each page starts 1 ms after the last bar's open: no page token on Binance
    assert [int(c["startTime"]) for c in calls] == [
        ms_of(START),
        ms_of(START) + 999 * 60_000 + 1,
        ms_of(START) + 1999 * 60_000 + 1,
    ]
    assert calls[0]["symbol"] == "BTCUSDT" and calls[0]["interval"] == "1m"
    assert bars[0].open == Decimal("60000.10") and bars[0].volume == Decimal("2.5")
    assert bars[0].vwap == pytest.approx(60000.10, rel=1e-15)  # quote volume / volume
    assert [b.time for b in bars] == [START + timedelta(minutes=m) for m in range(2500)]


def test_an_empty_page_ends_the_range(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v3/klines").respond_with_json([])
    [page] = pages(binance(httpserver), Query(("BTCUSDT",), START, START + timedelta(days=1)))
    assert page.bars == [] and page.cursor is None


def test_a_429_waits_as_long_as_retry_after_says(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/api/v3/klines").respond_with_json(
        {"code": -1003, "msg": "Too many requests."}, status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_ordered_request("/api/v3/klines").respond_with_json([kline(0)])
    sleeps: list[float] = []
    found = pages(binance(httpserver), Query(("BTCUSDT",), START, START + timedelta(minutes=1)),
                  sleeps=sleeps)  # fmt: skip
    assert [len(p.bars) for p in found] == [1]
    assert sleeps == [7.0]


def test_server_errors_are_retried_then_reported(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/api/v3/klines").respond_with_data("oops", status=502)
    httpserver.expect_ordered_request("/api/v3/klines").respond_with_json([kline(0)])
    query = Query(("BTCUSDT",), START, START + timedelta(minutes=1))
    assert [len(p.bars) for p in pages(binance(httpserver), query)] == [1]
    httpserver.clear()
    httpserver.expect_request("/api/v3/klines").respond_with_data("down", status=503)
    with pytest.raises(Transient, match=r"binance BTCUSDT: .*HTTP 503"):
        pages(binance(httpserver), query)
    assert len(httpserver.log) == FAST.attempts


def test_a_timeout_and_a_malformed_body_are_retried(httpserver: HTTPServer) -> None:
    state = {"calls": 0}

    def slow_then_garbage_then_good(request: Request) -> Response:
        state["calls"] += 1
        if state["calls"] == 1:
            time.sleep(0.6)  # longer than the client waits
        if state["calls"] == 2:
            return Response("<html>proxy error</html>", content_type="text/html")
        return Response(json.dumps([kline(0)]), content_type="application/json")

    httpserver.expect_request("/api/v3/klines").respond_with_handler(slow_then_garbage_then_good)
    query = Query(("BTCUSDT",), START, START + timedelta(minutes=1))
    found = pages(binance(httpserver), query, timeout=0.3)
    assert [len(p.bars) for p in found] == [1] and state["calls"] == 3


def test_a_bad_symbol_stops_at_once_with_the_vendor_s_message(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v3/klines").respond_with_json(
        {"code": -1121, "msg": "Invalid symbol."}, status=400
    )
    with pytest.raises(Terminal, match=r"binance NOPE: .*Invalid symbol\. \(code -1121\)"):
        pages(binance(httpserver), Query(("NOPE",), START, START + timedelta(minutes=1)))
    assert len(httpserver.log) == 1  # never retried


def test_an_ip_ban_is_terminal_and_says_how_long(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v3/klines").respond_with_json(
        {"code": -1003, "msg": "Way too many requests; IP banned."}, status=418,
        headers={"Retry-After": "120"},
    )  # fmt: skip
    with pytest.raises(Terminal, match=r"banned this IP address for 120 s"):
        pages(binance(httpserver), Query(("BTCUSDT",), START, START + timedelta(minutes=1)))
    assert len(httpserver.log) == 1


def test_the_weight_header_pauses_before_the_minute_is_exceeded(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/api/v3/klines").respond_with_json(
        [kline(m) for m in range(2)], headers={"X-MBX-USED-WEIGHT-1M": "5999"}
    )
    httpserver.expect_ordered_request("/api/v3/klines").respond_with_json([kline(2)])
    sleeps: list[float] = []
    provider = binance(httpserver, page_limit=2)
    pages(provider, Query(("BTCUSDT",), START, START + timedelta(minutes=3)), sleeps=sleeps)
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 60.05


def alpaca(server: HTTPServer, **kwargs) -> Alpaca:
    keys = {"key_id": SecretStr("AKTEST"), "secret_key": SecretStr("s3cret")}
    return Alpaca(base_url=server.url_for(""), **{**keys, **kwargs})


def test_alpaca_pages_by_token_for_several_symbols(httpserver: HTTPServer) -> None:
    first = {
        "bars": {
            "AAPL": [{"t": "2022-04-11T08:00:00.123456789Z", "o": 168.99, "h": 169.1,
                      "l": 168.9, "c": 169.05, "v": 1200, "n": 31, "vw": 169.012345}],
            "MSFT": [{"t": "2022-04-11T08:00:00Z", "o": 285.5, "h": 285.6, "l": 285.4,
                      "c": 285.55, "v": 300, "n": 9, "vw": 285.5}],
        },
        "next_page_token": "QUFQTHwyMDIy",
    }  # fmt: skip
    second = {"bars": {"AAPL": [{"t": "2022-04-11T08:01:00Z", "o": 169.05, "h": 169.2,
                                 "l": 169.0, "c": 169.1, "v": 800, "n": 20, "vw": 169.1}]},
              "next_page_token": None}  # fmt: skip
    httpserver.expect_ordered_request(
        "/v2/stocks/bars", headers={"APCA-API-KEY-ID": "AKTEST", "APCA-API-SECRET-KEY": "s3cret"}
    ).respond_with_json(first, headers={"X-RateLimit-Remaining": "199"})
    httpserver.expect_ordered_request(
        "/v2/stocks/bars", query_string={"symbols": "AAPL,MSFT", "timeframe": "1Min",
                                         "start": "2022-04-11T08:00:00Z",
                                         "end": "2022-04-11T09:00:00Z", "limit": "10000",
                                         "feed": "iex", "page_token": "QUFQTHwyMDIy"},
    ).respond_with_json(second)  # fmt: skip
    start = datetime(2022, 4, 11, 8, tzinfo=UTC)
    found = pages(alpaca(httpserver), Query(("AAPL", "MSFT"), start, start + timedelta(hours=1)))
    bars = [bar for page in found for bar in page.bars]
    assert [(b.symbol, b.time.minute) for b in bars] == [("AAPL", 0), ("MSFT", 0), ("AAPL", 1)]
    assert bars[0].time.microsecond == 123456  # nanoseconds cut to what Python keeps
    assert bars[0].vwap == 169.012345 and bars[0].volume == Decimal(1200)


def test_alpaca_bad_keys_and_a_bad_parameter_stop_at_once(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/v2/stocks/bars").respond_with_json(
        {"message": "forbidden."}, status=403
    )
    query = Query(("AAPL",), START, START + timedelta(hours=1))
    with pytest.raises(Terminal, match=r"HTTP 403: forbidden.*MEDALLION_ALPACA_KEY_ID"):
        pages(alpaca(httpserver), query)
    httpserver.expect_ordered_request("/v2/stocks/bars").respond_with_json(
        {"message": "invalid timeframe"}, status=422
    )
    with pytest.raises(Terminal, match="HTTP 422: invalid timeframe"):
        pages(alpaca(httpserver), query)
    assert len(httpserver.log) == 2
    with pytest.raises(ConfigError, match="MEDALLION_ALPACA_KEY_ID"):
        Alpaca(base_url="http://127.0.0.1:1")


def test_alpaca_waits_for_the_reset_when_nothing_remains(httpserver: HTTPServer) -> None:
    reset = str(int(time.time()) + 3)
    httpserver.expect_ordered_request("/v2/stocks/bars").respond_with_json(
        {"bars": {}, "next_page_token": "next"},
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
    )
    httpserver.expect_ordered_request("/v2/stocks/bars").respond_with_json(
        {"bars": {}, "next_page_token": None}
    )
    sleeps: list[float] = []
    pages(alpaca(httpserver), Query(("AAPL",), START, START + timedelta(hours=1)), sleeps=sleeps)
    assert len(sleeps) == 1 and 1.5 < sleeps[0] <= 3.0


@pytest.mark.anyio
async def test_the_async_client_pages_the_same_way(httpserver: HTTPServer) -> None:
    calls: list[dict] = []
    httpserver.expect_request("/api/v3/klines").respond_with_handler(
        klines_handler(calls, total=1500)
    )
    provider = binance(httpserver)
    query = Query(("ETHUSDT",), START, START + timedelta(minutes=1500))

    async def no_wait(seconds: float) -> None:
        return None

    async with httpx.AsyncClient(base_url=provider.base_url, timeout=5) as client:
        found = [p async for p in afetch_pages(client, provider, query, policy=FAST, sleep=no_wait)]
    assert sum(len(p.bars) for p in found) == 1500 and len(calls) == 2


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
