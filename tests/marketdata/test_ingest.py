"""Ingestion against a local server speaking Binance's klines format, checkpoints in a
real database: files per symbol-day, quarantine, resume after a failure and after
kill -9, concurrent ingests, terminal failures, metrics."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from src.config import PROJECT_ROOT, ConnectionSettings
from src.marketdata import landing
from src.marketdata.bars import Bar, frame_of
from src.marketdata.fetch import RetryPolicy
from src.marketdata.ingest import IngestPlan, _resume, ingest
from src.marketdata.metrics import MarketMetrics
from src.marketdata.providers.binance import Binance
from src.marketdata.state import Checkpoint, DayKey
from tests.conftest import run_sql
from tests.marketdata.exchange import MINUTE_MS, Exchange, kline, minute_of, utc

pytestmark = [pytest.mark.postgres, pytest.mark.anyio]

DAY1, DAY2 = date(2021, 10, 22), date(2021, 10, 23)
FAST = RetryPolicy(attempts=2, base=0.01, cap=0.02)
STATE = """SELECT symbol, trading_date, status, last_bar, bars, rejected, gaps
FROM medallion.marketdata_ingest ORDER BY trading_date, symbol"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def serve(httpserver: HTTPServer, exchange: Exchange) -> Binance:
    httpserver.expect_request("/api/v3/klines").respond_with_handler(exchange)
    return Binance(base_url=httpserver.url_for(""), page_limit=500)


def landed_times(landing_dir: Path, symbol: str, day: date) -> list[int]:
    table = pq.read_table(landing.bar_file(landing_dir, symbol, day))
    return [int(t.timestamp() * 1000) for t in table.column("timestamp").to_pylist()]


async def test_a_range_lands_a_file_per_symbol_day_and_a_rerun_asks_for_nothing(
    pg_database: ConnectionSettings, httpserver: HTTPServer, tmp_path: Path
) -> None:
    exchange = Exchange()
    provider = serve(httpserver, exchange)
    plan = IngestPlan(("BTCUSDT", "ETHUSDT"), DAY1, DAY2, workers=2)
    report = await ingest(pg_database, provider, plan, tmp_path, policy=FAST)
    assert (report.count("done"), report.landed, report.failed) == (4, 4 * 1440, [])
    for symbol in plan.symbols:
        for day in (DAY1, DAY2):
            assert landed_times(tmp_path, symbol, day) == exchange.expected(symbol, day)
    table = pq.read_table(landing.bar_file(tmp_path, "BTCUSDT", DAY1))
    assert table.schema.remove_metadata() == landing.BAR_SCHEMA
    assert table.schema.metadata[landing.VERSION_KEY] == b"1"
    first = table.slice(0, 1).to_pylist()[0]
    sent = kline("BTCUSDT", minute_of(DAY1, 0))
    assert (first["open"], first["volume"], first["trade_count"]) == (float(sent[1]), 2.5, 42)
    assert not list(tmp_path.rglob(".*"))  # no partial or temporary file left
    rows = run_sql(pg_database, STATE)
    assert [(r[2], r[4], r[5], r[6]) for r in rows] == [("done", 1440, 0, [])] * 4
    asked = len(exchange.calls)
    assert asked == 4 * 3  # 1440 minutes in pages of 500
    again = await ingest(pg_database, provider, plan, tmp_path, policy=FAST)
    assert (again.count("skipped"), again.landed, len(exchange.calls)) == (4, 0, asked)


async def test_bad_bars_are_quarantined_with_their_rule_and_gaps_are_recorded(
    pg_database: ConnectionSettings, httpserver: HTTPServer, tmp_path: Path
) -> None:
    exchange = Exchange(missing={minute_of(DAY1, 100)}, broken={minute_of(DAY1, 200)})
    provider = serve(httpserver, exchange)
    metrics = MarketMetrics()
    plan = IngestPlan(("BTCUSDT",), DAY1, DAY1, workers=1)
    report = await ingest(pg_database, provider, plan, tmp_path, policy=FAST, metrics=metrics)
    assert (report.landed, report.rejected, report.days[0].gaps) == (1438, 1, 2)
    assert landed_times(tmp_path, "BTCUSDT", DAY1) == exchange.expected("BTCUSDT", DAY1)
    [(rule, detail, bar)] = run_sql(
        pg_database, "SELECT rule, detail, bar FROM medallion.marketdata_reject"
    )
    high = (Decimal(kline("BTCUSDT", minute_of(DAY1, 200))[1]) - 1).normalize()
    assert rule == "ohlc" and f"high {high:f}" in detail and Decimal(bar["high"]) == high
    [row] = run_sql(pg_database, STATE)
    minute = "2021-10-22T01:{:02d}:00+00:00"
    assert row[5:] == (1, [[minute.format(40), minute.format(40)],
                           ["2021-10-22T03:20:00+00:00", "2021-10-22T03:20:00+00:00"]])  # fmt: skip
    sample = {s.name: s for s in metrics.registry.collect()}
    labels = {"provider": "binance", "symbol": "BTCUSDT"}
    assert (
        metrics.registry.get_sample_value("medallion_marketdata_bars_landed_total", labels) == 1438
    )
    rejected = metrics.registry.get_sample_value(
        "medallion_marketdata_bars_rejected_total", {**labels, "rule": "ohlc"}
    )
    assert rejected == 1
    assert metrics.registry.get_sample_value("medallion_marketdata_backlog", labels) == 0
    assert "medallion_marketdata_requests" in sample


