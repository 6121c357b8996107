"""Market-data ingestion: bars landed per second against a local Binance-format server
with a realistic latency, validation and landing cost per 1M bars, and resume cost.

    PYTHONPATH=. uv run python bench/bench_marketdata.py [--symbols 20] [--days 5]
        [--latency 0.05] [--workers 1,8] [--bars 1000000]

1. Throughput: ``--symbols`` times ``--days`` of 1-minute bars (1440 a day, pages of 1000)
   from a threaded local server answering each request after ``--latency`` seconds;
   the baseline is one worker, measured in the same run.
2. Validation and landing per ``--bars`` bars, in-process: parsing the vendor's rows
   into exact bars (the baseline every ingest pays), then validating them, then
   converting to Arrow and writing zstd Parquet, each timed alone.
3. Resume: an ingest whose server fails every request after half of the range, then
   the rerun; its time and requests against a full run's.

Checkpoints go to a throw-away PostgreSQL server (or the configured one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from werkzeug.serving import make_server
from werkzeug.wrappers import Request

from src.config import ConnectionSettings, load_settings
from src.marketdata import landing
from src.marketdata.bars import Timeframe
from src.marketdata.fetch import RetryPolicy
from src.marketdata.ingest import IngestPlan, IngestReport, ingest
from src.marketdata.providers.base import Query
from src.marketdata.providers.binance import Binance
from src.marketdata.validate import check_frame
from src.utils.connections import execute_autocommit
from src.utils.embedded_postgres import server_for
from src.utils.pg_binaries import free_port
from tests.marketdata.exchange import Exchange, day_start_ms, kline, utc

FIRST_DAY = date(2021, 10, 22)
FAIL_FAST = RetryPolicy(attempts=1)


class SharedExchange(Exchange):
    """The exchange in a process of its own (a vendor's CPU is not ours): requests are
    counted, and failures switched on and off, in shared memory."""

    def __init__(self, latency: float, fail_after: int | None = None) -> None:
        self.count = multiprocessing.Value("i", 0)
        self.failing = multiprocessing.Value("i", -1)
        super().__init__(latency=latency, fail_after=fail_after)

    def record(self, args: dict[str, str]) -> int:
        with self.count.get_lock():
            self.count.value += 1
            return self.count.value

    @property
    def fail_after(self) -> int | None:
        return None if self.failing.value < 0 else self.failing.value

    @fail_after.setter
    def fail_after(self, value: int | None) -> None:
        self.failing.value = -1 if value is None else value

    @property
    def requests(self) -> int:
        return self.count.value


def _serve(exchange: SharedExchange, port: int) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    make_server("127.0.0.1", port, Request.application(exchange), threaded=True).serve_forever()


@contextmanager
def exchange_server(exchange: SharedExchange) -> Iterator[str]:
    """The exchange on a threaded local HTTP server in another process."""
    port = free_port()
    process = multiprocessing.get_context("fork").Process(
        target=_serve, args=(exchange, port), daemon=True
    )
    process.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            probe = {"symbol": "PROBE", "startTime": "0", "endTime": "0", "limit": "1"}
            httpx.get(f"{url}/api/v3/klines", params=probe, timeout=1)
            exchange.count.value = 0  # the probe is not the ingest's
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the exchange did not start"
            time.sleep(0.05)
    try:
        yield url
    finally:
        process.terminate()
        process.join()


@contextmanager
def fresh_database(server: ConnectionSettings, name: str) -> Iterator[ConnectionSettings]:
    execute_autocommit(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    execute_autocommit(server, f"CREATE DATABASE {name}")
    try:
        yield server.with_database(name)
    finally:
        execute_autocommit(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run(conn, url: str, plan: IngestPlan, folder: Path, policy=RetryPolicy()) -> IngestReport:
    return asyncio.run(ingest(conn, Binance(base_url=url), plan, folder, policy=policy))


def throughput(server, args, symbols: tuple[str, ...], last: date) -> None:
    print(f"\n1. {len(symbols)} symbols x {args.days} days of 1m bars, {args.latency * 1000:.0f} ms"
          " a request; baseline: 1 worker\n")  # fmt: skip
    header = f"{'workers':>7} {'seconds':>8} {'bars':>9} {'requests':>8} {'bars/s':>9} {'ratio':>6}"
    print(header + "\n" + "-" * len(header))
    baseline = None
    for workers in args.workers:
        exchange = SharedExchange(args.latency)
        with exchange_server(exchange) as url, fresh_database(server, "bench_md") as conn, \
                tempfile.TemporaryDirectory() as folder:  # fmt: skip
            plan = IngestPlan(symbols, FIRST_DAY, last, workers=workers)
            report = run(conn, url, plan, Path(folder))
        assert not report.failed and report.landed == len(symbols) * args.days * 1440
        rate = report.landed / report.seconds
        baseline = baseline or rate
        print(f"{workers:>7} {report.seconds:>8.2f} {report.landed:>9,} {exchange.requests:>8} "
              f"{rate:>9,.0f} {rate / baseline:>5.1f}x")  # fmt: skip


def warm_up(server: ConnectionSettings) -> None:
    """One small ingest first: imports (pyarrow loads pandas) and the server's caches are
    not the first measured configuration's cost."""
    with exchange_server(SharedExchange(0.0)) as url, fresh_database(server, "bench_md") as conn, \
            tempfile.TemporaryDirectory() as folder:  # fmt: skip
        run(conn, url, IngestPlan(("WARMUP",), FIRST_DAY, FIRST_DAY), Path(folder))


def overhead(count: int) -> None:
    print(f"\n2. Per {count:,} bars in pages of 1000, in-process; baseline: decoding the "
          "vendor's JSON and parsing it to exact columns\n")  # fmt: skip
    start = day_start_ms(FIRST_DAY)
    provider = Binance(base_url="http://127.0.0.1")
    bodies = [
        json.dumps([kline("BTCUSDT", start + (first + i) * 60_000) for i in range(1000)]).encode()
        for first in range(0, count, 1000)
    ]
    query = Query(("BTCUSDT",), utc(start), utc(start + (count + 1) * 60_000))
    stages = []
    began = time.perf_counter()
    frames = [provider.parse(httpx.Response(200, content=body), query).frame for body in bodies]
    stages.append(("parse (baseline)", time.perf_counter() - began))
    began = time.perf_counter()
    good = [check_frame(frame, Timeframe.M1, datetime.now(UTC)).good for frame in frames]
    stages.append(("validate", time.perf_counter() - began))
    assert sum(frame.num_rows for frame in good) == count
    began = time.perf_counter()
    table = landing.concat([landing.to_landing(frame) for frame in good])
    stages.append(("to landing schema", time.perf_counter() - began))
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        path = landing.write_atomic(table, Path(folder) / "bars.parquet")
        stages.append(("write zstd Parquet", time.perf_counter() - began))
        size = path.stat().st_size
    header = f"{'stage':<20} {'seconds':>8} {'us/bar':>7} {'ratio':>6}"
    print(header + "\n" + "-" * len(header))
    for name, seconds in stages:
        print(f"{name:<20} {seconds:>8.2f} {seconds / count * 1e6:>7.2f} "
              f"{seconds / stages[0][1]:>5.2f}x")  # fmt: skip
    print(f"(the file: {size / count:.1f} bytes a bar)")


def resume(server, args, symbols: tuple[str, ...], last: date) -> None:
    workers = max(args.workers)
    print(f"\n3. Resume after a failure at 50% ({workers} workers); baseline: a full run\n")
    plan = IngestPlan(symbols, FIRST_DAY, last, workers=workers)
    pages = len(symbols) * args.days * 2
    header = f"{'run':<22} {'seconds':>8} {'bars':>9} {'requests':>8} {'ratio':>6}"
    print(header + "\n" + "-" * len(header))
    full = SharedExchange(args.latency)
    with exchange_server(full) as url, fresh_database(server, "bench_md") as conn, \
            tempfile.TemporaryDirectory() as folder:  # fmt: skip
        whole = run(conn, url, plan, Path(folder))
    print(f"{'full run (baseline)':<22} {whole.seconds:>8.2f} {whole.landed:>9,} "
          f"{full.requests:>8} {1:>5.2f}x")  # fmt: skip
    broken = SharedExchange(args.latency, fail_after=pages // 2)
    with exchange_server(broken) as url, fresh_database(server, "bench_md") as conn, \
            tempfile.TemporaryDirectory() as folder:  # fmt: skip
        first = run(conn, url, plan, Path(folder), policy=FAIL_FAST)
        asked = broken.requests
        broken.fail_after = None
        second = run(conn, url, plan, Path(folder))
        assert not second.failed and first.landed + second.landed == whole.landed
    for name, report, requests in (("interrupted run", first, asked),
                                   ("resume", second, broken.requests - asked)):  # fmt: skip
        print(f"{name:<22} {report.seconds:>8.2f} {report.landed:>9,} {requests:>8} "
              f"{report.seconds / whole.seconds:>5.2f}x")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", type=lambda s: [int(w) for w in s.split(",")],
                        default=[1, 8])  # fmt: skip
    parser.add_argument("--bars", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    symbols = tuple(f"SYM{n:03d}USDT" for n in range(args.symbols))
    last = FIRST_DAY + timedelta(days=args.days - 1)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    with server_for(load_settings()) as server:
        warm_up(server)
        throughput(server, args, symbols, last)
        overhead(args.bars)
        resume(server, args, symbols, last)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
