"""Independent expectations: what gold should hold, computed with pandas straight from
the generated sources (the operational database and the Parquet files), not from the
warehouse. The rules are restated here from the domain, not imported from transforms."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow.parquet as pq

from src.config import ConnectionSettings
from src.utils.connections import connect_raw

ASSET_CLASSES = {"EQUITY", "ETF", "FX", "CRYPTO"}
EXCHANGES = {"XNYS", "XNAS", "XLON", "XETR"}
CURRENCIES = {"USD", "EUR", "GBP", "JPY"}
ACTIONS = {"BUY": 1, "SELL": -1, "SHORT": -1, "COVER": 1}
STATUSES = {"NEW", "PARTIALLY_FILLED", "FILLED", "AMENDED", "CANCELLED", "SETTLED"}


def query(conn: ConnectionSettings, sql: str, params: tuple = ()) -> pd.DataFrame:
    raw = connect_raw(conn)
    try:
        with raw.cursor() as cur:
            cur.execute(sql, params)
            columns = [c.name for c in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=columns)
    finally:
        raw.close()


def valid_instruments(snapshot: pd.DataFrame) -> dict[str, str]:
    """code -> currency of the snapshot's instruments whose codes resolve."""
    ok = (
        snapshot.name.notna()
        & snapshot.asset_class.isin(ASSET_CLASSES)
        & snapshot.exchange_mic.isin(EXCHANGES)
        & snapshot.currency.isin(CURRENCIES)
    )
    return dict(zip(snapshot.instrument_code[ok], snapshot.currency[ok], strict=True))


def valid_events(events: pd.DataFrame, known: dict[date, set[str]], ports: set[str]):
    """Events that pass every rule, one per event id (exact duplicates dropped)."""
    required = [
        "event_id", "trade_id", "portfolio_code", "instrument_code", "action", "status",
        "quantity", "filled_quantity", "price", "event_time",
    ]  # fmt: skip
    ok = events[required].notna().all(axis=1)
    ok &= (events.quantity > 0) & (events.filled_quantity >= 0)
    ok &= events.filled_quantity <= events.quantity
    ok &= events.price > 0
    ok &= events.action.isin(ACTIONS.keys()) & events.status.isin(STATUSES)
    known_then = [
        code in known[day]
        for code, day in zip(events.instrument_code, events.recorded_date, strict=True)
    ]
    ok &= pd.Series(known_then, index=events.index, dtype=bool)
    ok &= events.portfolio_code.isin(ports)
    return events[ok].sort_values("row_id").drop_duplicates("event_id")


def trades_as_of(valid: pd.DataFrame) -> pd.DataFrame:
    """Each trade's latest state plus its trade date (day of its first event)."""
    first = valid.groupby("trade_id").event_time.min().rename("first_time")
    latest = valid.sort_values(["event_time", "event_id"]).groupby("trade_id").tail(1)
    latest = latest.join(first, on="trade_id")
    latest["trade_date"] = latest.first_time.dt.tz_convert("UTC").dt.date
    latest["sign"] = latest.action.map(ACTIONS)
    return latest


def positions(trades: pd.DataFrame, day: date) -> pd.Series:
    placed = trades[trades.trade_date <= day]
    signed = placed.sign * placed.filled_quantity.astype(float)
    totals = signed.groupby([placed.portfolio_code, placed.instrument_code]).sum()
    return totals[totals != 0]


def valid_bars(landing, day: date, known: set[str]) -> pd.DataFrame:
    """The day's minute bars that silver keeps, sorted by time."""
    frames = []
    for path in sorted(
        (landing / "bars_1m").glob(
            f"symbol=*/year={day.year}/month={day.month:02d}/day={day.day:02d}.parquet"
        )
    ):
        frame = pq.read_table(path).to_pandas()
        frame["symbol"] = path.parts[-4].split("=", 1)[1]
        frames.append(frame)
    bars = pd.concat(frames)
    ok = bars.symbol.isin(known) & (bars.volume >= 0) & (bars.trade_count >= 0)
    ok &= (bars.low > 0) & (bars.high >= bars[["open", "close"]].max(axis=1))
    ok &= bars.low <= bars[["open", "close"]].min(axis=1)
    return bars[ok].sort_values("timestamp").drop_duplicates(["symbol", "timestamp"])


def daily_bars(landing, day: date, known: set[str]) -> pd.DataFrame:
    """Per symbol: open, high, low, close, volume, bar count of the valid minute bars."""
    return _ohlcv(valid_bars(landing, day, known).groupby("symbol"))


def timeframe_bars(landing, day: date, known: set[str], minutes: int) -> pd.DataFrame:
    """Per symbol and bar open on the ``minutes`` grid: OHLCV and bar count."""
    bars = valid_bars(landing, day, known)
    bars["bar_time"] = bars.timestamp.dt.floor(f"{minutes}min")
    return _ohlcv(bars.groupby(["symbol", "bar_time"]))


def _ohlcv(grouped) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "open": grouped.open.first(),
            "high": grouped.high.max(),
            "low": grouped.low.min(),
            "close": grouped.close.last(),
            "volume": grouped.volume.sum(),
            "bar_count": grouped.size(),
        }
    )
