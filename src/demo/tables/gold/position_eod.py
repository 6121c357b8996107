from datetime import date
from decimal import Decimal

from sqlalchemy import Numeric, UniqueConstraint
from sqlmodel import Field

from src._base.tables.table_type_mixins import TransactionalTableBase


class PositionEod(TransactionalTableBase, table=True):
    """End-of-day position per portfolio and instrument: the signed filled quantity of
    every trade placed up to the day, valued at the latest close up to the day."""

    __table_args__ = (
        UniqueConstraint("business_date", "portfolio_code", "instrument_code"),
        {"schema": "gold"},
    )
    business_date: date
    portfolio_code: str = Field(max_length=32)
    instrument_code: str = Field(max_length=32)
    currency_code: str = Field(max_length=3)
    quantity: Decimal = Field(sa_type=Numeric(20, 4))
    close_price: Decimal | None = Field(default=None, sa_type=Numeric(18, 6))
    market_value: Decimal | None = Field(default=None, sa_type=Numeric(24, 6))
