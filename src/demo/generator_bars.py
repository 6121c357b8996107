"""Market data of the demo's source systems: instrument master, day prices and minute bars.

Every draw comes from ``numpy.random.default_rng([seed, ordinal, stream])``. Draws that
depend on the seed only (the instrument universe) use ordinal 0, so a day's data never
depends on which other days were generated, or in what order.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from src.marketdata.landing import BAR_SCHEMA, UTC_US, bar_file, expect_symbols, write_atomic

if TYPE_CHECKING:
    from src.demo.generator import SourceSpec

EPOCH = date(2026, 1, 1)  # day prices walk from here; earlier days use the base price
UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MINUTE_US = 60_000_000
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
SESSION_OPEN_US = 14 * HOUR_US + 30 * MINUTE_US  # 14:30 UTC
SESSION_MINUTES = 390  # 14:30-20:59 UTC bar open times
ASSET_CLASSES = ("EQUITY", "ETF", "FX", "CRYPTO")
EXCHANGES = ("XNYS", "XNAS", "XLON", "XETR")
CURRENCIES = ("USD", "EUR", "GBP", "JPY")
NAME_SUFFIXES = ("Corp", "Inc", "Holdings", "Group", "PLC", "AG", "Trust", "Partners")
BAR_ANOMALIES = ("bar_gap", "bar_high_below_open_close", "bar_negative_volume")
S_UNIVERSE, S_PRICE, S_BAD_REFERENCE, S_BARS = 1, 2, 3, 4  # rng stream ids


def rng_for(seed: int, ordinal: int, stream: int) -> np.random.Generator:
    """The one way to draw: a generator per (seed, day, stream)."""
    return np.random.default_rng([seed, ordinal, stream])


def day_start_us(day: date) -> int:
    """Microseconds since 1970-01-01 UTC at the start of ``day``."""
    return (day.toordinal() - UNIX_EPOCH_ORDINAL) * DAY_US


def at_18_utc(ordinals: np.ndarray) -> pa.Array:
    """18:00 UTC of each day (given as ordinals), as a timestamptz-ready array."""
    micros = (np.asarray(ordinals, dtype=np.int64) - UNIX_EPOCH_ORDINAL) * DAY_US + 18 * HOUR_US
    return pa.array(micros, type=UTC_US)


@dataclass(frozen=True)
class Universe:
    """The fixed instrument universe of a seed; one entry per instrument."""

    codes: np.ndarray
    asset_class: np.ndarray
    exchange: np.ndarray
    currency: np.ndarray
    base_price: np.ndarray
    volatility: np.ndarray
    name_period: np.ndarray
    name_offset: np.ndarray
    name_suffix: np.ndarray
    list_period: np.ndarray
    list_offset: np.ndarray
    list_gap: np.ndarray


@lru_cache(maxsize=8)
def universe(seed: int, size: int) -> Universe:
    rng = rng_for(seed, 0, S_UNIVERSE)
    codes = np.array(_codes(rng, size), dtype=object)
    return Universe(
        codes=codes,
        asset_class=rng.choice(len(ASSET_CLASSES), size, p=[0.6, 0.2, 0.1, 0.1]),
        exchange=rng.integers(0, len(EXCHANGES), size),
        currency=rng.choice(len(CURRENCIES), size, p=[0.55, 0.2, 0.15, 0.1]),
        base_price=np.clip(rng.lognormal(np.log(80.0), 0.9, size), 5.0, 2000.0).round(2),
        volatility=rng.uniform(0.008, 0.03, size),
        name_period=rng.integers(30, 71, size),  # a name change every ~50 days: ~2% a day
        name_offset=rng.integers(0, 1000, size),
        name_suffix=rng.integers(0, len(NAME_SUFFIXES), size),
        list_period=rng.integers(150, 251, size),  # unlisted ~2 days in ~200: ~1% a day
        list_offset=rng.integers(0, 1000, size),
        list_gap=rng.integers(1, 4, size),
    )


def _codes(rng: np.random.Generator, size: int) -> list[str]:
    """Unique ticker-like codes of 3-5 letters (never 'ZZZ...', kept for unknown codes)."""
    letters = np.array(list(string.ascii_uppercase))
    codes: dict[str, None] = {}
    while len(codes) < size:
        code = "".join(letters[rng.integers(0, 26, int(rng.integers(3, 6)))])
        if not code.startswith("ZZZ"):
            codes.setdefault(code, None)
    return list(codes)


def listed_mask(seed: int, size: int, day: date) -> np.ndarray:
    """Which instruments of the universe are listed on ``day`` (the first one always is)."""
    u = universe(seed, size)
    mask = (day.toordinal() + u.list_offset) % u.list_period >= u.list_gap
    mask[0] = True
    return mask


def listed_indices(spec: SourceSpec, day: date) -> np.ndarray:
    return np.flatnonzero(listed_mask(spec.seed, spec.instruments, day))


def _last_change(u: Universe, ordinal: int) -> np.ndarray:
    """The ordinal of each instrument's latest name change or relisting (listed rows only)."""
    version = (ordinal + u.name_offset) // u.name_period
    renamed = version * u.name_period - u.name_offset
    relisted = ordinal - ((ordinal + u.list_offset) % u.list_period - u.list_gap)
    relisted[0] = renamed[0]  # never unlisted
    return np.maximum(renamed, relisted)


