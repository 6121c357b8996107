"""The minute price collector: each symbol's price once a minute into ``bronze.br_price``.

    stop = asyncio.Event()
    await run_collector(conn, Binance(base_url=...), ["BTCUSDT", "ETHUSDT"], stop=stop)

At the start of every UTC minute it asks the exchange for each symbol's price (all at
once), and stores one row per symbol and minute: the exact decimal price, the exchange's
clock, the source. A symbol the exchange would not price after the retries, and a minute
the collector was not running for (the machine slept, the process was stopped), are
stored as gaps: no price, and the reason. Nothing is invented. Rows are keyed by source,
symbol and minute, so running a minute twice stores it once. Setting ``stop`` (SIGTERM
and Ctrl-C do, in ``scripts/marketdata.py``) ends the loop after the minute in hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx

from src.config import ConnectionSettings
from src.marketdata.fetch import RetryPolicy, afetch_price
from src.marketdata.metrics import MarketMetrics
from src.marketdata.providers.base import FetchError, Terminal
from src.marketdata.providers.binance import Binance
from src.utils.async_db import CONNECTION_LOST, asyncpg_arguments
from src.utils.errors import ConfigError

log = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)
# The database is away: the rows wait for the next minute, on a new connection.
AWAY = (*CONNECTION_LOST, asyncpg.InterfaceError, OSError, TimeoutError)
INSERT = """
INSERT INTO bronze.br_price (source, symbol, minute, price, exchange_time, loaded_at,
                             gap_reason, effective_time)
SELECT source, symbol, minute, price, exchange_time, clock_timestamp(), gap_reason, minute
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::numeric[], $5::timestamptz[],
            $6::text[]) AS r(source, symbol, minute, price, exchange_time, gap_reason)