async def test_a_failure_mid_day_resumes_at_the_checkpoint_with_no_bar_twice_or_missing(
    pg_database: ConnectionSettings, httpserver: HTTPServer, tmp_path: Path
) -> None:
    exchange = Exchange(fail_after=2)  # two pages of 500, then 503s outlast the retries
    provider = serve(httpserver, exchange)
    plan = IngestPlan(("BTCUSDT",), DAY1, DAY1, workers=1)
    report = await ingest(pg_database, provider, plan, tmp_path, policy=FAST)
    assert [d.outcome for d in report.days] == ["failed"] and "HTTP 503" in report.days[0].error
    [row] = run_sql(pg_database, STATE)
    assert row[2:5] == ("partial", utc(minute_of(DAY1, 999)), 1000)
    final = landing.bar_file(tmp_path, "BTCUSDT", DAY1)
    assert not final.exists() and landing.partial_file(final).exists()  # readers see nothing

    exchange.fail_after, before = None, len(exchange.calls)
    resumed = await ingest(pg_database, provider, plan, tmp_path, policy=FAST)
    assert (resumed.days[0].outcome, resumed.landed) == ("done", 440)
    assert exchange.calls[before]["startTime"] == str(minute_of(DAY1, 1000))
    assert landed_times(tmp_path, "BTCUSDT", DAY1) == exchange.expected("BTCUSDT", DAY1)


def test_bars_a_file_holds_beyond_its_checkpoint_are_dropped_on_resume(tmp_path: Path) -> None:
    """A run killed between writing the partial file and recording its checkpoint."""
    key = DayKey("binance", "BTCUSDT", DAY1, "1m")
    bars = [Bar("BTCUSDT", utc(minute_of(DAY1, m)), *[Decimal(1)] * 5) for m in range(10)]
    final = landing.bar_file(tmp_path, "BTCUSDT", DAY1)
    partial = landing.partial_file(final)
    landing.write_atomic(landing.to_landing(frame_of(bars)), partial)
    kept = _resume(Checkpoint("partial", bars[5].time, 6), partial, final, key)
    assert kept.num_rows == 6
    # the file lost bars the checkpoint counts: start the day again, never skip a bar
    assert _resume(Checkpoint("partial", bars[5].time, 7), partial, final, key).num_rows == 0
    partial.replace(final)  # killed after the rename, before "done" was recorded
    assert _resume(Checkpoint("partial", bars[9].time, 10), partial, final, key).num_rows == 10


async def test_an_unreadable_partial_file_fails_its_day_naming_it_and_others_land(
    pg_database: ConnectionSettings, httpserver: HTTPServer, tmp_path: Path
) -> None:
    exchange = Exchange(fail_after=1)
    provider = serve(httpserver, exchange)
    plan = IngestPlan(("BTCUSDT",), DAY1, DAY1, workers=1)
    await ingest(pg_database, provider, plan, tmp_path, policy=FAST)  # one page, then 503s
    partial = landing.partial_file(landing.bar_file(tmp_path, "BTCUSDT", DAY1))
    partial.write_bytes(b"not parquet")
    exchange.fail_after = None
    both = IngestPlan(("BTCUSDT", "ETHUSDT"), DAY1, DAY1, workers=1)
    report = await ingest(pg_database, provider, both, tmp_path, policy=FAST)
    [failed] = report.failed
    assert failed.key.symbol == "BTCUSDT" and str(partial) in failed.error
    assert "delete it and ingest the day again" in failed.error
    assert report.count("done") == 1


