"""Benchmark the read API (issue 13): throughput and latency against asyncpg direct.

    uv run python bench/bench_api.py [--seconds 6] [--concurrency 1 16 64] [--keys 500000]
                                     [--workers 1 2]

On one server (the configured one or a throw-away embedded one): the demo warehouse with
one loaded day, and an instrument history of 2 x ``--keys`` rows (every instrument
renamed once). The API runs as ``make serve`` runs it (scripts/serve.py in its own
processes, as the read-only API role), once per ``--workers`` count, all at once on
their own ports. The load comes from wrk (``make bench-tools`` installs it; a C client
that leaves the cores to the server), each request for a random key; without wrk, from
an httpx client in this process, which then competes with the API for the CPU. The
baseline is the same SQL each endpoint runs, through an asyncpg pool as large as one API
process's (16 connections; fewer at lower concurrency), as the same role. Each cell
alternates baseline and API runs (A B C C B A) so that a drift in the machine's speed
does not favour either. Three requests:

- as-of: one instrument as of a time between its two versions (``/silver/instrument/{code}``);
- latest price: ``/desk/prices/latest?symbol=``;
- minute bars: one symbol-day, ``/desk/bars/{symbol}/minute``.

Target: API throughput >= 50% of direct. p50 and p99 latencies are reported (for wrk,
the worse of a cell's two runs).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from src._base.build.roles import ensure_api_role
from src._base.build.steps import build_in_database
from src._base.functions.system_time import REWRITE_SETTING, SET_SYSTEM_TIME
from src._base.pipeline.catalogue import load_catalogue
from src._base.pipeline.daily import run_transforms
from src._base.pipeline.run_config import RunConfig
from src.config import PROJECT_ROOT, SRC_PATH, ConnectionSettings, load_settings
from src.demo.api import LATEST_PRICE, MINUTE_BARS
from src.demo.generator import SourceSpec, generate_day
from src.demo.tables.silver.instrument_hist import InstrumentHist
from src.serving.db import api_connection
from src.serving.resources import resource_of
from src.serving.routes import item_statements
from src.utils.connections import connect_raw, execute_autocommit
from src.utils.embedded_postgres import server_for
from src.utils.pg_binaries import free_port

DAY = date(2026, 11, 20)
T1 = datetime(2026, 11, 1, tzinfo=UTC)  # every instrument's first version
T2 = datetime(2026, 11, 10, tzinfo=UTC)  # ... renamed here
AS_OF = datetime(2026, 11, 5, tzinfo=UTC)
WAREHOUSE, SOURCE = "bench_api_wh", "bench_api_src"


def prepare(server: ConnectionSettings, landing: Path, keys: int) -> ConnectionSettings:
    for name in (WAREHOUSE, SOURCE):
        execute_autocommit(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        execute_autocommit(server, f"CREATE DATABASE {name}")
    warehouse, source = server.with_database(WAREHOUSE), server.with_database(SOURCE)
    assert all(r.ok for r in build_in_database(warehouse, SRC_PATH, "demo"))
    generate_day(source, landing, DAY, SourceSpec())
    cfg = replace(RunConfig(DAY, warehouse, source, landing), engine="postgres")
    run_transforms(None, cfg, load_catalogue(SRC_PATH, "demo").entries, workers=2)
    raw = connect_raw(warehouse)
    with raw.cursor() as cur:
        cur.execute(f"SET LOCAL {REWRITE_SETTING} = on")  # history written in the past
        cur.execute(f"SELECT {SET_SYSTEM_TIME}(%s)", (T1,))
        cur.execute(
            "INSERT INTO silver.instrument_hist (instrument_code, name, asset_class_type_id,"
            " exchange_type_id, currency_type_id) SELECT 'X' || lpad(g::text, 7, '0'),"
            " 'Instrument ' || g, 1, 1, 1 FROM generate_series(1, %s) g",
            (keys,),
        )
    raw.commit()
    with raw.cursor() as cur:
        cur.execute(f"SELECT {SET_SYSTEM_TIME}(%s)", (T2,))
        cur.execute("UPDATE silver.instrument_hist SET name = 'Renamed ' || instrument_code"
                    " WHERE instrument_code LIKE 'X%%' AND sys_end = 'infinity'")  # fmt: skip
        cur.execute("SELECT count(*) FROM silver.instrument_hist WHERE instrument_code LIKE 'X%%'")
        [(versions,)] = cur.fetchall()
    raw.commit()
    raw.close()
    if versions != 2 * keys:
        raise SystemExit(f"expected {2 * keys} instrument versions, found {versions}")
    execute_autocommit(warehouse, "VACUUM ANALYZE")
    return warehouse


# What the desk runs first to tell an unknown symbol (a 404) from one without bars.
KNOWN_SQL = "SELECT 1 FROM silver.instrument_hist WHERE instrument_code = $1 LIMIT 1"


@dataclass(frozen=True)
class Case:
    """One request: its URL for a random key (wrk: a Lua expression), and the baseline."""

    name: str
    path: Callable[[random.Random], str]  # for httpx
    lua: str  # the same path, as a Lua expression wrk evaluates per request
    direct: Callable[[asyncpg.Connection, random.Random], Awaitable[None]]


def cases(keys: int, symbols: list[str]) -> list[Case]:
    day_start = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
    as_of_sql = item_statements(resource_of(InstrumentHist))[1].sql
    as_of = AS_OF.strftime("%Y-%m-%dT%H:%M:%SZ")
    lua_symbols = "{" + ", ".join(f'"{s}"' for s in symbols) + "}"
    pick = f"({lua_symbols})[math.random(1, {len(symbols)})]"

    def code(rng: random.Random) -> str:
        return f"X{rng.randint(1, keys):07d}"

    async def direct_as_of(conn: asyncpg.Connection, rng: random.Random) -> None:
        assert await conn.fetch(as_of_sql, code(rng), AS_OF)

    async def direct_latest(conn: asyncpg.Connection, rng: random.Random) -> None:
        symbol = rng.choice(symbols)
        assert await conn.fetch(KNOWN_SQL, symbol)
        assert await conn.fetch(LATEST_PRICE, symbol)

    async def direct_bars(conn: asyncpg.Connection, rng: random.Random) -> None:
        symbol = rng.choice(symbols)
        assert await conn.fetch(KNOWN_SQL, symbol)
        assert await conn.fetch(MINUTE_BARS, symbol, day_start, day_start + timedelta(days=1))

    bars_query = f"start={DAY}&end={DAY}"
    return [
        Case(
            "as-of lookup by key",
            lambda rng: f"/silver/instrument/{code(rng)}?as_of={as_of}",
            f'string.format("/silver/instrument/X%07d?as_of={as_of}", math.random(1, {keys}))',
            direct_as_of,
        ),
        Case(
            "latest price",
            lambda rng: f"/desk/prices/latest?symbol={rng.choice(symbols)}",
            f'"/desk/prices/latest?symbol=" .. {pick}',
            direct_latest,
        ),
        Case(
            "minute bars, one symbol-day",
            lambda rng: f"/desk/bars/{rng.choice(symbols)}/minute?{bars_query}",
            f'"/desk/bars/" .. {pick} .. "/minute?{bars_query}"',
            direct_bars,
        ),
    ]


@dataclass
class Run:
    """Requests answered, seconds taken, and latencies (all, or wrk's p50/p99 in s)."""

    requests: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    p50: float | None = None
    p99: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: int) -> float:
        if q == 50 and self.p50 is not None:
            return self.p50
        if q == 99 and self.p99 is not None:
            return self.p99
        values = self.latencies
        if len(values) < 2:
            return values[0]
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

    def __add__(self, other: Run) -> Run:
        def worse(a: float | None, b: float | None) -> float | None:
            return max(a, b) if a is not None and b is not None else None

        return Run(
            self.requests + other.requests, self.seconds + other.seconds,
            self.latencies + other.latencies, worse(self.p50, other.p50),
            worse(self.p99, other.p99),
        )  # fmt: skip


