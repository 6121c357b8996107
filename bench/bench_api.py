"""Benchmark the read API (issue 13): throughput and latency against asyncpg direct.

    uv run python bench/bench_api.py [--seconds 5] [--concurrency 1 16 64] [--keys 500000]

On one server (the configured one or a throw-away embedded one): the demo warehouse with
one loaded day, and an instrument history of 2 x ``--keys`` rows (every instrument
renamed once). The API runs as ``make serve`` runs it (scripts/serve.py in its own
process, as the read-only API role); the load comes from an async client (httpx) in this
process. The baseline is the same SQL each endpoint runs, through an asyncpg pool of the
same size, as the same role, in the same run. Three requests:

- as-of: one instrument as of a time between its two versions (``/silver/instrument/{code}``);
- latest price: ``/desk/prices/latest?symbol=``;
- minute bars: one symbol-day, ``/desk/bars/{symbol}/minute``.

Target: API throughput >= 50% of direct. p50 and p99 latencies are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
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
from src.demo.generator import SourceSpec, generate_day
from src.serving.db import api_connection
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
        cur.execute(f"SET {REWRITE_SETTING} = on")
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
    raw.commit()
    raw.close()
    execute_autocommit(warehouse, "VACUUM ANALYZE")
    return warehouse


# The SQL each endpoint runs (src/serving/routes.py, src/demo/api.py), for the baseline.
AS_OF_SQL = """SELECT instrument_code, name, asset_class_type_id, exchange_type_id,
    currency_type_id, sys_start, NULLIF(sys_end, 'infinity') AS sys_end
FROM silver.instrument_hist WHERE instrument_code = $1 AND sys_start <= $2 AND sys_end > $2"""
KNOWN_SQL = "SELECT 1 FROM silver.instrument_hist WHERE instrument_code = $1 LIMIT 1"
LATEST_SQL = """SELECT DISTINCT ON (instrument_code) instrument_code AS symbol,
    close::numeric AS price, bar_time AS time, 'minute_bar' AS source