async def test_two_ingests_of_the_same_days_at_once_land_each_bar_once(
    pg_database: ConnectionSettings, httpserver: HTTPServer, tmp_path: Path
) -> None:
    exchange = Exchange(latency=0.01)
    provider = serve(httpserver, exchange)
    plan = IngestPlan(("BTCUSDT", "ETHUSDT"), DAY1, DAY2, workers=2)
    first, second = await asyncio.gather(
        ingest(pg_database, provider, plan, tmp_path, policy=FAST),
        ingest(pg_database, provider, plan, tmp_path, policy=FAST),
    )
    assert first.landed + second.landed == 4 * 1440
    assert first.count("done") + second.count("done") == 4
    assert first.count("skipped") + second.count("skipped") == 4
    assert len(exchange.calls) == 4 * 3  # no day was fetched twice
    for symbol in plan.symbols:
        for day in (DAY1, DAY2):
            assert landed_times(tmp_path, symbol, day) == exchange.expected(symbol, day)


async def test_a_bad_symbol_stops_that_symbol_only_and_is_asked_once(
    pg_database: ConnectionSettings, httpserver: HTTPServer, tmp_path: Path
) -> None:
    exchange = Exchange()
    provider = serve(httpserver, exchange)
    plan = IngestPlan(("NOPE", "BTCUSDT"), DAY1, DAY2, workers=1)
    report = await ingest(pg_database, provider, plan, tmp_path, policy=FAST)
    failed = {(d.key.symbol, d.key.day) for d in report.failed}
    assert failed == {("NOPE", DAY1), ("NOPE", DAY2)}
    assert all("Invalid symbol. (code -1121)" in d.error for d in report.failed)
    assert sum(call["symbol"] == "NOPE" for call in exchange.calls) == 1
    assert report.count("done") == 2


async def test_a_429_pauses_and_the_ingest_completes(
    pg_database: ConnectionSettings, httpserver: HTTPServer, tmp_path: Path
) -> None:
    exchange = Exchange()
    limited = {"left": 1}

    def handler(request):
        if limited["left"]:
            limited["left"] -= 1
            return Response("", status=429, headers={"Retry-After": "0.3"})
        return exchange(request)

    httpserver.expect_request("/api/v3/klines").respond_with_handler(handler)
    provider = Binance(base_url=httpserver.url_for(""), page_limit=1000)
    plan = IngestPlan(("BTCUSDT",), DAY1, DAY1, workers=1)
    started = time.monotonic()
    report = await ingest(pg_database, provider, plan, tmp_path, policy=FAST)
    assert report.count("done") == 1 and time.monotonic() - started >= 0.3


def test_kill_9_mid_range_then_a_rerun_lands_every_bar_once(
    pg_database: ConnectionSettings, httpserver: HTTPServer, tmp_path: Path, use_test_server
) -> None:
    exchange = Exchange(latency=0.05)
    httpserver.expect_request("/api/v3/klines").respond_with_handler(exchange)
    config = tmp_path / "ingest.yaml"
    config.write_text(
        f"provider: binance\nsymbols: [BTCUSDT]\nfrom: {DAY1}\nto: {DAY2}\nworkers: 1\n"
        f"database: {pg_database.database}\n"
        f"providers:\n  binance: {{base_url: '{httpserver.url_for('')}', page_limit: 60}}\n"
    )
    env = {**os.environ, "MEDALLION_LANDING_DIR": str(tmp_path / "landing")}
    env.pop("MEDALLION_BINANCE_BASE_URL", None)
    command = [sys.executable, str(PROJECT_ROOT / "scripts" / "marketdata.py"), "ingest",
               "--config", str(config)]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while _bars_landed(pg_database) < 600:  # the first day is well under way
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    [(bars,)] = run_sql(pg_database, "SELECT bars FROM medallion.marketdata_ingest")
    assert 600 <= bars < 1440
    before = len(exchange.calls)
    done = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    resumed_from = int(exchange.calls[before]["startTime"])
    assert resumed_from >= minute_of(DAY1, 600)  # it did not start the day again
    for day in (DAY1, DAY2):
        assert landed_times(tmp_path / "landing", "BTCUSDT", day) == exchange.expected(
            "BTCUSDT", day
        )
    assert run_sql(pg_database, "SELECT count(*) FROM medallion.marketdata_ingest "
                                "WHERE status = 'done'") == [(2,)]  # fmt: skip


def _bars_landed(conn: ConnectionSettings) -> int:
    if not run_sql(conn, "SELECT 1 FROM pg_tables WHERE tablename = 'marketdata_ingest'"):
        return 0
    return run_sql(conn, "SELECT coalesce(max(bars), 0) FROM medallion.marketdata_ingest")[0][0]


def test_minute_arithmetic_of_the_helper() -> None:
    assert minute_of(DAY1, 1) - minute_of(DAY1, 0) == MINUTE_MS
    assert utc(minute_of(DAY1, 0)) == datetime(2021, 10, 22, tzinfo=UTC)
