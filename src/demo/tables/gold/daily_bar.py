from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Numeric, UniqueConstraint
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
    open: Decimal = Field(sa_type=Numeric(18, 6))
    high: Decimal = Field(sa_type=Numeric(18, 6))
    low: Decimal = Field(sa_type=Numeric(18, 6))
    close: Decimal = Field(sa_type=Numeric(18, 6))
    volume: int = Field(sa_type=BigInteger)
    vwap: Decimal | None = Field(default=None, sa_type=Numeric(18, 6))
    bar_count: int = Field(description="minute bars present (390 in a full session)")