FROM silver.minute_bar WHERE $1::text IS NULL OR instrument_code = $1
ORDER BY instrument_code, bar_time DESC"""
BARS_SQL = """SELECT bar_time AS time, open, high, low, close, volume, vwap
FROM silver.minute_bar WHERE instrument_code = $1 AND bar_time >= $2 AND bar_time < $3
ORDER BY bar_time"""


@dataclass(frozen=True)
class Case:
    name: str
    api: Callable[[httpx.AsyncClient, random.Random], Awaitable[None]]
    direct: Callable[[asyncpg.Connection, random.Random], Awaitable[None]]


def cases(keys: int, symbols: list[str]) -> list[Case]:
    start = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)

    def code(rng: random.Random) -> str:
        return f"X{rng.randint(1, keys):07d}"

    async def api_as_of(client: httpx.AsyncClient, rng: random.Random) -> None:
        response = await client.get(f"/silver/instrument/{code(rng)}", params={"as_of": AS_OF})
        assert response.status_code == 200, response.text

    async def direct_as_of(conn: asyncpg.Connection, rng: random.Random) -> None:
        assert await conn.fetch(AS_OF_SQL, code(rng), AS_OF)

    async def api_latest(client: httpx.AsyncClient, rng: random.Random) -> None:
        response = await client.get("/desk/prices/latest", params={"symbol": rng.choice(symbols)})
        assert response.status_code == 200, response.text

    async def direct_latest(conn: asyncpg.Connection, rng: random.Random) -> None:
        symbol = rng.choice(symbols)
        assert await conn.fetch(KNOWN_SQL, symbol)
        assert await conn.fetch(LATEST_SQL, symbol)

    async def api_bars(client: httpx.AsyncClient, rng: random.Random) -> None:
        params = {"start": DAY.isoformat(), "end": DAY.isoformat()}
        response = await client.get(f"/desk/bars/{rng.choice(symbols)}/minute", params=params)
        assert response.status_code == 200, response.text

    async def direct_bars(conn: asyncpg.Connection, rng: random.Random) -> None:
        symbol = rng.choice(symbols)
        assert await conn.fetch(KNOWN_SQL, symbol)
        assert await conn.fetch(BARS_SQL, symbol, start, start + timedelta(days=1))

    return [
        Case("as-of lookup by key", api_as_of, direct_as_of),
        Case("latest price", api_latest, direct_latest),
        Case("minute bars, one symbol-day", api_bars, direct_bars),
    ]


async def drive(workers: int, seconds: float, one: Callable[[random.Random], Awaitable[None]]):
    """``workers`` loops calling ``one`` for ``seconds``; (requests per second, latencies)."""
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
    return len(latencies) / (time.perf_counter() - started), latencies


def percentile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


async def measure_cell(url: str, role: ConnectionSettings, case: Case, workers: int, seconds):
    """One request at one concurrency: through the API, then directly."""
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def through_api(rng: random.Random) -> None:
            await case.api(client, rng)

        await through_api(random.Random(0))  # warm
        api = await drive(workers, seconds, through_api)
    pool = await asyncpg.create_pool(
        host=role.host, port=role.port, user=role.user, database=role.database,
        password=role.password.get_secret_value(), min_size=workers, max_size=workers,
    )  # fmt: skip

    async def direct(rng: random.Random) -> None:
        async with pool.acquire() as conn:
            await case.direct(conn, rng)

    try:
        await direct(random.Random(0))
        return api, await drive(workers, seconds, direct)
    finally:
        await pool.close()


async def measure(url: str, role: ConnectionSettings, cases_: list[Case], levels, seconds):
    rows = []
    for case in cases_:
        for workers in levels:
            (api_rate, api_lat), (direct_rate, direct_lat) = await measure_cell(
                url, role, case, workers, seconds
            )
            rows.append((case.name, workers, api_rate, direct_rate, api_lat, direct_lat))
    return rows


def report(rows, keys: int, seconds: float) -> None:
    print(f"\nRead API vs asyncpg direct, {seconds:.0f} s per cell; instrument history "
          f"{2 * keys:,} rows\n")  # fmt: skip
    header = (f"{'request':<30} {'conc':>4} {'API req/s':>10} {'direct/s':>10} {'ratio':>6} "
              f"{'API p50':>8} {'API p99':>8} {'direct p99':>10}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for name, workers, api_rate, direct_rate, api_lat, direct_lat in rows:
        p50, p99 = percentile(api_lat, 50) * 1000, percentile(api_lat, 99) * 1000
        direct_p99 = percentile(direct_lat, 99) * 1000
        print(f"{name:<30} {workers:>4} {api_rate:>10,.0f} {direct_rate:>10,.0f} "
              f"{api_rate / direct_rate:>6.0%} {p50:>6.1f}ms {p99:>6.1f}ms "
              f"{direct_p99:>8.1f}ms")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per request and level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--keys", type=int, default=500_000, help="instruments (2 versions each)")
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
        port = free_port()
        env = {
            **os.environ,
            "PGHOST": server.host,
            "PGPORT": str(server.port),
            "PGUSER": server.user,
            "MEDALLION_API_PASSFILE": str(passfile),
        }
        if server.password is not None:
            env["PGPASSWORD"] = server.password.get_secret_value()
        command = [
            sys.executable, str(PROJECT_ROOT / "scripts" / "serve.py"), "--database", WAREHOUSE,
            "--project", "demo", "--port", str(port), "--log-level", "WARNING",
        ]  # fmt: skip
        api = subprocess.Popen(command, env=env)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if api.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the API did not start")
                time.sleep(0.2)
            rows = asyncio.run(
                measure(url, role, cases(args.keys, symbols), args.concurrency, args.seconds)
            )
        finally:
            api.terminate()
            api.wait(timeout=30)
        report(rows, args.keys, args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
