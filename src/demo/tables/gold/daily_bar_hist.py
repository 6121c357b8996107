from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Double, Index, Numeric
from sqlmodel import Field

from src._base.tables.table_type_mixins import TemporalTableBase


class DailyBarHist(TemporalTableBase, table=True):
    """Daily OHLCV per instrument, aggregated from the cleansed minute bars. Every version
    is kept: the view ``gold.daily_bar`` shows the latest, ``gold.daily_bar__as_of(t)``
    what was reported at ``t``."""

    __table_args__ = (
        # an instrument's latest close up to a date, found without reading its history
        Index("daily_bar_hist_instrument_date", "instrument_code", "business_date"),
        {"schema": "gold"},
    )
    business_date: date = Field(primary_key=True)
    instrument_code: str = Field(primary_key=True, max_length=32)
    open: Decimal = Field(sa_type=Numeric(18, 6))
    high: Decimal = Field(sa_type=Numeric(18, 6))
    low: Decimal = Field(sa_type=Numeric(18, 6))
    close: Decimal = Field(sa_type=Numeric(18, 6))
    volume: float = Field(sa_type=Double)
    vwap: Decimal | None = Field(default=None, sa_type=Numeric(18, 6))
    bar_count: int = Field(description="minute bars present (390 in a full session)")
    known_at: datetime = Field(
        sa_type=DateTime(timezone=True), description="the system time of the silver it reflects"
    )