def _bad_reference(spec: SourceSpec, day: date) -> tuple[int, int] | None:
    """(universe index, 0 = asset class 'BOND' / 1 = currency 'XXX'), or None if too few."""
    if spec.instruments < 10:
        return None
    rng = rng_for(spec.seed, day.toordinal(), S_BAD_REFERENCE)
    listed = listed_indices(spec, day)
    return int(listed[rng.integers(0, len(listed))]), int(rng.integers(0, 2))


def _break_reference(
    spec: SourceSpec,
    day: date,
    idx: np.ndarray,
    asset: np.ndarray,
    currency: np.ndarray,
    changed: np.ndarray,
) -> int:
    """Break the day's bad row in place, date it and yesterday's (now fixed) one; count them."""
    bad = _bad_reference(spec, day)
    for picked in (_bad_reference(spec, date.fromordinal(day.toordinal() - 1)), bad):
        if picked is not None and picked[0] in idx:
            changed[np.searchsorted(idx, picked[0])] = day.toordinal()
    if bad is None:
        return 0
    row = np.searchsorted(idx, bad[0])
    if bad[1] == 0:
        asset[row] = "BOND"
    else:
        currency[row] = "XXX"
    return 1


def instrument_master(spec: SourceSpec, day: date) -> tuple[pa.Table, int]:
    """The instrument master at the end of ``day`` and how many rows break reference data."""
    u = universe(spec.seed, spec.instruments)
    idx = listed_indices(spec, day)
    ordinal = day.toordinal()
    version = (ordinal + u.name_offset[idx]) // u.name_period[idx]
    suffix = (u.name_suffix[idx] + version) % len(NAME_SUFFIXES)
    asset = np.array(ASSET_CLASSES, dtype=object)[u.asset_class[idx]]
    currency = np.array(CURRENCIES, dtype=object)[u.currency[idx]]
    changed = _last_change(u, ordinal)[idx]
    bad = _break_reference(spec, day, idx, asset, currency, changed)
    names = [
        f"{code.title()} {NAME_SUFFIXES[s]}" for code, s in zip(u.codes[idx], suffix, strict=True)
    ]
    table = pa.table(
        {
            "instrument_code": pa.array(u.codes[idx], pa.string()),
            "name": pa.array(names, pa.string()),
            "asset_class": pa.array(asset, pa.string()),
            "exchange_mic": pa.array(np.array(EXCHANGES, dtype=object)[u.exchange[idx]]),
            "currency": pa.array(currency, pa.string()),
            "updated_at": at_18_utc(changed),
        }
    )
    return table, bad


@lru_cache(maxsize=16)
def day_prices(seed: int, size: int, day: date) -> np.ndarray:
    """Each instrument's price on ``day``: a daily random walk from :data:`EPOCH`."""
    u = universe(seed, size)
    shocks = np.zeros(size)
    for ordinal in range(EPOCH.toordinal() + 1, day.toordinal() + 1):
        shocks += rng_for(seed, ordinal, S_PRICE).standard_normal(size)
    prices = np.maximum(u.base_price * np.exp(u.volatility * shocks), 1.0)
    prices.setflags(write=False)
    return prices


@dataclass(frozen=True)
class Bars:
    """A day's minute bars, one row per listed instrument; ``keep`` is False for gaps."""

    symbols: list[str]
    columns: dict[str, np.ndarray]
    keep: np.ndarray
    anomalies: dict[str, int]

    @property
    def count(self) -> int:
        return int(self.keep.sum())


def anomaly_count(rate: float, population: int, at_least_one: bool) -> int:
    """``rate`` of ``population``, at least 1 when asked (and the rate is not 0)."""
    count = round(rate * population)
    if at_least_one and rate > 0:
        count = max(count, 1)
    return min(count, population)


