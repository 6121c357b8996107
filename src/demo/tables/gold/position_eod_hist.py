from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Numeric
from sqlmodel import Field

from src._base.tables.table_type_mixins import TemporalTableBase


class PositionEodHist(TemporalTableBase, table=True):
    """End-of-day position per portfolio and instrument: the signed filled quantity of
    every trade placed up to the day, valued at the latest close up to the day. Every
    version is kept: the view ``gold.position_eod`` shows the latest (restated) figures,
    ``gold.position_eod__as_of(t)`` those reported at ``t``."""

    __table_args__ = {"schema": "gold"}
    business_date: date = Field(primary_key=True)
    portfolio_code: str = Field(primary_key=True, max_length=32)
    instrument_code: str = Field(primary_key=True, max_length=32)
    currency_code: str = Field(max_length=3)
    quantity: Decimal = Field(sa_type=Numeric(20, 4))
    close_price: Decimal | None = Field(default=None, sa_type=Numeric(18, 6))
    market_value: Decimal | None = Field(default=None, sa_type=Numeric(24, 6))
    known_at: datetime = Field(
        sa_type=DateTime(timezone=True), description="the system time of the silver it reflects"
    )
