from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Double, Index
from sqlmodel import Field

from src._base.tables.table_type_mixins import TransactionalTableBase


class MinuteBar(TransactionalTableBase, table=True):
    """Cleansed one-minute OHLCV bars: typed, de-duplicated, OHLC invariants hold.
    ``minute_bar_id`` is a name-based UUID of instrument and bar time."""

    __table_args__ = (
        Index("minute_bar_instrument_time_key", "instrument_code", "bar_time", unique=True),
        {"schema": "silver"},
    )
    instrument_code: str = Field(max_length=32)
    bar_time: datetime = Field(sa_type=DateTime(timezone=True), index=True)
    open: float = Field(sa_type=Double)
    high: float = Field(sa_type=Double)
    low: float = Field(sa_type=Double)
    close: float = Field(sa_type=Double)
    volume: float = Field(
        sa_type=Double, description="in the instrument's unit (fractional for crypto)"
    )
    trade_count: int = Field(sa_type=BigInteger)
    vwap: float | None = Field(default=None, sa_type=Double)