ON CONFLICT (source, symbol, minute) DO NOTHING
RETURNING 1
"""


SYMBOL = re.compile(r"^[A-Z0-9]{2,20}$")


def parse_symbols(text: str, what: str = "--symbols") -> list[str]:
    """``"btcusdt, ETHUSDT"`` → ``["BTCUSDT", "ETHUSDT"]``; a bad list names ``what``."""
    symbols = [s.strip().upper() for s in text.split(",") if s.strip()]
    bad = [s for s in symbols if not SYMBOL.match(s)]
    if not symbols or bad:
        raise ConfigError(
            f"{what} {text!r}: give exchange symbols separated by commas, e.g. "
            f"BTCUSDT,ETHUSDT{' (not ' + ', '.join(bad) + ')' if bad else ''}."
        )
    return list(dict.fromkeys(symbols))


@dataclass(frozen=True)
class PriceRow:
    source: str
    symbol: str
    minute: datetime
    price: Decimal | None
    exchange_time: datetime | None
    gap_reason: str | None = None


@dataclass
class Collected:
    minutes: int = 0
    prices: int = 0
    gaps: int = 0
    stored: int = 0  # rows new to the table (a minute run twice stores once)


def floor_minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


async def collect_minute(
    client: httpx.AsyncClient,
    provider: Binance,
    symbols: Sequence[str],
    minute: datetime,
    *,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    metrics: MarketMetrics | None = None,
) -> tuple[list[PriceRow], list[Terminal]]:
    """Every symbol's price for ``minute``, asked at once: a gap for each whose failure
    outlasted the retries; a symbol that cannot be priced at all (a :class:`Terminal`
    failure: unknown symbol, a ban) gets no row and comes back in the second list."""

    async def one(symbol: str) -> PriceRow | Terminal:
        try:
            price, at = await afetch_price(
                client, provider, symbol, policy=policy, sleep=sleep, metrics=metrics
            )
        except Terminal as exc:
            return exc
        except FetchError as exc:
            log.warning("%s %s at %s: no price (%s)", provider.name, symbol, minute, exc)
            return PriceRow(provider.name, symbol, minute, None, None, str(exc)[:500])
        return PriceRow(provider.name, symbol, minute, price, at)

    answers = await asyncio.gather(*(one(symbol) for symbol in symbols))
    rows = [a for a in answers if isinstance(a, PriceRow)]
    return rows, [a for a in answers if isinstance(a, Terminal)]


async def store(connection: asyncpg.Connection, rows: Sequence[PriceRow]) -> int:
    """Insert ``rows`` (a minute already stored is left as it is); how many were new."""
    columns = zip(*((r.source, r.symbol, r.minute, r.price, r.exchange_time, r.gap_reason)
                    for r in rows), strict=True)  # fmt: skip
    return len(await connection.fetch(INSERT, *(list(c) for c in columns))) if rows else 0


def _missed(provider: str, symbols: Sequence[str], after: datetime, until: datetime) -> list:
    minute, rows = after + MINUTE, []
    while minute < until:
        reason = "the collector was not running at this minute"
        rows += [PriceRow(provider, s, minute, None, None, reason) for s in symbols]
        minute += MINUTE
    return rows


async def _wait(seconds: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))


async def run_collector(
    conn: ConnectionSettings,
    provider: Binance,
    symbols: Sequence[str],
    *,
    stop: asyncio.Event,
    minutes: int | None = None,
    policy: RetryPolicy = RetryPolicy(attempts=3, base=1.0, cap=10.0),
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    wait: Callable[[float, asyncio.Event], Awaitable[None]] = _wait,
    timeout: float = 10.0,
    metrics: MarketMetrics | None = None,
) -> Collected:
    """Collect until ``stop`` is set (or for ``minutes`` minutes); what was stored. A
    symbol with a terminal failure is dropped, logged; when none is left, the
    :class:`Terminal` failure is raised."""
    done = Collected()
    active = list(symbols)
    connection: asyncpg.Connection | None = await _connect(conn)
    pending: list[PriceRow] = []  # collected, not yet stored (the database was away)
    last: datetime | None = None
    try:
        async with httpx.AsyncClient(base_url=provider.base_url, timeout=timeout) as client:
            while not stop.is_set() and (minutes is None or done.minutes < minutes):
                minute = floor_minute(now())
                if last is None or minute > last:
                    rows = _missed(provider.name, active, last, minute) if last else []
                    found, failed = await collect_minute(
                        client, provider, active, minute, policy=policy, metrics=metrics
                    )
                    rows += found
                    for failure in failed:
                        log.error("%s; no longer collected", failure)
                    stopped = {f.symbol for f in failed}
                    active = [symbol for symbol in active if symbol not in stopped]
                    pending += rows
                    try:
                        connection = connection or await _connect(conn)
                        done.stored += await store(connection, pending)
                        pending = []
                    except AWAY as exc:
                        log.warning("%d rows kept to store next minute: the database is "
                                    "away (%s)", len(pending), exc)  # fmt: skip
                        connection = await _close(connection)
                    if metrics is not None:
                        for row in rows:
                            counter = metrics.prices if row.price is not None else metrics.gaps
                            counter.labels(row.source, row.symbol).inc()
                    done.minutes += 1
                    done.prices += sum(r.price is not None for r in rows)
                    gaps = [r for r in rows if r.price is None]
                    done.gaps += len(gaps)
                    log.info("%s: %d prices, %d gaps", minute.strftime("%Y-%m-%d %H:%M"),
                             len(rows) - len(gaps), len(gaps))  # fmt: skip
                    last = minute
                    if not active:
                        raise failed[0]
                await wait((minute + MINUTE - now()).total_seconds(), stop)
    finally:
        await _close(connection)
    if pending:
        log.error("%d collected rows were never stored: the database stayed away", len(pending))
    return done


async def _connect(conn: ConnectionSettings) -> asyncpg.Connection:
    return await asyncpg.connect(
        **asyncpg_arguments(conn), server_settings={"application_name": "medallion-collector"}
    )


async def _close(connection: asyncpg.Connection | None) -> None:
    """Close ``connection`` (a broken one is dropped); returns None, the state after."""
    if connection is None:
        return
    try:
        await connection.close(timeout=5)
    except AWAY:
        connection.terminate()


async def collect_once(
    conn: ConnectionSettings,
    provider: Binance,
    symbols: Sequence[str],
    minute: datetime,
    *,
    late_by: float,
    grace: float = 60.0,
    policy: RetryPolicy = RetryPolicy(attempts=3, base=1.0, cap=10.0),
) -> Collected:
    """Price ``minute`` once (a scheduled run's): asked ``late_by`` seconds after it
    began, more than ``grace`` late, the exchange's current price is not that minute's,
    so the minute is stored as a gap. Raises the :class:`Terminal` failure when no
    symbol can be priced at all."""
    minute = floor_minute(minute)
    if late_by > grace:
        reason = f"the run started {late_by:.0f} s after its minute began"
        rows, failed = [PriceRow(provider.name, s, minute, None, None, reason) for s in symbols], []
    else:
        async with httpx.AsyncClient(base_url=provider.base_url, timeout=10.0) as client:
            rows, failed = await collect_minute(client, provider, symbols, minute, policy=policy)
    for failure in failed:
        log.error("%s", failure)
    if failed and not rows:
        raise failed[0]
    connection = await _connect(conn)
    try:
        stored = await store(connection, rows)
    finally:
        await connection.close()
    prices = sum(r.price is not None for r in rows)
    return Collected(minutes=1, prices=prices, gaps=len(rows) - prices, stored=stored)


STATUS = """
SELECT source, symbol, max(minute) FILTER (WHERE price IS NOT NULL) AS last_priced,
       (array_agg(price ORDER BY minute DESC) FILTER (WHERE price IS NOT NULL))[1] AS price,
       count(*) FILTER (WHERE recent AND price IS NOT NULL) AS prices,
       count(*) FILTER (WHERE recent AND price IS NULL) AS gaps
FROM (SELECT *, minute > $1::timestamptz - interval '1 day' AS recent FROM bronze.br_price) p
GROUP BY 1, 2 ORDER BY 1, 2
"""


@dataclass(frozen=True)
class SymbolStatus:
    source: str
    symbol: str
    last_priced: datetime | None
    price: Decimal | None
    prices: int  # in the 24 hours before the status was read
    gaps: int


async def collector_status(conn: ConnectionSettings, at: datetime) -> list[SymbolStatus]:
    """Per source and symbol: the last priced minute and its price, and the last 24 hours'
    prices and gaps."""
    connection = await _connect(conn)
    try:
        if await connection.fetchval("SELECT to_regclass('bronze.br_price')") is None:
            return []
        return [SymbolStatus(**dict(row)) for row in await connection.fetch(STATUS, at)]
    finally:
        await connection.close()
