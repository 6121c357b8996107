"""A deterministic generator of the demo's two source systems for one trading day.

* The operational database (schema ``ops``): the instrument and portfolio masters as they
  stand at the end of the day, and the day's trade lifecycle events.
* The landing zone: one Parquet file of 1-minute bars per listed instrument and day
  (see :mod:`src.demo.generator_bars`).

A day is a pure function of (seed, logical date): every draw comes from
``numpy.random.default_rng([seed, date.toordinal(), stream])``, so generating a day twice
gives the same rows, whichever other days were generated before. Each kind of bad record
(:data:`ANOMALY_KINDS`) is injected on purpose and counted in :class:`GeneratedDay`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg2.extensions import cursor

from src.config import ConnectionSettings
from src.demo.generator_bars import (
    BAR_ANOMALIES,
    at_18_utc,
    bar_file,
    instrument_master,
    listed_indices,
    minute_bars,
    rng_for,
    universe,
    write_bar_files,
)
from src.demo.generator_trades import EVENT_ANOMALIES, day_events, events_table
from src.utils.connections import connect_raw
from src.utils.errors import MedallionError

__all__ = [
    "ANOMALY_KINDS",
    "GeneratedDay",
    "InvalidSourceSpec",
    "SourceSpec",
    "bar_file",
    "create_source_schema",
    "generate_day",
    "instrument_codes",
]

log = logging.getLogger(__name__)

ANOMALY_KINDS = ("instrument_unknown_reference", *EVENT_ANOMALIES, "late_event", *BAR_ANOMALIES)
CURRENCIES = ("USD", "EUR", "GBP")
FIRST_NAMES = ("Ada", "Ben", "Cleo", "Dev", "Eva", "Finn", "Gia", "Hugo", "Ines", "Jon")
LAST_NAMES = ("Kim", "Ruiz", "Okafor", "Novak", "Berg", "Silva", "Tanaka", "Weber", "Rossi", "Haas")
MANAGERS = tuple(f"{first} {last}" for first, last in zip(FIRST_NAMES, LAST_NAMES, strict=True))
REGIONS = ("Global", "US", "Europe", "Asia", "Emerging")
STYLES = ("Growth", "Value", "Income", "Momentum", "Macro", "Balanced")
S_PORTFOLIOS = 10  # rng stream id (generator_trades uses 11-13)
RATES = ("bad_rate", "duplicate_rate", "late_rate", "bar_gap_rate", "bad_bar_rate")
LIMITS = {
    "seed": (0, 2**31 - 1),
    "instruments": (1, 10_000),
    "portfolios": (1, 9_999),
    "trades": (1, 9_999_999),
}
SCHEMA_DDL = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.instrument (
    instrument_code text PRIMARY KEY, name text, asset_class text, exchange_mic text,
    currency text, updated_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS ops.portfolio (
    portfolio_code text PRIMARY KEY, name text, base_currency text, manager text,
    updated_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS ops.trade_event (
    row_id bigserial PRIMARY KEY, event_id text, trade_id text, portfolio_code text,
    instrument_code text, action text, status text, quantity numeric(18, 4),
    filled_quantity numeric(18, 4), price numeric(18, 6), event_time timestamptz,
    recorded_date date NOT NULL);
CREATE INDEX IF NOT EXISTS trade_event_recorded_date_idx ON ops.trade_event (recorded_date);
CREATE TABLE IF NOT EXISTS ops.generated_day (
    logical_date date PRIMARY KEY, seed int, instruments int, portfolios int, trades int,
    trade_events int, bars int, generated_at timestamptz);
"""
RECORD_RUN = """
INSERT INTO ops.generated_day
    (logical_date, seed, instruments, portfolios, trades, trade_events, bars, generated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, now())
ON CONFLICT (logical_date) DO UPDATE SET
    seed = EXCLUDED.seed, instruments = EXCLUDED.instruments,
    portfolios = EXCLUDED.portfolios, trades = EXCLUDED.trades,
    trade_events = EXCLUDED.trade_events, bars = EXCLUDED.bars,
    generated_at = EXCLUDED.generated_at
"""


class InvalidSourceSpec(MedallionError):
    """A :class:`SourceSpec` value is out of range."""


@dataclass(frozen=True)
class SourceSpec:
    """Sizes and anomaly rates of the generated source systems (rates are per kind)."""

    seed: int = 42
    instruments: int = 50
    portfolios: int = 20
    trades: int = 10_000  # new trades per day (each has 1-3 lifecycle events)
    bad_rate: float = 0.002  # share of events per kind of bad record
    duplicate_rate: float = 0.005
    late_rate: float = 0.02  # share of the previous day's FILLED trades amended late
    bar_gap_rate: float = 0.01  # share of minute bars missing
    bad_bar_rate: float = 0.002  # share of bars breaking an OHLC rule (per kind)

    def __post_init__(self) -> None:
        for name, (low, high) in LIMITS.items():
            if not low <= getattr(self, name) <= high:
                raise InvalidSourceSpec(
                    f"SourceSpec.{name}={getattr(self, name)!r} is out of range: "
                    f"allowed {low}..{high}. Pass a value in that range."
                )
        for name in RATES:
            if not 0.0 <= getattr(self, name) <= 0.3:
                raise InvalidSourceSpec(
                    f"SourceSpec.{name}={getattr(self, name)!r} is out of range: allowed "
                    "0.0..0.3 (a share of the clean rows). Pass a smaller share."
                )


