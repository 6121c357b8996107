"""Ingestion state in the warehouse: where each provider, symbol, trading day and
timeframe stands, and the bars that were quarantined.

``medallion.marketdata_ingest`` has one row per (provider, symbol, trading_date,
timeframe): the last bar landed, counts, gaps, and ``status`` (``partial`` while the day
is being landed or has not ended yet, ``done`` when its file is complete).
``medallion.marketdata_reject`` keeps every bar that failed validation, with its rule.
A day's checkpoint and its rejects are written in one transaction, after its file.

While a worker lands a day it holds a session advisory lock on the day's key, so two
ingests of the same symbol and day (two processes, two machines) never land it twice:
the second waits, then finds the day done.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from src.marketdata.validate import Rejected

STATE = "medallion.marketdata_ingest"
REJECTS = "medallion.marketdata_reject"
DDL = f"""
CREATE SCHEMA IF NOT EXISTS medallion;
CREATE TABLE IF NOT EXISTS {STATE} (
    provider text NOT NULL,
    symbol text NOT NULL,
    trading_date date NOT NULL,
    timeframe text NOT NULL,
    status text NOT NULL CHECK (status IN ('partial', 'done')),
    last_bar timestamptz,
    bars integer NOT NULL DEFAULT 0,
    rejected integer NOT NULL DEFAULT 0,
    gaps jsonb NOT NULL DEFAULT '[]',
    landed_file text,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (provider, symbol, trading_date, timeframe)
);
COMMENT ON TABLE {STATE} IS
'Market-data ingestion checkpoints: the last bar landed per provider, symbol, day, timeframe';
CREATE TABLE IF NOT EXISTS {REJECTS} (
    provider text NOT NULL,
    symbol text NOT NULL,
    timeframe text NOT NULL,
    bar_time timestamptz NOT NULL,
    rule text NOT NULL,
    detail text NOT NULL,
    bar jsonb NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (provider, symbol, timeframe, bar_time, rule)
);
COMMENT ON TABLE {REJECTS} IS
'Bars that failed market-data validation, with the rule they broke; never landed';
"""
READ = f"""SELECT status, last_bar, bars FROM {STATE}
WHERE provider = $1 AND symbol = $2 AND trading_date = $3 AND timeframe = $4"""
SAVE = f"""
INSERT INTO {STATE} AS s (provider, symbol, trading_date, timeframe, status, last_bar, bars,
                          rejected, gaps, landed_file)
VALUES ($1, $2, $3, $4, $5, $6, $7,
        (SELECT count(*) FROM {REJECTS} r
         WHERE r.provider = $1 AND r.symbol = $2 AND r.timeframe = $4
           AND r.bar_time >= $3::date::timestamp AT TIME ZONE 'UTC'
           AND r.bar_time < ($3::date + 1)::timestamp AT TIME ZONE 'UTC'),
        $8::jsonb, $9)
ON CONFLICT (provider, symbol, trading_date, timeframe) DO UPDATE
SET status = excluded.status, last_bar = excluded.last_bar, bars = excluded.bars,
    rejected = excluded.rejected, gaps = excluded.gaps, landed_file = excluded.landed_file,
    updated_at = clock_timestamp()
"""
REJECT = f"""
INSERT INTO {REJECTS} (provider, symbol, timeframe, bar_time, rule, detail, bar)
SELECT $1, $2, $3, t, r, d, b::jsonb FROM unnest($4::timestamptz[], $5::text[], $6::text[],
                                                 $7::text[]) AS x(t, r, d, b)
ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True)
class DayKey:
    provider: str
    symbol: str
    day: date
    timeframe: str

    @property
    def lock_name(self) -> str:
        return f"marketdata:{self.provider}:{self.symbol}:{self.day}:{self.timeframe}"

    def args(self) -> tuple[str, str, date, str]:
        return self.provider, self.symbol, self.day, self.timeframe

    def __str__(self) -> str:
        return f"{self.provider} {self.symbol} {self.day} ({self.timeframe})"


@dataclass(frozen=True)
class Checkpoint:
    status: str  # partial or done
    last_bar: datetime | None
    bars: int = 0


async def ensure_tables(connection: asyncpg.Connection) -> None:
    """Create the state tables if missing (serialised: two ingests may start at once)."""
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext('marketdata:ddl'))")
        await connection.execute(DDL)


async def lock_day(connection: asyncpg.Connection, key: DayKey) -> None:
    """Wait for the day's session lock (another ingest may be landing it)."""
    await connection.execute("SELECT pg_advisory_lock(hashtext($1))", key.lock_name)


async def unlock_day(connection: asyncpg.Connection, key: DayKey) -> None:
    await connection.execute("SELECT pg_advisory_unlock(hashtext($1))", key.lock_name)


async def read_checkpoint(connection: asyncpg.Connection, key: DayKey) -> Checkpoint | None:
    row = await connection.fetchrow(READ, *key.args())
    return Checkpoint(**dict(row)) if row else None


async def save_checkpoint(
    connection: asyncpg.Connection,
    key: DayKey,
    checkpoint: Checkpoint,
    *,
    rejects: list[Rejected],
    gaps: list[tuple[datetime, datetime]],
    landed_file: str,
) -> None:
    """The page's rejects and the day's new checkpoint, in one transaction (the
    row's ``rejected`` is counted from the quarantine, so a page fetched again
    after a crash is not counted twice)."""
    spans = json.dumps([[first.isoformat(), last.isoformat()] for first, last in gaps])
    async with connection.transaction():
        if rejects:
            columns = list(zip(*(_reject_row(r) for r in rejects), strict=True))
            await connection.execute(REJECT, key.provider, key.symbol, key.timeframe, *columns)
        await connection.execute(
            SAVE, *key.args(), checkpoint.status, checkpoint.last_bar, checkpoint.bars, spans,
            landed_file,
        )  # fmt: skip


def _reject_row(reject: Rejected) -> tuple[datetime, str, str, str]:
    bar = reject.bar
    fields = {name: getattr(bar, name) for name in ("open", "high", "low", "close", "volume",
                                                    "trade_count", "vwap")}  # fmt: skip
    text = {k: (None if v is None else str(v)) for k, v in fields.items()}
    return bar.time, reject.rule, reject.detail, json.dumps(text)


STATUS = f"""
SELECT provider, symbol, timeframe,
       count(*) FILTER (WHERE status = 'done') AS done,
       count(*) FILTER (WHERE status = 'partial') AS partial,
       min(trading_date) AS first_day, max(trading_date) AS last_day,
       max(last_bar) AS last_bar, sum(bars)::bigint AS bars, sum(rejected)::bigint AS rejected,
       sum(jsonb_array_length(gaps))::bigint AS gaps
FROM {STATE} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""


@dataclass(frozen=True)
class SymbolIngested:
    provider: str
    symbol: str
    timeframe: str
    done: int  # days complete
    partial: int  # days begun (interrupted, or not ended yet)
    first_day: date
    last_day: date
    last_bar: datetime | None
    bars: int
    rejected: int
    gaps: int


async def ingest_status(connection: asyncpg.Connection) -> list[SymbolIngested]:
    """Per provider, symbol and timeframe: the days landed and what they hold (nothing
    when no ingest ever ran against this database)."""
    if await connection.fetchval("SELECT to_regclass($1)", STATE) is None:
        return []
    return [SymbolIngested(**dict(row)) for row in await connection.fetch(STATUS)]
