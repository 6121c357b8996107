"""Ingest a provider's bars into the landing zone, a symbol-day at a time, resumably.

    plan = IngestPlan(("BTCUSDT", "ETHUSDT"), date(2021, 10, 22), date(2021, 10, 23))
    report = await ingest(conn, Binance(base_url=...), plan, landing_dir)

The work is split into symbol-days (UTC days), shared by ``plan.workers`` workers. A
worker takes the day's lock (:mod:`src.marketdata.state`), reads its checkpoint, and
asks the provider for the bars after the last one landed. Each page is validated on its
Arrow columns (:func:`src.marketdata.validate.check_frame`): good bars are added to the
day's hidden partial file (rewritten atomically), bad ones quarantined with their rule, then the
checkpoint records the last bar, in that order. A run killed at any point resumes from
its checkpoint: bars the file holds beyond it are dropped and fetched again, so none is
duplicated or skipped. When the day has ended, its file takes its real name, its gaps are
recorded, and it is ``done``: a later run does not ask for it again. A day that has not
ended (today) lands its closed bars and stays ``partial``.

A provider's terminal failure (a bad symbol, bad keys, a ban) stops that symbol's days,
each reported with the message; the other symbols go on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pyarrow as pa
import pyarrow.compute as pc

from src.config import ConnectionSettings
from src.marketdata import landing, state
from src.marketdata.bars import UTC_US, Timeframe, bars_of
from src.marketdata.fetch import Gate, RetryPolicy, afetch_pages
from src.marketdata.metrics import MarketMetrics
from src.marketdata.providers.base import FetchError, Provider, Query, Terminal
from src.marketdata.validate import Rejected, check_frame, gaps_of
from src.utils.async_db import asyncpg_arguments

log = logging.getLogger(__name__)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class IngestPlan:
    """Bars of ``symbols`` over the UTC days ``first`` to ``last`` (both included)."""

    symbols: tuple[str, ...]
    first: date
    last: date
    timeframe: Timeframe = Timeframe.M1
    workers: int = 4
    compression: str = "zstd"

    def keys(self, provider: str) -> list[state.DayKey]:
        days = [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]
        return [state.DayKey(provider, s, d, self.timeframe.value)
                for d in days for s in self.symbols]  # fmt: skip


@dataclass
class DayResult:
    key: state.DayKey
    outcome: str  # done, partial, skipped (done before), failed
    landed: int = 0  # bars landed by this run
    rejected: int = 0  # bars quarantined by this run
    gaps: int = 0  # missing bars in the day (once done)
    error: str | None = None


@dataclass
class IngestReport:
    days: list[DayResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(d.outcome == outcome for d in self.days)

    @property
    def landed(self) -> int:
        return sum(d.landed for d in self.days)

    @property
    def rejected(self) -> int:
        return sum(d.rejected for d in self.days)

    @property
    def failed(self) -> list[DayResult]:
        return [d for d in self.days if d.outcome == "failed"]


@dataclass
class _Run:
    """What every worker of one ingest shares."""

    provider: Provider
    plan: IngestPlan
    landing_dir: Path
    client: httpx.AsyncClient
    policy: RetryPolicy
    gate: Gate
    metrics: MarketMetrics | None
    now: Callable[[], datetime]
    stopped: dict[str, str] = field(default_factory=dict)  # symbol -> terminal failure


async def ingest(
    conn: ConnectionSettings,
    provider: Provider,
    plan: IngestPlan,
    landing_dir: Path,
    *,
    policy: RetryPolicy = RetryPolicy(),
    metrics: MarketMetrics | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    timeout: float = 30.0,
) -> IngestReport:
    """Land every symbol-day of ``plan``; what happened to each."""
    started = time.perf_counter()
    keys = plan.keys(provider.name)
    for day in sorted({key.day for key in keys}):  # what bronze waits for, day by day
        landing.expect_symbols(landing_dir, day, plan.symbols, plan.timeframe.value)
    queue: asyncio.Queue[state.DayKey] = asyncio.Queue()
    for key in keys:
        queue.put_nowait(key)
    _count_backlog(metrics, keys)
    report = IngestReport()
    pool = await asyncpg.create_pool(
        **asyncpg_arguments(conn), min_size=1, max_size=plan.workers,
        server_settings={"application_name": "medallion-ingest"},
    )  # fmt: skip
    try:
        async with pool.acquire() as connection:
            await state.ensure_tables(connection)
        limits = httpx.Limits(max_connections=plan.workers * 2)
        async with httpx.AsyncClient(base_url=provider.base_url, timeout=timeout, limits=limits,
                                     transport=provider.transport()) as client:  # fmt: skip
            run = _Run(provider, plan, landing_dir, client, policy, Gate(), metrics, now)
            workers = [_work(run, pool, queue, report) for _ in range(plan.workers)]
            await asyncio.gather(*workers)
    finally:
        await pool.close()
    report.days.sort(key=lambda d: (d.key.day, d.key.symbol))
    report.seconds = time.perf_counter() - started
    return report


def _count_backlog(metrics: MarketMetrics | None, keys: list[state.DayKey]) -> None:
    if metrics is not None:
        for key in keys:
            metrics.backlog.labels(key.provider, key.symbol).inc()


async def _work(
    run: _Run, pool: asyncpg.Pool, queue: asyncio.Queue[state.DayKey], report: IngestReport
) -> None:
    while not queue.empty():
        key = queue.get_nowait()
        async with pool.acquire() as connection:
            result = await _land_or_report(run, connection, key)
        report.days.append(result)
        if run.metrics is not None:
            run.metrics.backlog.labels(key.provider, key.symbol).dec()


async def _land_or_report(
    run: _Run, connection: asyncpg.Connection, key: state.DayKey
) -> DayResult:
    if key.symbol in run.stopped:
        return DayResult(key, "failed", error=run.stopped[key.symbol])
    result = DayResult(key, "partial")
    try:
        return await land_day(run, connection, key, result)
    except (FetchError, landing.LandingError) as exc:
        result.outcome, result.error = "failed", str(exc)
        if isinstance(exc, Terminal):
            run.stopped.setdefault(key.symbol, str(exc))
            log.error("%s: %s; the symbol's other days are skipped", key, exc)
        else:
            log.error("%s: %s; run again to resume the day", key, exc)
        return result


async def land_day(
    run: _Run, connection: asyncpg.Connection, key: state.DayKey, result: DayResult
) -> DayResult:
    """Land one symbol-day from its checkpoint on (under the day's lock), counting into
    ``result`` as pages land (a failure leaves what was landed counted)."""
    await state.lock_day(connection, key)
    try:
        return await _land_locked(run, connection, key, result)
    finally:
        await state.unlock_day(connection, key)


async def _land_locked(
    run: _Run, connection: asyncpg.Connection, key: state.DayKey, result: DayResult
) -> DayResult:
    checkpoint = await state.read_checkpoint(connection, key)
    if checkpoint is not None and checkpoint.status == "done":
        result.outcome = "skipped"
        return result
    step = run.plan.timeframe.length
    final = landing.bar_file(run.landing_dir, key.symbol, key.day, key.timeframe)
    partial = landing.partial_file(final)
    day_start = datetime(key.day.year, key.day.month, key.day.day, tzinfo=UTC)
    now = run.now()
    end = min(day_start + DAY, _floor(now, step))
    landed = _resume(checkpoint, partial, final, key)
    last = checkpoint.last_bar if checkpoint and landed.num_rows else None
    start = last + step if last else day_start
    if start < end:
        query = Query((key.symbol,), start, end, run.plan.timeframe)
        async for page in afetch_pages(run.client, run.provider, query, policy=run.policy,
                                       gate=run.gate, metrics=run.metrics):  # fmt: skip
            good, rejects = _check_page(page.frame, last, run.plan.timeframe, now)
            if good.num_rows:
                landed = landing.concat([landed, landing.to_landing(good)])
                last = good["time"][-1].as_py()
                await asyncio.to_thread(landing.write_atomic, landed, partial,
                                        run.plan.compression)  # fmt: skip
            result.landed += good.num_rows
            result.rejected += len(rejects)
            await state.save_checkpoint(
                connection, key, state.Checkpoint("partial", last, landed.num_rows),
                rejects=rejects, gaps=[], landed_file=str(partial),
            )  # fmt: skip
            _count_page(run.metrics, key, good, rejects)
    if day_start + DAY <= now:
        result.outcome, result.gaps = "done", await _finish(run, connection, key, landed)
    return result


async def _finish(
    run: _Run, connection: asyncpg.Connection, key: state.DayKey, landed: pa.Table
) -> int:
    """Give the day's file its real name and mark the day done; the number of gaps."""
    final = landing.bar_file(run.landing_dir, key.symbol, key.day, key.timeframe)
    partial = landing.partial_file(final)
    if partial.exists():
        partial.replace(final)
    elif landed.num_rows and not final.exists():
        await asyncio.to_thread(landing.write_atomic, landed, final, run.plan.compression)
    micros = landed.column("timestamp").cast(pa.int64()).to_numpy()
    gaps = gaps_of(micros, run.plan.timeframe.length)
    last = landed.column("timestamp")[-1].as_py() if landed.num_rows else None
    await state.save_checkpoint(
        connection, key, state.Checkpoint("done", last, landed.num_rows),
        rejects=[], gaps=gaps, landed_file=str(final) if landed.num_rows else "",
    )  # fmt: skip
    if gaps:
        log.info("%s: %d gap(s), the first %s-%s", key, len(gaps), *gaps[0])
    return len(gaps)


def _resume(
    checkpoint: state.Checkpoint | None, partial: Path, final: Path, key: state.DayKey
) -> pa.Table:
    """The day's bars up to its checkpoint, from the partial file (or the final one, when
    a run stopped between renaming it and recording that); empty to start afresh."""
    if checkpoint is None or checkpoint.last_bar is None:
        return landing.concat([])
    table = landing.read_landed(partial)
    if table is None:
        table = landing.read_landed(final)
    kept = landing.up_to(table, checkpoint.last_bar) if table is not None else None
    if kept is None or kept.num_rows != checkpoint.bars:
        log.warning("%s: the landed file does not hold the %d bars its checkpoint records; "
                    "landing the day again from its start", key, checkpoint.bars)  # fmt: skip
        return landing.concat([])
    return kept


def _check_page(
    frame: pa.Table, last: datetime | None, timeframe: Timeframe, now: datetime
) -> tuple[pa.Table, list[Rejected]]:
    """A page's bars sorted into good (a frame) and rejected; a bar at or before the last
    one landed (a vendor's overlapping page) is a duplicate."""
    checked = check_frame(frame, timeframe, now)
    good, rejects = checked.good, list(checked.rejected)
    if last is not None and good.num_rows:
        again = pc.less_equal(good["time"], pa.scalar(last, UTC_US))
        for bar in bars_of(good.filter(again)):
            rejects.append(Rejected(bar, "duplicate", f"{bar.time.isoformat()} was landed"))
        good = good.filter(pc.invert(again))
    return good, rejects


def _count_page(
    metrics: MarketMetrics | None, key: state.DayKey, good: pa.Table, rejects: list[Rejected]
) -> None:
    if metrics is None:
        return
    metrics.landed.labels(key.provider, key.symbol).inc(good.num_rows)
    for reject in rejects:
        metrics.rejected.labels(key.provider, key.symbol, reject.rule).inc()


def _floor(moment: datetime, step: timedelta) -> datetime:
    seconds = step.total_seconds()
    return datetime.fromtimestamp(moment.timestamp() // seconds * seconds, tz=UTC)


async def ingested(conn: ConnectionSettings) -> list[state.SymbolIngested]:
    """What the ingests landed in ``conn``'s database, per provider, symbol, timeframe."""
    connection = await asyncpg.connect(**asyncpg_arguments(conn))
    try:
        return await state.ingest_status(connection)
    finally:
        await connection.close()