async def drive(workers: int, seconds: float, one: Callable[[random.Random], Awaitable[None]]):
    """``workers`` loops calling ``one`` for ``seconds``."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def loop(seed: int) -> None:
        rng = random.Random(seed)
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            await one(rng)
            latencies.append(time.perf_counter() - began)

    started = time.perf_counter()
    await asyncio.gather(*(loop(n) for n in range(workers)))
    return Run(len(latencies), time.perf_counter() - started, latencies)


WRK_SCRIPT = """math.randomseed(%(seed)d)
request = function()
  return wrk.format("GET", %(path)s)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%f %%f\\n", summary.requests, summary.duration,
    summary.errors.status + e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1e6, latency:percentile(99) / 1e6))
end
"""


def wrk_run(wrk: str, url: str, case: Case, workers: int, seconds: int, folder: Path) -> Run:
    script = folder / "case.lua"
    script.write_text(WRK_SCRIPT % {"seed": random.randrange(1 << 30), "path": case.lua})
    command = [wrk, "-t", "1", "-c", str(workers), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", str(script), url]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    requests, micros, errors, p50, p99 = line.split()[1:]
    if int(errors):
        raise SystemExit(f"{case.name}: {errors} of {requests} requests failed:\n{out}")
    return Run(int(requests), int(micros) / 1e6, p50=float(p50), p99=float(p99))


async def httpx_run(url: str, case: Case, workers: int, seconds: float) -> Run:
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def one(rng: random.Random) -> None:
            response = await client.get(case.path(rng))
            assert response.status_code == 200, response.text

        await one(random.Random(0))  # warm
        return await drive(workers, seconds, one)


# The baseline's connections: as many as one API process opens (AsyncDatabase's
# pool_size); more concurrent callers wait for one, as they do in the API. (64 backends
# on a small machine answer fewer queries a second than 16.)
DIRECT_POOL = 16


async def direct_run(role: ConnectionSettings, case: Case, workers: int, seconds: float) -> Run:
    pool = await asyncpg.create_pool(
        host=role.host, port=role.port, user=role.user, database=role.database,
        password=role.password.get_secret_value(), min_size=min(workers, DIRECT_POOL),
        max_size=min(workers, DIRECT_POOL),
    )  # fmt: skip

    async def one(rng: random.Random) -> None:
        async with pool.acquire() as conn:
            await case.direct(conn, rng)

    try:
        await one(random.Random(0))
        return await drive(workers, seconds, one)
    finally:
        await pool.close()


@dataclass
class Cell:
    case: str
    workers: int
    direct: Run
    api: dict[int, Run]  # by worker processes


def measure(
    urls: dict[int, str], role: ConnectionSettings, cases_: list[Case], levels, seconds: float
) -> list[Cell]:
    """Every case at every level: direct, then each API, then back (A B C C B A)."""
    wrk = shutil.which("wrk")
    half = max(1, round(seconds / 2))
    cells = []
    with tempfile.TemporaryDirectory() as folder:

        def api_run(url: str, case: Case, workers: int) -> Run:
            if wrk:
                return wrk_run(wrk, url, case, workers, half, Path(folder))
            return asyncio.run(httpx_run(url, case, workers, half))

        for case in cases_:
            for workers in levels:
                direct = asyncio.run(direct_run(role, case, workers, half))
                api = {n: api_run(url, case, workers) for n, url in urls.items()}
                for n, url in reversed(urls.items()):
                    api[n] = api[n] + api_run(url, case, workers)
                direct = direct + asyncio.run(direct_run(role, case, workers, half))
                cells.append(Cell(case.name, workers, direct, api))
    return cells


def report(cells: list[Cell], keys: int, seconds: float, client: str) -> None:
    print(f"\nRead API vs asyncpg direct, {seconds:.0f} s per cell and side; instrument "
          f"history {2 * keys:,} rows; load from {client}\n")  # fmt: skip
    processes = list(cells[0].api)
    header = f"{'request':<28} {'conc':>4} {'direct/s':>9} {'p99':>7}"
    for n in processes:
        label = f"{n} worker{'s' if n > 1 else ''}"
        header += f" | {label + ' /s':>13} {'ratio':>5} {'p50':>6} {'p99':>7}"
    print(header)
    print("-" * len(header))
    for cell in cells:
        line = (f"{cell.case:<28} {cell.workers:>4} {cell.direct.rate:>9,.0f} "
                f"{cell.direct.percentile(99) * 1000:>5.1f}ms")  # fmt: skip
        for n in processes:
            run = cell.api[n]
            p50, p99 = run.percentile(50) * 1000, run.percentile(99) * 1000
            line += (f" | {run.rate:>13,.0f} {run.rate / cell.direct.rate:>5.0%} "
                     f"{p50:>4.1f}ms {p99:>5.1f}ms")  # fmt: skip
        print(line)


@contextmanager
def api_servers(
    server: ConnectionSettings, passfile: Path, counts: Sequence[int]
) -> Iterator[dict[int, str]]:
    """scripts/serve.py with each worker count, on its own port; their base URLs."""
    env = {
        **os.environ,
        "PGHOST": server.host,
        "PGPORT": str(server.port),
        "PGUSER": server.user,
        "MEDALLION_API_PASSFILE": str(passfile),
    }
    if server.password is not None:
        env["PGPASSWORD"] = server.password.get_secret_value()
    processes, urls = [], {}
    try:
        for count in counts:
            port = free_port()
            command = [
                sys.executable, str(PROJECT_ROOT / "scripts" / "serve.py"), "--database",
                WAREHOUSE, "--project", "demo", "--port", str(port), "--log-level", "WARNING",
                "--workers", str(count),
            ]  # fmt: skip
            processes.append(subprocess.Popen(command, env=env))
            urls[count] = f"http://127.0.0.1:{port}"
        for process, url in zip(processes, urls.values(), strict=True):
            _wait_healthy(process, url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def _wait_healthy(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the API at {url} did not start")
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per cell and side")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--keys", type=int, default=500_000, help="instruments (2 versions each)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="API processes")
    args = parser.parse_args(argv)
    settings = load_settings()
    with server_for(settings) as server, tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        warehouse = prepare(server, Path(folder) / "landing", args.keys)
        passfile = Path(folder) / "pgpass"
        ensure_api_role(warehouse, ("silver", "gold"), passfile)
        role = api_connection(warehouse, passfile)
        print(f"warehouse ready in {time.perf_counter() - started:.0f}s")
        raw = connect_raw(warehouse)
        with raw.cursor() as cur:
            cur.execute("SELECT DISTINCT instrument_code FROM silver.minute_bar ORDER BY 1")
            symbols = [s for (s,) in cur.fetchall()]
        raw.close()
        with api_servers(server, passfile, args.workers) as urls:
            cells = measure(urls, role, cases(args.keys, symbols), args.concurrency, args.seconds)
        client = (
            "wrk" if shutil.which("wrk") else "httpx in this process (no wrk: make bench-tools)"
        )
        report(cells, args.keys, args.seconds, client)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