def minute_bars(spec: SourceSpec, day: date) -> Bars:
    """1-minute OHLCV bars 14:30-20:59 UTC of every listed instrument, with anomalies."""
    idx = listed_indices(spec, day)
    rng = rng_for(spec.seed, day.toordinal(), S_BARS)
    columns = _clean_bars(rng, spec, day, idx)
    keep = np.ones(columns["open"].shape, dtype=bool)
    anomalies = _inject_bar_anomalies(rng, spec, columns, keep)
    return Bars(list(universe(spec.seed, spec.instruments).codes[idx]), columns, keep, anomalies)


def _clean_bars(
    rng: np.random.Generator, spec: SourceSpec, day: date, idx: np.ndarray
) -> dict[str, np.ndarray]:
    shape = (len(idx), SESSION_MINUTES)
    price = day_prices(spec.seed, spec.instruments, day)[idx, None]
    vol = universe(spec.seed, spec.instruments).volatility[idx, None] / np.sqrt(SESSION_MINUTES)
    path = np.cumsum(rng.standard_normal((len(idx), SESSION_MINUTES + 1)) * vol, axis=1)
    level = price * np.exp(path - path.mean(axis=1, keepdims=True))
    open_, close = level[:, :-1].round(4), level[:, 1:].round(4)
    wicks = np.abs(rng.standard_normal((2, *shape))) * vol * 0.5
    high = (np.maximum(open_, close) * np.exp(wicks[0])).round(4)
    low = (np.minimum(open_, close) * np.exp(-wicks[1])).round(4)
    minute = np.arange(SESSION_MINUTES)
    profile = 1.0 + 1.5 * ((minute - SESSION_MINUTES / 2) / (SESSION_MINUTES / 2)) ** 2
    volume = rng.poisson(rng.lognormal(np.log(300.0), 0.5, (len(idx), 1)) * profile)
    trade_count = np.maximum(rng.binomial(volume, 0.15), volume > 0).astype(np.int64)
    vwap = (low + rng.random(shape) * (high - low)).round(4)
    return {
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "volume": volume.astype(np.int64),
        "trade_count": trade_count,
        "vwap": vwap,
    }


def _inject_bar_anomalies(
    rng: np.random.Generator, spec: SourceSpec, columns: dict[str, np.ndarray], keep: np.ndarray
) -> dict[str, int]:
    """Drop minutes (gaps), push highs below max(open, close), make volumes negative."""
    total, at_least_one = keep.size, spec.instruments >= 5
    rates = (spec.bar_gap_rate, spec.bad_bar_rate, spec.bad_bar_rate)
    counts = [anomaly_count(rate, total, at_least_one) for rate in rates]
    cells = rng.choice(total, min(sum(counts), total), replace=False)
    gaps, highs, volumes = np.split(cells, np.cumsum(counts)[:-1])
    keep.flat[gaps] = False
    top = np.maximum(columns["open"], columns["close"]).flat[highs]
    columns["high"].flat[highs] = (top * 0.998).round(4)
    columns["volume"].flat[volumes] = -columns["volume"].flat[volumes] - 1
    return {
        kind: len(cells) for kind, cells in zip(BAR_ANOMALIES, (gaps, highs, volumes), strict=True)
    }


def write_bar_files(landing_dir: Path, day: date, bars: Bars) -> list[Path]:
    """One Parquet file per listed instrument, each written atomically; stale ones removed."""
    stamps = day_start_us(day) + SESSION_OPEN_US + np.arange(SESSION_MINUTES) * MINUTE_US
    written = []
    for row, symbol in enumerate(bars.symbols):
        keep = bars.keep[row]
        arrays = [pa.array(stamps[keep], UTC_US)] + [
            pa.array(bars.columns[field.name][row][keep], field.type)
            for field in list(BAR_SCHEMA)[1:]
        ]
        table = pa.Table.from_arrays(arrays, schema=BAR_SCHEMA)
        written.append(write_atomic(table, bar_file(landing_dir, symbol, day)))
    _remove_stale(landing_dir, day, set(bars.symbols))
    expect_symbols(landing_dir, day, bars.symbols, only=True)  # the day is complete
    return written


def _remove_stale(landing_dir: Path, day: date, symbols: set[str]) -> None:
    """Delete the day's files of instruments that are not listed (any more) on that day."""
    pattern = bar_file(landing_dir, "*", day).relative_to(landing_dir / "bars_1m")
    for path in (landing_dir / "bars_1m").glob(str(pattern)):
        if path.parents[2].name.removeprefix("symbol=") not in symbols:
            path.unlink()
