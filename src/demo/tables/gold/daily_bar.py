from datetime import date

from sqlalchemy import BigInteger, Double, UniqueConstraint
from sqlmodel import Field

from src._base.tables.table_type_mixins import TransactionalTableBase


class DailyBar(TransactionalTableBase, table=True):
    """Daily OHLCV per instrument, aggregated from the cleansed minute bars."""

    __table_args__ = (
        UniqueConstraint("business_date", "instrument_code"),
        {"schema": "gold"},
    )
    business_date: date
    instrument_code: str = Field(max_length=32)
    open: float = Field(sa_type=Double)
    high: float = Field(sa_type=Double)
    low: float = Field(sa_type=Double)
    close: float = Field(sa_type=Double)
    volume: int = Field(sa_type=BigInteger)
    vwap: float | None = Field(default=None, sa_type=Double)
    bar_count: int = Field(description="minute bars present (390 in a full session)")
