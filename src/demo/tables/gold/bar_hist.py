from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Double, Index, Numeric
from sqlmodel import Field

from src._base.tables.table_type_mixins import TemporalTableBase


class BarHist(TemporalTableBase, table=True):
    """OHLCV bars per instrument at 5m, 15m, 1h and 1d, aggregated from the cleansed
    minute bars: first open, highest high, lowest low, last close, summed volume and a
    volume-weighted VWAP. ``bar_time`` is the bar's open on the timeframe's grid (UTC);
    a bar exists when at least one minute of it does (``bar_count`` says how many)."""

    __table_args__ = (
        Index("bar_hist_instrument_timeframe_time", "instrument_code", "timeframe", "bar_time"),
        {"schema": "gold"},
    )
    business_date: date = Field(primary_key=True)
    timeframe: str = Field(primary_key=True, max_length=8, description="5m, 15m, 1h or 1d")
    instrument_code: str = Field(primary_key=True, max_length=32)
    bar_time: datetime = Field(primary_key=True, sa_type=DateTime(timezone=True))
    open: Decimal = Field(sa_type=Numeric(18, 6))
    high: Decimal = Field(sa_type=Numeric(18, 6))
    low: Decimal = Field(sa_type=Numeric(18, 6))
    close: Decimal = Field(sa_type=Numeric(18, 6))
    volume: float = Field(sa_type=Double)
    vwap: Decimal | None = Field(default=None, sa_type=Numeric(18, 6))
    bar_count: int = Field(description="minute bars in the bar")
    known_at: datetime = Field(
        sa_type=DateTime(timezone=True), description="the system time of the silver it reflects"
    )