@dataclass(frozen=True)
class GeneratedDay:
    """What :func:`generate_day` wrote: row counts, anomalies injected per kind, time taken."""

    logical_date: date
    instruments: int
    portfolios: int
    trade_events: int
    bars: int
    bar_files: int
    anomalies: dict[str, int]
    seconds: float


def instrument_codes(spec: SourceSpec, logical_date: date) -> list[str]:
    """The codes of the instruments listed on ``logical_date``, sorted."""
    return sorted(universe(spec.seed, spec.instruments).codes[listed_indices(spec, logical_date)])


def create_source_schema(conn: ConnectionSettings) -> None:
    """Create the ``ops`` schema and its tables in ``conn.database`` if they are missing."""
    raw = connect_raw(conn)
    try:
        with raw, raw.cursor() as cur:
            cur.execute(SCHEMA_DDL)
    finally:
        raw.close()


def generate_day(
    conn: ConnectionSettings,
    landing_dir: Path,
    logical_date: date,
    spec: SourceSpec = SourceSpec(),
) -> GeneratedDay:
    """Write one day of both source systems; running it again for the day gives the same rows."""
    started = time.perf_counter()
    create_source_schema(conn)
    instruments, bad_reference = instrument_master(spec, logical_date)
    portfolios = portfolio_master(spec, logical_date)
    events, anomalies = day_events(spec, logical_date)
    bars = minute_bars(spec, logical_date)
    files = write_bar_files(landing_dir, logical_date, bars)
    table = events_table(events, spec, logical_date)
    _load(conn, logical_date, spec, [instruments, portfolios, table], bars.count)
    day = GeneratedDay(
        logical_date=logical_date,
        instruments=instruments.num_rows,
        portfolios=portfolios.num_rows,
        trade_events=table.num_rows,
        bars=bars.count,
        bar_files=len(files),
        anomalies={"instrument_unknown_reference": bad_reference, **anomalies, **bars.anomalies},
        seconds=time.perf_counter() - started,
    )
    log.info(
        "generated %s: %d trade events, %d bars in %d files, %.1f s",
        logical_date,
        day.trade_events,
        day.bars,
        day.bar_files,
        day.seconds,
    )
    return day


def portfolio_master(spec: SourceSpec, day: date) -> pa.Table:
    """The portfolio master at the end of ``day``: managers change every ~20 days (~5%)."""
    rng, n = rng_for(spec.seed, 0, S_PORTFOLIOS), spec.portfolios
    currency = rng.choice(len(CURRENCIES), n, p=[0.5, 0.3, 0.2])
    region, style = rng.integers(0, len(REGIONS), n), rng.integers(0, len(STYLES), n)
    period, offset = rng.integers(10, 31, n), rng.integers(0, 1000, n)
    first, step = rng.integers(0, len(MANAGERS), n), rng.integers(1, len(MANAGERS), n)
    version = (day.toordinal() + offset) // period
    manager = (first + version * step) % len(MANAGERS)  # step % len != 0: always a change
    codes = range(1, n + 1)
    return pa.table(
        {
            "portfolio_code": [f"PF{i:04d}" for i in codes],
            "name": [
                f"{REGIONS[r]} {STYLES[s]} {i}"
                for i, r, s in zip(codes, region, style, strict=True)
            ],
            "base_currency": [CURRENCIES[c] for c in currency],
            "manager": [MANAGERS[m] for m in manager],
            "updated_at": at_18_utc(version * period - offset),
        }
    )


def _load(
    conn: ConnectionSettings, day: date, spec: SourceSpec, tables: list[pa.Table], bars: int
) -> None:
    """Replace the masters and the day's events, and record the run: one transaction."""
    instruments, portfolios, events = tables
    raw = connect_raw(conn)
    try:
        with raw, raw.cursor() as cur:
            cur.execute("SET LOCAL TIME ZONE 'UTC'")  # COPY reads timestamps as UTC
            cur.execute("DELETE FROM ops.instrument; DELETE FROM ops.portfolio")
            cur.execute("DELETE FROM ops.trade_event WHERE recorded_date = %s", (day,))
            for name, table in zip(("instrument", "portfolio", "trade_event"), tables, strict=True):
                _copy(cur, f"ops.{name}", table)
            counts = (instruments.num_rows, portfolios.num_rows, spec.trades, events.num_rows)
            cur.execute(RECORD_RUN, (day, spec.seed, *counts, bars))
    finally:
        raw.close()


def _copy(cur: cursor, table_name: str, table: pa.Table) -> None:
    """COPY an Arrow table into ``table_name`` as CSV (nulls unquoted, strings quoted)."""
    naive = [_without_zone(column) for column in table.columns]  # ~15x faster to render
    sink = pa.BufferOutputStream()
    pacsv.write_csv(
        pa.table(naive, names=table.column_names), sink, pacsv.WriteOptions(include_header=False)
    )
    sql = f"COPY {table_name} ({', '.join(table.column_names)}) FROM STDIN WITH (FORMAT csv)"
    cur.copy_expert(sql, pa.BufferReader(sink.getvalue()), size=1 << 20)


def _without_zone(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """UTC timestamps as naive ones (the COPY session runs in UTC); other columns as they are."""
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        return column.cast(pa.timestamp(column.type.unit))
    return column
