"""The minute price collector against a local server speaking Binance's ticker format,
on a real warehouse: prices each minute, gaps recorded not invented, reruns idempotent,
a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scripts import marketdata
from src._base.build.steps import build_in_database
from src.config import PROJECT_ROOT, SRC_PATH, ConnectionSettings
from src.marketdata.collector import run_collector
from src.marketdata.fetch import RetryPolicy
from src.marketdata.metrics import MarketMetrics
from src.marketdata.providers.base import Terminal
from src.marketdata.providers.binance import Binance
from src.utils.pg_binaries import free_port
from tests.conftest import run_sql

pytestmark = [pytest.mark.postgres, pytest.mark.anyio]

T0 = datetime(2026, 11, 20, 14, 30, 5, tzinfo=UTC)
FAST = RetryPolicy(attempts=2, base=0.01, cap=0.02)
ROWS = "SELECT symbol, minute, price, gap_reason FROM bronze.br_price ORDER BY minute, symbol"


@pytest.fixture
def warehouse(pg_database: ConnectionSettings) -> ConnectionSettings:
    assert all(r.ok for r in build_in_database(pg_database, SRC_PATH, "demo"))
    return pg_database


class Clock:
    """Starts at T0; each wait moves it to the next minute (plus ``late`` extra minutes
    when asked), so a test runs many minutes in no time."""

    def __init__(self, start: datetime = T0) -> None:
        self.at, self.skips = start, {}

    def now(self) -> datetime:
        return self.at

    async def wait(self, seconds: float, stop: asyncio.Event) -> None:
        self.at += timedelta(seconds=seconds) + self.skips.pop(self.at.minute, timedelta())


def ticker(failing: set[tuple[str, int]]):
    """Prices that move each minute; (symbol, minute) pairs in ``failing`` get a 503."""

    def handle(request: Request) -> Response:
        symbol = request.args["symbol"]
        if symbol == "NOPE":
            return Response(json.dumps({"code": -1121, "msg": "Invalid symbol."}), status=400)
        minute = handle.clock.at.minute
        if (symbol, minute) in failing:
            return Response("busy", status=503)
        price = {"BTCUSDT": "60000.12345678", "ETHUSDT": "4000.5"}[symbol]
        body = {"symbol": symbol, "price": str(Decimal(price) + minute)}
        return Response(json.dumps(body), content_type="application/json")

    return handle


async def collect(warehouse, httpserver, clock, symbols, minutes, failing=(), metrics=None):
    handler = ticker(set(failing))
    handler.clock = clock
    httpserver.expect_request("/api/v3/ticker/price").respond_with_handler(handler)
    provider = Binance(base_url=httpserver.url_for(""))
    return await run_collector(
        warehouse, provider, symbols, stop=asyncio.Event(), minutes=minutes, policy=FAST,
        now=clock.now, wait=clock.wait, metrics=metrics,
    )  # fmt: skip


def sample(metrics: MarketMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_each_minute_prices_every_symbol_and_a_failure_is_a_gap(
    warehouse, httpserver: HTTPServer
) -> None:
    clock, metrics = Clock(), MarketMetrics()
    done = await collect(warehouse, httpserver, clock, ["BTCUSDT", "ETHUSDT"], 3,
                         failing={("ETHUSDT", 31)}, metrics=metrics)  # fmt: skip
    assert (done.minutes, done.prices, done.gaps, done.stored) == (3, 5, 1, 6)
    eth = {"provider": "binance", "symbol": "ETHUSDT"}
    assert sample(metrics, "medallion_marketdata_prices_total", **eth) == 2
    assert sample(metrics, "medallion_marketdata_gaps_total", **eth) == 1
    assert sample(metrics, "medallion_marketdata_requests_total", **eth, outcome="transient") == 2
    assert sample(metrics, "medallion_marketdata_requests_total", **eth, outcome="ok") == 2
    rows = run_sql(warehouse, ROWS)
    minute = T0.replace(second=0)
    assert [(s, m - minute) for s, m, _, _ in rows] == [
        ("BTCUSDT", timedelta(0)), ("ETHUSDT", timedelta(0)),
        ("BTCUSDT", timedelta(minutes=1)), ("ETHUSDT", timedelta(minutes=1)),
        ("BTCUSDT", timedelta(minutes=2)), ("ETHUSDT", timedelta(minutes=2)),
    ]  # fmt: skip
    assert rows[0][2] == Decimal("60030.12345678")  # exact, as the exchange sent it
    assert rows[3][2] is None and "HTTP 503" in rows[3][3]  # a gap, with its reason
    # the exchange's clock: its HTTP Date (the local server's real time here)
    times = run_sql(warehouse, "SELECT exchange_time FROM bronze.br_price WHERE price IS NOT NULL")
    assert all(abs(datetime.now(UTC) - t) < timedelta(minutes=2) for (t,) in times)


async def test_minutes_the_collector_missed_are_gaps_and_reruns_store_nothing_twice(
    warehouse, httpserver: HTTPServer
) -> None:
    clock = Clock()
    clock.skips[31] = timedelta(minutes=3)  # asleep from 14:32 to 14:34
    await collect(warehouse, httpserver, clock, ["BTCUSDT"], 3)
    rows = run_sql(warehouse, ROWS)
    assert [m.minute for _, m, _, _ in rows] == [30, 31, 32, 33, 34, 35]
    assert [m.minute for _, m, p, _ in rows if p is None] == [32, 33, 34]
    assert all("not running" in reason for _, _, p, reason in rows if p is None)
    again = await collect(warehouse, httpserver, Clock(), ["BTCUSDT"], 2)
    assert again.stored == 0 and len(run_sql(warehouse, ROWS)) == 6


async def test_rows_wait_for_a_database_that_went_away(warehouse, httpserver: HTTPServer) -> None:
    """The collector's connection is cut after 14:31: 14:32 cannot be stored, and is
    stored with 14:33 on a new connection."""
    clock = Clock()
    wait = clock.wait

    async def cut_after_31(seconds: float, stop: asyncio.Event) -> None:
        if clock.at.minute == 31:
            run_sql(warehouse, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = 'medallion-collector'")  # fmt: skip
        await wait(seconds, stop)

    clock.wait = cut_after_31
    done = await collect(warehouse, httpserver, clock, ["BTCUSDT"], 4)
    assert done.stored == 4 and done.gaps == 0
    assert [m.minute for _, m, _, _ in run_sql(warehouse, ROWS)] == [30, 31, 32, 33]


async def test_an_unknown_symbol_is_dropped_and_alone_it_stops_the_collector(
    warehouse, httpserver: HTTPServer
) -> None:
    done = await collect(warehouse, httpserver, Clock(), ["BTCUSDT", "NOPE"], 2)
    assert done.prices == 2 and done.gaps == 0  # NOPE is not a gap: it is not a symbol
    with pytest.raises(Terminal, match=r"NOPE: HTTP 400: Invalid symbol"):
        await collect(warehouse, httpserver, Clock(), ["NOPE"], 2)


def test_status_shows_each_symbol_s_last_price_and_its_day(
    warehouse, httpserver: HTTPServer, use_test_server, capsys
) -> None:
    assert marketdata.main(["status", "--database", warehouse.database]) == 0
    assert "No prices collected" in capsys.readouterr().out
    start = datetime.now(UTC) - timedelta(minutes=10)
    failing = {("ETHUSDT", (start + timedelta(minutes=2)).minute)}
    asyncio.run(collect(warehouse, httpserver, Clock(start), ["BTCUSDT", "ETHUSDT"], 3, failing))
    assert marketdata.main(["status", "--database", warehouse.database]) == 0
    out = capsys.readouterr().out
    eth = next(line for line in out.splitlines() if "ETHUSDT" in line)
    last = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    assert f"{last:%Y-%m-%d %H:%M}" in eth  # minute 2 is a gap: minute 1 is the last priced
    cells = [cell.strip() for cell in eth.split("│") if cell.strip()]
    assert cells[-2:] == ["2", "1"]  # prices and gaps in the last day


def test_sigterm_ends_the_command_cleanly(
    warehouse, httpserver: HTTPServer, use_test_server
) -> None:
    httpserver.expect_request("/api/v3/ticker/price").respond_with_json(
        {"symbol": "BTCUSDT", "price": "60000.5"}
    )
    env = {**os.environ, "MEDALLION_BINANCE_BASE_URL": httpserver.url_for("")}
    port = free_port()
    command = [sys.executable, str(PROJECT_ROOT / "scripts" / "marketdata.py"), "collect",
               "--symbols", "BTCUSDT", "--database", warehouse.database,
               "--metrics-port", str(port)]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    deadline = time.monotonic() + 30
    while not run_sql(warehouse, "SELECT 1 FROM bronze.br_price"):
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.2)
    counted = 'medallion_marketdata_prices_total{provider="binance",symbol="BTCUSDT"} 1.0'
    while counted not in httpx.get(f"http://127.0.0.1:{port}/metrics").text:  # served live
        assert time.monotonic() < deadline, "the price never showed in the metrics"
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert "collected 1 minute(s): 1 prices, 0 gaps" in process.stderr.read()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
